// Package nn holds the layers of elastic's recurrent language models —
// embedding, linear, LSTM, GRU, dropout and softmax cross-entropy — and of
// its convolutional image classifiers — Conv2d, BatchNorm, ReLU and
// MaxPool2d — and of its transformer encoders — MultiHeadAttention (dense,
// or dynamic sparse with SetSparse), LayerNorm, GELU, EncoderLayer,
// Encoder, MLP, Classifier and DualClassifier — each with an explicit forward and backward pass, plus
// gradient clipping, the optimizers SGD, Momentum, Adam, AdamW and
// Adagrad (with sparse row updates), a warm-up learning-rate schedule, and
// sampled softmax (Sampler, SampledSoftmax) for classifiers with too many
// classes to score every one while training.
//
// # Overview
//
// The layers follow PyTorch exactly, so weights move between the two
// through safetensors files: a Linear computes y = x·Wᵀ + b with W stored
// out×in row-major; the LSTM stacks its gate rows as [i f g o] and the GRU
// as [r z n], with PyTorch's equations (in particular the GRU's reset gate
// multiplies W_hn·h + b_hn, not h); parameters are named as in a PyTorch
// state dict (weight_ih_l0, bias_hh_l1, weight, bias); and initialisation
// draws from the same uniform ranges. Every random choice takes a
// *rand.Rand from the caller, so runs are reproducible.
//
// There is no autograd. Each layer saves what its backward pass needs
// during Forward, and Backward accumulates parameter gradients into
// Param.Grad and, when asked, writes the gradient of its input. Sequences
// are time-major: row t*batch+j of an activation matrix belongs to step t
// of batch column j. The input projections of all steps, and in the
// backward pass all weight gradients, are single GEMMs over steps×batch
// rows (kernels.Gemm, or the Pool form when a *kernels.Pool is set); only
// the h·W_hhᵀ product and the elementwise gate update run once per step.
// Buffers are kept between calls and grow only when a larger sequence
// arrives, so a training loop does not allocate per step.
//
// The code is hand-written rather than taken from a framework because the
// rest of elastic needs direct access to each layer's weights and to a
// batch-1 step built on kernels.Gemv (Recurrent.Step, LSTMUpdate,
// GRUUpdate), which dual-module inference replaces with its approximate
// kernels, and because Go has no float32 deep-learning library with
// PyTorch-compatible recurrent layers.
//
// # Images
//
// Convolutional layers take images NHWC — sample, row, column, channel,
// the channel fastest — rather than PyTorch's NCHW: Conv2d's im2col row
// for a window is then Kernel runs of Kernel·InC contiguous values, its
// GEMM's n·H·W × OutC result is already the next layer's input with no
// transpose, and BatchNorm sees a rows×C matrix as it does after a Linear.
// For the same reason there is no Flatten layer: n NHWC images are
// already the n × H·W·C matrix a Linear reads (weights exported to
// PyTorch's NCHW flatten order would need their columns permuted).
//
// # Transformers
//
// The transformer layers live here rather than in a package of their own
// so that they reuse Linear, Embedding, CrossEntropy, the optimizers and
// the gradient checks of the other layers. They follow LRA's vanilla
// transformer (thesis chapter 7, appendix C.1): pre-norm blocks
// h = x + MHA(LN(x)), y = h + FFN(LN(h)) with a GELU FFN, learned
// positional embeddings added to token embeddings, a final LayerNorm, mean
// (or first-token) pooling and an MLP head; the retrieval model
// (DualClassifier) encodes both passages with one encoder and classifies
// [u, v, u⊙v, u−v]. Dropout (EncoderConfig.Dropout) acts on the
// embeddings and on each attention and FFN output before its residual
// addition, not on the attention probabilities, which the tiled kernel
// never forms.
//
// Unlike the recurrent layers, a transformer batch is sequence-major and
// ragged: the rows of sequence 0, then those of sequence 1, with a lens
// slice giving each length, so sequences of 500 and 2000 tokens share a
// batch without padding or masks. MultiHeadAttention's forward pass is
// kernels.Attention (tiled, online softmax); its backward pass recomputes
// the softmax 64 query rows at a time, so no l×l matrix is kept between
// the passes. Package lra builds the tasks these models are for.
//
// # Dynamic sparse attention
//
// MultiHeadAttention.SetSparse (Encoder.SetSparse, Classifier.SetSparse,
// DualClassifier.SetSparse for every layer) turns on DSA, thesis chapter
// 7 (dsa.go); without it attention is dense and unchanged. A DSA
// configuration picks, per head and query row, the keys the row keeps:
// exactly min(k, l) of them by top-k (DSA.TopK, or DSA.Keep as a fraction
// of the sequence length), or with DSA.Threshold those of softmax
// probability at least θ (Table 7.1), in aligned groups of DSA.Block = 1,
// 4 or 8 keys (§7.5.1). The scores it selects from are the exact q·kᵀ
// (DSAOracle) or the predictor's S̃ = Q̃K̃ᵀ with Q̃, K̃ = X·P·W̃_{Q,K} (eq. 7.5,
// DSAPredicted): P a fixed sparse ternary projection of the layer's input
// to k_p = σ·dₕ columns (package rproj), W̃_Q and W̃_K one k_p×k_p matrix per
// head, trainable parameters in Params; selection in float32, with Bits 8
// through kernels.PredictTopK on INT8 Q̃, K̃, or with Bits 4 or 2 from
// per-row quantized Q̃, K̃ (package quant; modelled precision, no kernel). The masked attention
// is softmax over the kept scores only (eq. 7.4 with c → ∞), computed by
// kernels.SDDMM, SparseSoftmax and SpMM, and Backward goes through the
// same pattern (SpMMBackward, SparseSoftmaxBackward, SDDMMBackward); the
// mask gets no gradient. Memory is O(n·k) per head except for mask
// selection and the MSE, which form scores 64 query rows at a time. With
// DSA.Lambda > 0, Forward also computes the MSE of eq. 7.6 between S̃ and
// the exact S = q·kᵀ/√dₕ over every entry, and Backward adds λ·∂MSE/∂W̃ to
// the predictor's gradients only, so the gradient is that of the joint
// loss of eq. 7.7 with the MSE stopped at the predictor; SparseStats
// reports it and the realised sparsity.
//
// Predictor parameters exist only while Predicted mode is set and are
// named <layer>.dsa.wq and <layer>.dsa.wk: a dense checkpoint loads into
// the dense parameters, and SetSparse after loading starts the predictor
// from DSA.Seed.
//
// Layers are not safe for concurrent use.
//
// In the runtime (package speculate) nn supplies the exact layers the
// executors stand in for and that training (dsg) masks.
package nn
