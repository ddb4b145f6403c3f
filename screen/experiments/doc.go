// Package experiments reproduces the screening method's comparison with its
// baselines, the thesis's Figures 6.10 and 6.11, on the project's own
// classifiers: `elastic screen compare` parses its flags into a Config and
// calls Compare.
//
// # Overview
//
// A Workload is a classifier z = W·h + b with calibration vectors (which
// fit the screeners) and test vectors (which score and time every
// method), and the test labels when known. SynthConfig and WordNetConfig
// load two workloads: a synthetic classifier from screen/synth and the
// decoder of a WordNet model; a command builds the others (a language
// model's decoder over corpus tokens, a classifier file with a file of
// hidden vectors, SplitVectors) and hands them over as a Loader.
//
// Compare computes the full classifier's top-5 on the test vectors once
// (a clsmetrics.Task) and then runs, in the order of Config.Methods:
//
//   - full: the dense GEMV + top-5 itself, speed-up 1 by definition;
//   - screen: a screener fitted at Config.Bits and Config.KRatio (and, for
//     the sensitivity study of Figure 6.11, one per width of BitsList and
//     per k/d of KRatios), at top-m for every m of Ms (screen.Sweep);
//   - svd: SVD-softmax at every preview window × candidate count
//     (svdsoftmax.Sweep);
//   - hnsw: an HNSW graph per space of HNSWSpaces — "ip", the graph on
//     inner products, and "ippt", the graph on Euclidean distances after
//     the inner-product preserving transformation (the standard reduction
//     of maximum inner product search) — at every efSearch of HNSWEf
//     (hnsw.Sweep). Each row says its space.
//
// Every method shares the one sweep of clsmetrics.Task.Sweep: top-1
// agreement and top-5 recall against the full classifier, accuracy
// against the labels when known, and a speed-up paired round by round
// against the full classification on the same pool, with warm caches or,
// with Config.Cold, every cache evicted before each timed call. The
// Result is printed as a markdown table (Result.Markdown), encoded as
// JSON, and drawn as top-1 agreement against speed-up (Result.SavePlot).
// Everything random takes its seed from Config.Seed and the workload's.
package experiments
