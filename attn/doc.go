// Package attn trains and evaluates the dense transformer classifiers of
// the four attention tasks (package lra: ListOps, Text, Retrieval, Image),
// the analogues of the thesis's Long Range Arena models (chapter 7,
// appendix C.1).
//
// # Where it sits
//
// These are the models dynamic sparse attention (DSA, thesis chapter 7)
// makes sparse. This package owns the model choice (nn.Classifier, or
// nn.DualClassifier for Retrieval's passage pairs), the data (package
// lra), AdamW with LRA's linear warm-up and rsqrt decay, and the checkpoint
// format; the run control — steps, deadline, periodic checkpoints,
// progress cadence, divergence check, best validation — is the one shared
// training loop, package train, driven through a train.Task.
//
// # Sparse evaluation
//
// EvalOptions.Sparse scores a trained dense checkpoint with DSA masks in
// every layer and no fine-tuning, the experiment of Table 7.1: oracle
// top-k, keep fraction or probability threshold (nn.DSA), or masks from a
// predictor initialised from its seed; Eval.Sparse reports the realised
// sparsity over the split.
//
// # Sparse training
//
// Config.Sparse trains with DSA in every layer, and Config.Init starts the
// run from a trained checkpoint's weights (model adaptation, §7.3.2): the
// masked attention runs in both passes, and with Lambda > 0 the loss is
// the joint loss of eq. 7.7, cross-entropy + λ·Σ_layers MSE(S, S̃), the MSE
// term training the predictors only. Such a checkpoint records the DSA
// configuration in its config and the predictors' W̃_Q, W̃_K (with their
// AdamW moments) under <layer>.attn.dsa.wq and .wk; it loads as a DSA
// model and is evaluated with its own masks. A dense checkpoint still
// loads as before, and as an Init its predictors start from Sparse.Seed.
//
// # Determinism and resuming
//
// Every random choice is seeded: initialisation by Config.Seed, the data by
// Config.DataSeed (ListOps's generator, the KJV passages' balancing), the
// order of training examples by a permutation per pass over the data drawn
// from (Seed, pass), and dropout masks by a generator reseeded from (Seed,
// step) at every step. Nothing random is carried from one step to the
// next but the weights and AdamW's moments, which a checkpoint holds, so a
// run resumed from a checkpoint repeats the uninterrupted run exactly (on
// the same thread count; a GEMM split differently may round differently).
//
// # Checkpoints
//
// A checkpoint is a safetensors file (format "elastic-attn/1" in its
// metadata) holding every parameter under its nn name, AdamW's moments
// under the parameter's name plus ".exp_avg" and ".exp_avg_sq", and in its
// metadata the Config as JSON ("config", with "sparse" for a DSA run), the vocabulary and class counts,
// the loop position ("epoch", "step": the next validation round and step
// within it), AdamW's step count and the best validation accuracy.
package attn
