// Package experiments reproduces the evaluation tables of the thesis's
// chapter 3 (dual-module inference) and appendix B on the project's own
// language models.
//
// # Overview
//
// A Runner holds the models (a main one, optionally one of the other cell
// and one with half the hidden units), the evaluation and calibration
// tokens and the timing settings; Run builds one table by its thesis
// number and returns it as a report.Table with the thesis's columns, the
// command that reproduces it, notes naming the models and how they were
// trained, plots where the thesis's trade-off is a curve, and the numbers
// behind it for JSON:
//
//   - 3.1: Gaussian noise on the sensitive or the insensitive half of each
//     gate's pre-activations (NoiseRun), cosine similarity to the clean
//     run before and after the nonlinearity, and perplexity;
//   - 3.2, B.1, B.2, B.3: perplexity against the insensitive ratio on the
//     trained models, and the dense and dual-module step times of one
//     layer at the thesis's shapes with random weights (dmi.RunBench);
//   - 3.4: ε of eq. 3.9, and so k, against perplexity, speedup and the
//     little and big modules' shares of the dense step time;
//   - 3.5: the little module's precision against perplexity, fit MSE and
//     size;
//   - B.4: dual-module inference against a dense model of half the width
//     and against magnitude pruning (Prune) of the recurrent weights, with
//     the bytes each reads per step.
//
// Quality runs stream tokens at batch 1 through dmi.LM; little modules are
// fitted once per (model, ε, width) and reused across tables. Everything
// random takes its seed from Config.Seed. The noise experiment needs the
// gate pre-activations, which no production step exposes, so it runs its
// own batch-1 step loop over the model's weights with the nn package's
// exact updates.
package experiments
