// Package lm trains and evaluates word-level recurrent language models:
// PyTorch's word_language_model RNNModel and its training recipe, in Go.
//
// # Overview
//
// A Model is an embedding, dropout, one or more LSTM or GRU layers
// (package nn), dropout and a linear decoder to next-word logits,
// optionally with the decoder tied to the embedding. Its weights carry the
// PyTorch state-dict names (encoder.weight, rnn.weight_ih_l0, ...,
// decoder.weight, decoder.bias), so a checkpoint written by Save is a
// safetensors file that PyTorch's safetensors.torch.load_file and
// load_state_dict read directly, and Load reads a PyTorch model exported
// the same way, inferring the architecture from the shapes.
//
// A Trainer follows the example's recipe: the training stream cut into
// batch columns (corpus.Batchify), truncated backpropagation through time
// over windows of BPTT steps with the recurrent state carried between
// windows but detached, plain SGD at learning rate 20 with the total
// gradient norm clipped to 0.25, and the learning rate divided by four
// after each epoch whose validation loss is not the best so far.
// Checkpoints hold the weights plus metadata (architecture, a fingerprint
// of it, epoch, window, learning rate, best validation loss, dropout
// generator state) and are written atomically after every epoch, at
// intervals and when a time limit stops the run; Resume continues from
// one. The run control (epochs, deadline, checkpoint timing, progress,
// best validation) is package train's loop, which the Trainer drives.
// Evaluate reports the mean per-token cross-entropy on a stream in
// the example's way (batch 10 there), whose exponential is perplexity.
//
// For inference, Step advances a single sequence by one token with
// matrix-vector products, and Layers exposes each recurrent layer's
// weights so that dual-module inference can run the layers itself.
//
// In the runtime (package speculate) lm is the model the parts run on:
// dmi replaces its layers, screen its decoder.
package lm
