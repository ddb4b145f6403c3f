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
	d, err := LoadDataset(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Classes() != NumSynsets {
		t.Fatalf("%d classes", d.Classes())
	}
	inTrain := make([]bool, d.Classes())
	for _, sp := range []*Split{d.Train, d.Valid, d.Test} {
		var words, empty, defs int
		for i := range sp.Len() {
			b := sp.Bag(i)
			words += len(b)
			if len(b) == 0 {
				empty++
			}
			if sp.Kinds[i] == Definition {
				defs++
			}
			if sp == d.Train {
				inTrain[sp.Labels[i]] = true
			}
		}
		t.Logf("%s: %d samples (%d definitions), %.1f words each, %d empty", sp.Name, sp.Len(), defs, float64(words)/float64(sp.Len()), empty)
	}
	var covered int
	for _, ok := range inTrain {
		if ok {
			covered++
		}
	}
	t.Logf("vocabulary %d words; %d classes have a training sample", len(d.Vocab), covered)
	_ = ss
	_ = strings.Join
}
