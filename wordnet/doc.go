// Package wordnet reads the WordNet 3.0 database and trains on it a real
// 117,659-class classifier: given a short text, name the synset (word
// sense) it is about.
//
// # Overview
//
// The database comes from the Debian package wordnet-base, installed in
// /usr/share/wordnet (make data installs it). Load parses the four data
// files natively, following wndb(5): each line is synset_offset
// lex_filenum ss_type w_cnt word lex_id [word lex_id ...] p_cnt [pointer
// ...] [frames ...] | gloss, with w_cnt and lex_id in hexadecimal.
// ParseLine checks every count and field and wraps ErrFormat on failure;
// SplitGloss separates a gloss into its definition and its quoted example
// sentences. WordNet 3.0 has 82,115 noun, 13,767 verb, 18,156 adjective
// and 3,621 adverb synsets, 117,659 in all, and the tests check these
// counts and known entries against the installed files. A missing
// database gives an error wrapping ErrMissing that names the package.
// Parsing by hand costs a hundred lines; no Go WordNet reader is in the
// module's dependencies.
//
// # The task
//
// Every synset is a class; LoadDataset orders them noun, verb, adjective,
// adverb, then by offset. Inputs are bags of corpus.Tokenize tokens:
//
//   - a definition sample: the synset's words followed by its definition
//     ("breathe take a breath respire suspire draw air into and expel out
//     of the lungs");
//   - an example sample for each example sentence ("i can breathe better
//     when the air is clean");
//   - with Options.LemmaSamples, one sample per synset word alone
//     ("breathe"), which states the word-to-senses map directly.
//
// The test question is word-sense identification at full scale: with
// probability one half (Options.HoldOut), a synset that has an example
// gives one of them, chosen by a seeded generator, to the held-out set;
// a fifth of those form the validation split and the rest the test split
// (about 3.3k and 13.2k sentences). A held-out sentence usually contains
// one of the synset's words, often inflected, so the model must pick the
// right sense of that word among all 117,659 classes from its context,
// having seen the class's definition and words and, for some classes,
// other examples. The vocabulary is the training samples' words; held-out
// words outside it are dropped. Accuracy is top-1 and top-5 of the full
// softmax over all classes, never over a candidate subset. As a yardstick,
// a TF-IDF nearest-synset retriever over the same training text (without
// the word-alone samples) gets 16% top-1 and 36% top-5 on 3,000 of the
// test sentences.
//
// Removing the synset's own words from every sample (Options.RemoveLemmas,
// with inflections recognised by morphy's detachment rules and the *.exc
// exception lists) gives the harder task of naming a concept from context
// alone. It is not the default because it is close to hopeless at this
// scale, not just hard: the same TF-IDF retriever gets 0.3% top-1, and a
// classifier whose test logits are that flat is a poor workload for
// screening, whose point is to find a peaked classifier's top classes.
//
// # Model and training
//
// A Model is an embedding bag (mean of the word embeddings), a tanh
// layer and a full-softmax output layer:
//
//	x = mean E[w],  h = tanh(W_h·x + b_h),  z = W·h + b,  W: 117,659×d.
//
// HiddenVectors returns the h of every sample of a split: the vectors that
// feed the classifier, on which approximate screening is fitted (train)
// and judged (test).
//
// Train uses sampled softmax with the logQ correction (nn.Sampler and
// nn.SampledSoftmax): each batch's candidate classes are its own targets plus
// Negatives classes drawn uniformly without replacement, and every
// candidate's logit is lowered by the log of its inclusion probability, so
// the sampled normaliser estimates the full one without bias. This costs
// about 2·(batch+negatives)·d multiply-adds per sample and pass instead
// of 2·117,659·d; a negative Negatives trains the full softmax through the
// same code. TrainConfig.Related can add the other senses of each
// target's words to the candidates with certainty (Dataset.Senses); in
// short runs at d = 128 it lowered validation accuracy (7.3% against 8.9%
// top-1 after three epochs), so it is off by default. The optimiser is
// nn.Adagrad with sparse row updates, so the output rows and embeddings
// not in a batch are not touched; the run control (epochs, deadline,
// checkpoints, progress, best epoch) is package train's loop. Each class
// is seen about three times an epoch and the model memorises its training
// text within a few epochs, after which held-out accuracy stalls or falls;
// word dropout delays this, and the trainer keeps the weights of the epoch
// with the best validation top-1 (TrainConfig.BestOut).
//
// scripts/train-wordnet.sh holds the reference recipe: d = 256, batch 256,
// 4096 negatives, Adagrad at 0.1, word dropout 0.5, 20 epochs of 356,381
// samples (117,659 definitions, 31,744 examples, 206,978 words alone).
// On the shared two cores it ran at about 4,000 samples/s, some 100 s an
// epoch with validation; at d = 128 and 2048 negatives validation
// accuracy levelled off near 9% top-1 and 25% top-5 after four epochs.
//
// Checkpoints are safetensors files with the tensors encoder.weight,
// hidden.weight, hidden.bias, decoder.weight and decoder.bias and metadata
// giving the architecture and fingerprints of the vocabulary and class
// list and the split seed, so that a model is never evaluated on a data
// set it was not trained for (Dataset.Check). Every random choice takes a
// seed.
package wordnet
