// Package corpus builds a word-level language-modeling corpus from the
// King James Bible, laid out for an LSTM trainer the way PyTorch's
// word_language_model example lays out the Penn Treebank (PTB) and
// WikiText-2, the data sets of the thesis's dual-module inference chapter.
//
// # Overview
//
// The text comes from the Debian package bible-kjv-text, which installs it
// as /usr/lib/bible.data (make data installs it). Load decodes that file,
// splits the verses by book, tokenizes them, builds a vocabulary from the
// training books and returns three int32 token streams; Batchify and
// Batches.Window cut a stream into the batch columns and BPTT windows of the
// PyTorch example (batch 20, BPTT 35 there). A missing file gives an error
// that wraps ErrMissing and names the package to install. Nothing is cached.
//
// # Decoding bible.data
//
// bible.data is the Bible Retrieval System's compressed container: a small
// header and offset table, then the text cut into 64 KiB windows, each an
// independent compress(1)-style LZW stream (the layout is spelled out in
// lzw.go). The package decodes it natively rather than running the bible
// reader (package bible-kjv) and parsing its output: the decoder is about
// 200 lines, needs no second package or subprocess, and its output is
// byte-identical to the reader's `bible -f gen1:1-rev22:21` for all 31102
// verses, which a test checks whenever the reader is installed. Go's
// compress/lzw does not read this variant: it knows neither compress(1)'s
// 16-bit codes with clear codes nor its padding of each code-width change
// to a group of eight codes.
//
// The decoded text is a title line, then one verse a line, e.g.
// "Ge1:1 In the beginning God created the heaven and the earth."; Books
// lists the 66 reference prefixes and names.
//
// # Tokenization
//
// Tokenize follows the PTB language-model data (Mikolov's ptb.*.txt):
//
//   - Text is lower-cased.
//   - Words are runs of letters and digits. An apostrophe or hyphen stays
//     inside a word only between two letters or digits, so "loving-kindness"
//     and "god-ward" are single tokens while the dash in "sin--;" separates.
//   - All other punctuation (, . : ; ? ! ( ) and stray hyphens or
//     apostrophes) is dropped, as in PTB.
//   - A final "'s" is split off as its own token, as PTB does: "king's" is
//     "king" "'s". The plural possessive "sons'" loses its apostrophe and is
//     "sons".
//   - A word with any digit becomes "N" ("3:16" is "N" "N"). The KJV text
//     has no digits; the rule is there for other text fed to Tokenize.
//   - Each verse ends with "<eos>", as each PTB sentence does.
//
// # Vocabulary
//
// The vocabulary is built from the training split only. A word seen fewer
// than MinCount times in training maps to "<unk>"; DefaultMinCount is 2,
// which drops the training hapaxes and leaves 8,323 ids (every word kept
// would give 12,109), the nearer of the two to PTB's 10,000. Ids 0 and 1 are
// "<eos>" and "<unk>" (the constants EOS and Unk); the other words follow by
// descending training count, ties in byte order, so ids are deterministic.
//
// # Splits
//
// Splits are whole books, so no verse of a held-out book is seen in
// training. Validation holds Joshua and John, test holds 1 Samuel and Mark:
// each an Old Testament narrative book and a gospel, giving about 4.8% and
// 5.1% of the tokens; the other 62 books, 90.1%, are training text.
// Options overrides the held-out books and MinCount.
//
// With the defaults the splits hold 741,153 / 39,529 / 41,819 tokens
// (28,077 / 1,537 / 1,488 verses), and <unk> makes up 0.51%, 1.35% and
// 0.99% of the train, valid and test tokens.
package corpus
