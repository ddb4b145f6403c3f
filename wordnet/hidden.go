package wordnet

import (
	"math/rand/v2"
	"slices"
)

// Sample returns a split of n samples of s drawn uniformly without
// replacement, kept in their order in s, or s itself when n ≥ s.Len().
// The same seed gives the same samples. Splits list a synset's samples
// together, so a prefix would cover few classes; a sample of the training
// split is what calibrates a screener on the model's hidden vectors, and
// one of the test split what measures it. It panics if n is negative.
func (s *Split) Sample(n int, seed uint64) *Split {
	if n < 0 {
		panic("wordnet: Split.Sample: negative n")
	}
	if n >= s.Len() {
		return s
	}
	rng := rand.New(rand.NewPCG(seed, 0x73_616d_706c65))
	idx := rng.Perm(s.Len())[:n]
	slices.Sort(idx)
	out := newSplit(s.Name)
	for _, i := range idx {
		out.add(s.Bag(i), s.Labels[i], s.Kinds[i])
	}
	return out
}
