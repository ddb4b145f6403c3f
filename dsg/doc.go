// Package dsg trains the image classifiers of the thesis's chapter 4,
// dynamic sparse graph (DSG) training, on Fashion-MNIST: an MLP
// 784-300-100-10, LeNet-5 and a VGG-8-like CNN (New), built from package
// nn's layers with explicit forward and backward passes.
//
// # Overview
//
// This is the dense foundation. Train runs the dense baseline: seeded
// shuffling, SGD with momentum (or Adam) on a cosine schedule, a test pass
// after every epoch, safetensors checkpoints that hold the weights, the
// BatchNorm running statistics, the optimizer state and the position in
// the run, so Resume continues exactly where a deadline or Ctrl-C
// stopped it. EvaluateFile scores a checkpoint on the test split.
//
// DSG itself (EnableDSG, Config.Sparsity and Config.DSG) composes
// elastic's speculate → select → execute runtime, Algorithm 5 of the
// thesis, on every hidden FC and convolution layer (the output layer
// stays dense; the order is CONV/FC → ReLU → BN):
//
//   - speculator: dimension-reduction search, the layer's inputs (FC
//     vectors or conv windows) and weights projected by a fixed sparse
//     random projection with s = 3 (package rproj) to k dimensions, k from
//     ε by the JL rule of Table A.1 (ProjectedDim, SearchMACs); the
//     projected weights are refreshed every 50 training iterations, and
//     ỹ = f(X)·f(W)ᵀ + b estimates the activations. Oracle (exact) and
//     random estimates stand in for the comparisons of Figure 4.5(c).
//   - selector: the top-k threshold of the first image's estimates,
//     shared by the batch (Figure A.1), or each image's own; k keeps the
//     fraction 1 − γ of each image's outputs (sel.TopK, sel.Threshold).
//   - executor: one speculate.Step per FC sample or conv window with Drop
//     set, computing only the selected outputs by row gather
//     (speculate.Rows); the selection is a sparse.Pattern (Net.Masks).
//     Backward reads it twice: the weight gradient of each neuron sums
//     only the rows that selected it (the transposed pattern), and the
//     error sent back gathers only the selected weight rows.
//   - with Sparse.Granularity = GranChannel the selection is of whole
//     output channels (FC neurons): ranked by the summed ReLU estimates of
//     the first image (SelectFirst; the search runs on it alone), of the
//     batch (SelectBatch) or of each image (SelectPerSample). A group
//     sharing one channel list runs as GEMMs on our kernels over the
//     packed selected weight rows: forward, error back-propagation and
//     the weight gradient of the selected rows only. This structured
//     variant trades the thesis's vector-wise selection (Figure 4.3b) for
//     executors that skip the masked work at GEMM speed (§4.4 notes that
//     vector-wise sparsity is "not well supported by GEMM"). Inputs zero
//     throughout the batch — the channels the previous sparse layer
//     dropped — are left out of the lowering and the GEMMs, and
//     Sparse.SearchFraction runs the search on a stride of the rows, its
//     projection on our GEMM.
//   - with Sparse.ZVC each sparse layer keeps its input for backward
//     zero-value compressed (bitmask and non-zeros, Figure 4.3c), and
//     backward rebuilds it from that stash alone; Net.StashBytes measures
//     it.
//   - the double mask (Figure 4.2c) repeats each selection after the
//     BatchNorm that follows; "single" keeps BN's output dense and "none"
//     trains the model without BatchNorm (Figure 4.5e).
//
// Test passes run the same on-the-fly search (§A.3), as does
// EvaluateFileWith. RunBench times dense and DSG training steps, whole and
// per layer, paired round by round (`elastic bench dsg`).
//
// Images are NHWC (see package nn), pixels scaled to [0, 1] and
// standardised with the training split's mean and deviation. The VGG-8 of
// the thesis ran on CIFAR-10, which no Debian package ships; the model
// here keeps its shape (six 3×3 convolutions, three poolings, two FC
// layers) at a quarter of its width for 28×28 grey images, and every
// result recorded with it says so.
package dsg
