// Package nn holds the layers of elastic's recurrent language models —
// embedding, linear, LSTM, GRU, dropout and softmax cross-entropy — and of
// its convolutional image classifiers — Conv2d, BatchNorm, ReLU and
// MaxPool2d — and of its transformer encoders — MultiHeadAttention,
// LayerNorm, GELU, EncoderLayer, Encoder, MLP, Classifier and
// DualClassifier — each with an explicit forward and backward pass, plus
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
// Layers are not safe for concurrent use.
//
// In the runtime (package speculate) nn supplies the exact layers the
// executors stand in for and that training (dsg) masks.
package nn
