// Package lra builds elastic's analogues of the Long Range Arena tasks
// (Tay et al.) on which thesis chapter 7 evaluates dynamic sparse
// attention (appendix C.1): Text, Retrieval and Image, plus ListOps, which
// the thesis left out. Every builder is deterministic: the same seed (and
// the same installed data) gives the same examples in the same order.
//
// # Tasks
//
//   - ListOps: expressions of LRA's grammar — MIN, MAX, MED (median,
//     rounded down) and SM (sum modulo 10) over the digits 0–9, depth ≤ 10,
//     2–10 arguments — strictly between 500 and 2000 tokens long, brackets
//     kept as tokens ("[MAX", "]"), labelled with their value (10
//     classes). The generator follows LRA's generate_tree and main: draws
//     outside the length range are rejected, and the kept expressions are
//     distinct, so no expression is in two splits. LRA's files also wrap
//     every subtree in parentheses; they carry no information and are not
//     tokens here (ParseListOps drops them).
//   - Text: byte-level classification of 1024-byte passages of the King
//     James Bible (bible-kjv-text) into six groups of books — law, history,
//     poetry, prophets, gospels and Acts, epistles and Revelation. LRA
//     classifies IMDb reviews by sentiment; a KJV book group is the
//     nearest task this machine's data allow. The split is book-disjoint:
//     whole books are held out for validation and test (DefaultGroups), so
//     a model must recognise a genre's style and vocabulary in a book it
//     has not seen, not memorise names that occur in one book. That is
//     what keeps the task from being trivial; six groups whose styles
//     differ strongly (psalms against genealogies against letters) keep
//     it from being hopeless. Splits are balanced by class.
//   - Retrieval: pairs of 1024-byte passages, label "same book or not",
//     half positive, drawn within the books of one split of the same
//     book-disjoint split, as LRA's citation-link task pairs two
//     documents. The model is a shared encoder over both passages and
//     an MLP over [u, v, u⊙v, u−v] (nn.DualClassifier).
//   - Image: Fashion-MNIST (dataset-fashion-mnist) as 784-pixel sequences
//     of 8-bit intensities (LRA's grey-scale CIFAR-10 task); train and
//     valid are the first 54000 and the last 6000 training images.
//
// Token ids are bytes (vocabulary 256) for Text, Retrieval and Image and
// 0–14 for ListOps. Passages never carry verse references, which would
// name their book. Configurations and the planned models are tabulated
// in docs/results/attention-tasks.md.
//
// The transformer models themselves are in package nn (Encoder,
// Classifier, DualClassifier, AdamW); the trainer that will fit them to
// these tasks is not written yet.
package lra
