// Package speculate is elastic's runtime: the one pipeline every part of
// the thesis composes,
//
//	input ──► Speculator ──► approximate outputs ──► Selector ──► indices
//	input ──► Executor (only the listed outputs) ──► exact outputs
//	assemble: y = y_exact ⊙ m + y_approx ⊙ (1 − m)   (eq. 3.5), or 0 for dropped outputs
//
// # Overview
//
// Three small interfaces, in the spirit of io.Reader, and one fused Step
// that runs them without allocating:
//
//   - Speculator computes approximate outputs cheaply (a projected,
//     low-precision linear map for dual-module inference and screening;
//     a bilinear Q̃K̃ᵀ for attention next).
//   - Selector turns approximate outputs into the ascending indices of
//     the outputs that matter (the selectors of package sel — threshold,
//     adaptive, top-K — satisfy it as they are).
//   - Executor computes exact outputs for listed indices only, reading
//     nothing of the rest (row-gather GEMVs).
//
// Step writes the approximate outputs into y, selects from them, and lets
// the executor overwrite the selected entries with exact ones: eq. 3.5
// without materialising the mask. With Drop set it zeroes the unselected
// entries instead, as dynamic sparse training and sparse attention do.
//
// Row-structured outputs — attention's scores, one row per query — run
// as a RowStep: a RowSelector speculates and selects a block of rows at
// once into a compressed-row pattern (the approximate rows live only
// while they are selected), and a RowExecutor computes exactly on the
// selection. nn's DSA layers are RowSteps, one per head and sequence.
//
// Where it sits: kernels holds the hot loops the executors and the
// quantized speculators call; spec fits speculators (spec.Speculator
// satisfies Speculator); sel holds the selectors; package sparse holds the
// selection patterns that attention, sparse training and the simulators
// consume. dmi.Linear, dmi.Layer and screen.Classifier are Steps (a
// layer's and an INT4 screener's little module are Fused), nn's DSA heads
// RowSteps; the demo runs
// them together as the whole elastic model.
package speculate
