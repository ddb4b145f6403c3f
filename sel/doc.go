// Package sel decides which outputs of a layer are sensitive, that is,
// which ones the exact (big) module must compute, given the approximate
// outputs of the cheap (little) module.
//
// # Overview
//
// Dual-module inference (thesis chapter 3) computes every output of a layer
// cheaply as y_approx, predicts from y_approx which outputs lie in the
// insensitive region of the following activation, computes only the
// remaining, sensitive outputs exactly, and assembles the two by eq. 3.5:
//
//	y = y_exact ⊙ m + y_approx ⊙ (1 − m)
//
// where m_i = 1 marks a sensitive output. The same predict-then-compute
// pattern selects critical neurons in dimension-reduction search (chapter 4,
// Figure A.1), output channels in the accelerator of chapter 6 and
// attention entries in chapter 7.
//
// The selectors here implement eq. 3.17 with the threshold θ_th chosen in
// the three ways the thesis gives: fixed (Threshold), adaptive to the
// layer's approximation error (Adaptive, eq. 3.18) and top-K with the
// insensitive ratio as the run-time knob (TopK, eq. 3.19). RowTopK keeps k
// entries per row of a matrix, for attention and DSG, and TopK.SelectBatch
// shares one sample's top-K threshold across a batch as in Figure A.1.
//
// Every selector returns the sensitive indices as an ascending []int32,
// the form kernels.GemvGather takes: copy y_approx into y, then let the
// gather GEMV overwrite the selected rows with exact values, which is
// eq. 3.5 without materialising m. Select reuses the caller's dst and
// allocates nothing when cap(dst) is large enough, so a decoder step can
// run selection thousands of times per second without garbage.
//
// In the runtime (package speculate) these are the Selectors: sel.Selector
// is speculate.Selector, and Mode is the one selection enum dmi and screen
// configure.
package sel
