// Package clsmetrics scores approximate top-k classifiers against the exact
// classifier they stand in for, and times them against it, so the screening
// method and its baselines are reported by one set of definitions.
//
// # Overview
//
// An extreme classifier computes z = W·h + b over l classes. An
// approximation (screening, SVD-softmax, a graph search over the rows of W)
// returns a few candidate classes with their exact logits. Its quality is
// measured against the full classifier's own predictions on the same inputs,
// not against labels:
//
//   - top-1 agreement (Agreement): the fraction of inputs whose predicted
//     class equals the full classifier's top-1;
//   - top-k recall (TopKRecall): the mean fraction of the full classifier's
//     top-k found in the method's top-k;
//   - candidate recall (RecallAtK): the fraction of inputs whose full top-1
//     is among the method's candidates;
//   - perplexity (Perplexity) from mixed logits, exact for the candidates and
//     approximate elsewhere, so the softmax stays defined over all classes.
//
// A Task bundles a classifier, test inputs and the full classifier's top-1
// and top-5 on them; Task.Time measures a method beside the dense GEMV of
// the full classifier and returns the paired speed-up (warm caches, or cold
// when Task.Evict is set: it runs before every timed call of every
// method), and SweepRow is the row every method's budget sweep reports.
// Task.Sweep is that sweep, once for all methods: each Budget says what a
// method predicts at one setting and what is timed, and the screening,
// HNSW and SVD-softmax sweeps are thin lists of budgets over it.
package clsmetrics
