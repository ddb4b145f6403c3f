// Package demo runs dual-module inference end to end on a language model
// embedded in the binary, so the toolkit's main result needs no download
// and no data install.
//
// # Overview
//
// The package embeds, under assets/, four files written by
// scripts/make-demo-model.sh:
//
//   - model.safetensors: an LSTM language model trained by `elastic lm
//     train` on the King James Bible's training books, exported by
//     `elastic lm export --fp16` (float16 weights, a tied embedding stored
//     once, the training metadata kept);
//   - little.safetensors: its little modules, fitted by `elastic dmi fit`
//     to the float16 model (dmi.Set.Save);
//   - vocab.txt: the corpus vocabulary, one word per line in id order,
//     checked against the fingerprint in the model's metadata;
//   - sample.txt: the start of the held-out test books (1 Samuel, then
//     Mark) as corpus.Corpus.Sample writes it, one verse per line.
//
// Load parses and cross-checks them. Run streams the sample through the
// model at batch 1 with the state carried (dmi.LM.Step): once dense, for
// the reference perplexity, then once per insensitive ratio with the
// dual-module layers. Each dual-module pass also times a dense step every
// few tokens, so both times of a row are measured in the same conditions.
// Times are medians over tokens of the whole step — embedding, recurrent
// layers and decoder — so the speedup is what a caller sees, with the
// decoder, which dual-module inference leaves dense, included.
//
// In the runtime (package speculate) the demo is the whole elastic model:
// dmi.Layers (Steps) for the recurrent layers and a screen.Classifier (a
// Step) as the decoder, composed by dmi.LM.StepWith.
package demo
