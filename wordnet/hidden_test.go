package wordnet

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSplitSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := newSplit("train")
	for i := range 200 {
		bag := make([]int32, rng.IntN(5)) // some bags empty
		for j := range bag {
			bag[j] = int32(rng.IntN(30))
		}
		s.add(bag, int32(i), Kind(i%3))
	}
	m, err := New(Config{Vocab: 30, Dim: 6, Classes: 200}, 1)
	if err != nil {
		t.Fatal(err)
	}
	all, _, d := m.HiddenVectors(s)
	all = slices.Clone(all)
	for _, n := range []int{0, 1, 37, 199} {
		sub := s.Sample(n, 9)
		if sub.Len() != n || len(sub.Start) != n+1 || len(sub.Kinds) != n {
			t.Fatalf("Sample(%d): %d samples, %d starts, %d kinds", n, sub.Len(), len(sub.Start), len(sub.Kinds))
		}
		// Labels are the original indices here, so they name the source.
		for i := 1; i < n; i++ {
			if sub.Labels[i] <= sub.Labels[i-1] {
				t.Fatalf("Sample(%d): labels %v not distinct and in order", n, sub.Labels)
			}
		}
		h, _, _ := m.HiddenVectors(sub)
		for i, src := range sub.Labels {
			if !slices.Equal(sub.Bag(i), s.Bag(int(src))) || sub.Kinds[i] != s.Kinds[src] {
				t.Fatalf("Sample(%d) sample %d: bag %v kind %v, source %d has %v %v", n, i, sub.Bag(i), sub.Kinds[i], src, s.Bag(int(src)), s.Kinds[src])
			}
			if err := sameHidden(m, sub.Bag(i), h[i*d:(i+1)*d], all[int(src)*d:(int(src)+1)*d]); err != nil {
				t.Fatalf("Sample(%d) sample %d: hidden vector against the source's: %v", n, i, err)
			}
		}
		if again := s.Sample(n, 9); !slices.Equal(again.Labels, sub.Labels) {
			t.Errorf("Sample(%d) with the same seed differs", n)
		}
	}
	if a, b := s.Sample(50, 1), s.Sample(50, 2); slices.Equal(a.Labels, b.Labels) {
		t.Error("two seeds gave the same sample")
	}
	if s.Sample(200, 1) != s || s.Sample(500, 1) != s {
		t.Error("Sample(n ≥ Len) should return the split itself")
	}
}
