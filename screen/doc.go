// Package screen implements approximate screening for extreme
// classification (thesis chapter 6): a small screener guesses a huge
// classifier's logits, a few candidates are chosen from the guess, and
// only their rows of the classifier are read.
//
// # Overview
//
// A classifier z = Wh + b with l classes (eq. 6.1) is one memory-bound
// GEMV over l×d weights. The screener z̃ = W̃·(P·h) + b̃ (eq. 6.3) projects
// h with a sparse ternary k×d P (package rproj; k/d = 0.25 by default) and
// multiplies by an l×k W̃ stored in INT4 (package quant; INT8, INT2, INT16
// and FP32 are options), reading about 3% of W's bytes. Fit chooses W̃ and
// b̃ to minimise eq. 6.4 over calibration hidden vectors, in closed form
// (package spec's streaming normal equations) or by the thesis's SGD
// (Algorithm 3). A Classifier then runs, per input:
//
//   - Screen: the projection, run-time INT8 quantization of P·h and the
//     INT4/INT8 GEMV (package kernels).
//   - Select: the top m approximate logits (kernels.TopK), or every class
//     within a gap of the best, the shift-invariant form of the thesis's
//     threshold.
//   - Exact: a row-gather GEMV over the candidates' rows of W, written
//     over the approximate logits, so the output is the mixed vector of
//     Figure 6.5 and LogSoftmax gives defined probabilities for every
//     class. A batch takes the union of its candidates, whose rows every
//     vector then multiplies from cache (measured faster than gathering
//     them for one GEMM; see ForwardBatch).
//
// Two selections go beyond the thesis and come with guarantees.
// Calibrate is split conformal prediction: on held-out inputs it takes the
// finite-sample quantile of the gap (or rank) of the full classifier's
// top-1 under the screener, so the candidate set contains the full top-1
// with probability ≥ 1 − δ. Certified selection proves it per input: the
// screener's error is bounded by a residual Bound (exact per-class terms
// plus Cauchy–Schwarz in blocks of the calibration eigenbasis, see Bound),
// and m doubles until no class outside the candidates can beat the best
// exact one, so its top-1 always equals the full classifier's. The bound
// is worst-case: on inputs that spread over many directions P cannot see,
// it certifies only with many candidates.
//
// A classifier too large for float32 (10M×512 is 20 GB) may be stored in
// float16 (spec.NewLinearHalf): the full and exact GEMVs then read float16
// rows, and Fit, instead of forming Solve's per-row cross moments, takes
// the fit as a d×k map of W's rows (spec.Stats.SolveMap) and applies it
// block by block, quantizing each block as it is made.
//
// A screener is tied to its classifier by a fingerprint of W and b (Save,
// Load, NewClassifier); Open checks a screener's header against the
// classifier's Shape before either is loaded whole, and File.For pairs it
// with the classifier. RunBench times full against screened
// classification on synthetic classifiers (package screen/synth) with cold
// weights; Sweep times screening over a list of m on a clsmetrics.Task,
// paired with the same full baseline as the SVD-softmax and HNSW sweeps of
// package baseline, for `elastic screen compare`. The package holds only the glue of the method; every kernel,
// the projection, the fit and the quantization come from the packages
// above.
//
// In the runtime (package speculate) a Classifier is one Step: the
// screener is the Speculator (Fused with the top-m selection for INT4),
// sel.TopM or sel.Gap the Selector, the classifier's rows the Executor; the
// certified mode is a refinement loop around the same parts.
package screen
