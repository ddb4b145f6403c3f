// Package dmi implements dual-module inference (thesis chapter 3) for
// fully connected, LSTM and GRU layers: a little module speculates every
// output, a selector picks the sensitive ones, and the big module — the
// original layer — computes only those.
//
// # Overview
//
// Each step of a dual-module layer has three phases, built from the
// project's shared pieces:
//
//   - Speculate. The little module ỹ = W̃_x(P_x x) + W̃_h(P_h h) + b̃
//     (eq. 3.20) projects its inputs with sparse ternary projections
//     (package rproj; k from eq. 3.9, 417 for an LSTM-1500 at ε = 0.5),
//     quantizes the projections to INT8 at run time and multiplies by
//     INT8 or INT4 weights (package kernels). W̃ is fitted in closed form to
//     the exact gate pre-activations over calibration time steps (package
//     spec) and quantized with one scale per row (package quant).
//   - Select. One selector per gate, by the gate's nonlinearity (sigmoid
//     for i, f, o and r, z; tanh for g and n), picks the sensitive rows:
//     fixed threshold, adaptive filter (eq. 3.18) or top-K with the
//     insensitive ratio as a run-time knob (package sel).
//   - Execute. Gather GEMVs compute only the selected rows of W_ih and
//     W_hh — the others are never read — the little module's predictions
//     fill the rest (eq. 3.5), and the exact pointwise update of package
//     nn advances the state.
//
// A GRU needs care: its candidate is tanh(W_in x + b_in + r⊙(W_hn h +
// b_hn)), which no linear little module predicts. The little module
// therefore predicts both halves of the candidate's pre-activation
// separately, and the assembled r (exact where selected) combines them, so
// the exact path stays exact.
//
// Layer and Linear are the dual-module layers; FitLayer and FitLinear fit
// their little modules. Set, Fit, NewLM and LM do the same for every layer
// of a language model of package lm, with perplexity measured by streaming
// at batch 1, and Save and Load store the little modules, tied to the
// model by a fingerprint of its weights; Open checks a file's header against
// the model's architecture (lm.ReadConfig) before either is loaded whole,
// and File.For pairs it with the model. RunBench times the dense and the
// dual-module step of one layer with cold weights.
//
// The package holds only the glue of the method: projections, fitting,
// quantization, selection and every kernel come from the packages above.
package dmi
