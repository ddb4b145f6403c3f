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
// DSG itself — a random-projection speculator estimating each layer's
// activations, top-k selection with the batch sharing one threshold, the
// double mask around BatchNorm and executors that skip the masked work —
// builds on elastic's speculate → select → execute runtime and is not
// here yet: Config.Sparsity accepts only 0.
//
// Images are NHWC (see package nn), pixels scaled to [0, 1] and
// standardised with the training split's mean and deviation. The VGG-8 of
// the thesis ran on CIFAR-10, which no Debian package ships; the model
// here keeps its shape (six 3×3 convolutions, three poolings, two FC
// layers) at a quarter of its width for 28×28 grey images, and every
// result recorded with it says so.
package dsg
