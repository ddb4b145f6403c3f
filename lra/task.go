package lra

import "github.com/elasticml/elastic/corpus"

// An Example is one sequence of token ids and its class.
type Example struct {
	Tokens []int32
	Label  int32
}

// A Pair is two sequences and the class of the pair (the retrieval task:
// 1 when both passages come from the same book).
type Pair struct {
	A, B  []int32
	Label int32
}

// Split names a part of a data set; it is corpus's, so the KJV tasks and
// the language-model corpus speak of the same train, valid and test.
type Split = corpus.Split

// The splits.
const (
	Train = corpus.Train
	Valid = corpus.Valid
	Test  = corpus.Test
)

// Task is a single-sequence classification task: token ids in
// [0, Vocab), sequences of at most MaxLen tokens, labels in [0, Classes).
type Task struct {
	Name                   string
	Vocab, Classes, MaxLen int
	ClassNames             []string // nil when classes are just numbers
	Train, Valid, Test     []Example
}

// Split returns the examples of split s.
func (t *Task) Split(s Split) []Example {
	return [][]Example{t.Train, t.Valid, t.Test}[s]
}

// PairTask is a classification task over pairs of sequences.
type PairTask struct {
	Name                   string
	Vocab, Classes, MaxLen int
	Train, Valid, Test     []Pair
}

// Split returns the pairs of split s.
func (t *PairTask) Split(s Split) []Pair {
	return [][]Pair{t.Train, t.Valid, t.Test}[s]
}
