package wordnet

import (
	"slices"
	"strings"
	"testing"
)

func TestLemmaFilter(t *testing.T) {
	ex := Exceptions{"ran": {"run"}, "geese": {"goose"}}
	f := NewLemmaFilter(ex)
	for _, tc := range []struct {
		lemmas []string
		text   string
		want   []string
	}{
		{[]string{"breathe", "respire"}, "The patient is respiring and breathes", []string{"the", "patient", "is", "and"}},
		{[]string{"run"}, "he ran, running, runs; the runner", []string{"he", "the"}},
		{[]string{"goose"}, "Geese fly", []string{"fly"}},
		{[]string{"physical_entity"}, "an entity that has physical existence", []string{"an", "that", "has", "existence"}},
		{[]string{"box"}, "boxes of books", []string{"of", "books"}},
	} {
		s := &Synset{Lemmas: tc.lemmas}
		if got := f.Tokens(nil, s, tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("%v %q: %q, want %q", tc.lemmas, tc.text, got, tc.want)
		}
	}
}

func TestDatasetInstalled(t *testing.T) {
	ss := installed(t)
	ex, err := LoadExceptions("")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDataset(ss, ex, Options{LemmaSamples: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Classes() != NumSynsets || d.Classes() < 100000 {
		t.Fatalf("%d classes", d.Classes())
	}
	inTrain := make([]bool, d.Classes())
	for _, sp := range []*Split{d.Train, d.Valid, d.Test} {
		var words int
		kinds := map[Kind]int{}
		for i := range sp.Len() {
			words += len(sp.Bag(i))
			kinds[sp.Kinds[i]]++
			if sp == d.Train {
				inTrain[sp.Labels[i]] = true
			} else if !inTrain[sp.Labels[i]] || sp.Kinds[i] != Example {
				t.Fatalf("%s sample %d: class %d without training sample, or kind %v", sp.Name, i, sp.Labels[i], sp.Kinds[i])
			}
		}
		t.Logf("%s: %d samples %v, %.1f words each", sp.Name, sp.Len(), kinds, float64(words)/float64(sp.Len()))
	}
	if d.Valid.Len() < 2000 || d.Test.Len() < 10000 || d.Train.Len() < 300000 {
		t.Errorf("splits of %d, %d, %d samples", d.Train.Len(), d.Valid.Len(), d.Test.Len())
	}
	t.Logf("vocabulary %d words", len(d.Vocab))

	// Same options, same data set; another seed, another split.
	d2, _ := NewDataset(ss, ex, Options{LemmaSamples: true})
	d3, _ := NewDataset(ss, ex, Options{LemmaSamples: true, Seed: 2})
	if !slices.Equal(d.Test.Words, d2.Test.Words) || d.VocabFingerprint() != d2.VocabFingerprint() {
		t.Error("the same seed gave two data sets")
	}
	if slices.Equal(d.Test.Labels, d3.Test.Labels) {
		t.Error("seeds 1 and 2 gave the same test split")
	}

	// Without lemmas, no sample holds its synset's own words.
	r, err := NewDataset(ss, ex, Options{RemoveLemmas: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.Test.Len() {
		s := &ss[r.Test.Labels[i]]
		for _, w := range r.Test.Bag(i) {
			for _, l := range s.Lemmas {
				if strings.EqualFold(r.Vocab[w], l) {
					t.Fatalf("test sample %d of %s holds its lemma %q", i, s.Key(), l)
				}
			}
		}
	}
}
