package wordnet

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/elasticml/elastic/corpus"
)

// Kind says where a sample's text comes from.
type Kind uint8

const (
	Definition Kind = iota // the synset's words and the definition part of its gloss
	Example                // one example sentence of the gloss
	Lemma                  // one word (lemma) of the synset alone
)

func (k Kind) String() string {
	switch k {
	case Definition:
		return "definition"
	case Example:
		return "example"
	}
	return "lemma"
}

// Split is a set of samples: bags of word ids with their class. The
// words of sample i are Words[Start[i]:Start[i+1]].
type Split struct {
	Name   string
	Start  []int32 // len Len()+1
	Words  []int32
	Labels []int32
	Kinds  []Kind
}

// Len returns the number of samples.
func (s *Split) Len() int { return len(s.Labels) }

// Bag returns the word ids of sample i.
func (s *Split) Bag(i int) []int32 { return s.Words[s.Start[i]:s.Start[i+1]] }

func newSplit(name string) *Split { return &Split{Name: name, Start: []int32{0}} }

func (s *Split) add(words []int32, label int32, k Kind) {
	s.Words = append(s.Words, words...)
	s.Start = append(s.Start, int32(len(s.Words)))
	s.Labels = append(s.Labels, label)
	s.Kinds = append(s.Kinds, k)
}

// Options chooses the data and the split. The zero value of each field
// means the default in brackets.
type Options struct {
	Dir string // WordNet directory [DefaultDir]
	// Seed drives the held-out choice [1]; it is independent of the
	// training seed, so models trained with different seeds share a test
	// set.
	Seed uint64
	// HoldOut is the probability that a synset with a definition and at
	// least one example gives one example, chosen at random, to the
	// held-out samples [0.5].
	HoldOut float64
	// ValidFrac is the share of held-out examples that go to the
	// validation split rather than the test split [0.2].
	ValidFrac float64
	// RemoveLemmas removes the synset's own words (and their inflected
	// forms) from every sample, instead of prefixing them to the
	// definition. The task is then to name a concept from its context
	// alone; see the package documentation for why it is not the default.
	RemoveLemmas bool
	// LemmaSamples adds each word of each synset alone as a training
	// sample, teaching the word-to-senses map directly.
	LemmaSamples bool
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.HoldOut == 0 {
		o.HoldOut = 0.5
	}
	if o.ValidFrac == 0 {
		o.ValidFrac = 0.2
	}
	return o
}

// Dataset is the synset classification task: class c is Synsets[c], and
// a sample is a bag of words from the class's gloss with the synset's own
// lemmas removed.
type Dataset struct {
	Synsets []Synset
	Vocab   []string // word id → word, most frequent in training first
	Options Options  // with defaults filled in

	Train, Valid, Test *Split
}

// Classes returns the number of classes, one per synset.
func (d *Dataset) Classes() int { return len(d.Synsets) }

// Load builds the dataset from the WordNet files in opt.Dir. A missing
// database gives an error wrapping ErrMissing.
func LoadDataset(opt Options) (*Dataset, error) {
	ss, err := Load(opt.Dir)
	if err != nil {
		return nil, err
	}
	ex, err := LoadExceptions(opt.Dir)
	if err != nil {
		return nil, err
	}
	return NewDataset(ss, ex, opt)
}

// NewDataset builds the task from parsed synsets, ex (which may be nil)
// helping to recognise inflected lemmas:
//
//   - every synset is a class;
//   - its definition and each example sentence, tokenized by
//     corpus.Tokenize with the synset's lemma forms removed, is a sample;
//     a text left empty is dropped;
//   - with probability HoldOut a synset that has a definition sample and
//     an example sample lends one example to the held-out set, which is
//     split ValidFrac : 1−ValidFrac into validation and test;
//   - the vocabulary is every word of the training samples; held-out words
//     outside it are dropped, which may leave a held-out bag empty.
//
// The result depends only on the synsets, ex and opt.
func NewDataset(ss []Synset, ex Exceptions, opt Options) (*Dataset, error) {
	opt = opt.withDefaults()
	if !(opt.HoldOut > 0 && opt.HoldOut <= 1) || !(opt.ValidFrac > 0 && opt.ValidFrac < 1) {
		return nil, fmt.Errorf("wordnet: hold-out %v must be in (0, 1] and validation share %v in (0, 1)", opt.HoldOut, opt.ValidFrac)
	}
	if len(ss) == 0 {
		return nil, fmt.Errorf("wordnet: no synsets")
	}
	type text struct {
		words []string
		label int32
		kind  Kind
	}
	var train, valid, test []text
	rng := rand.New(rand.NewPCG(opt.Seed, 0x776f72646e6574))
	filt := NewLemmaFilter(ex)
	tokens := func(s *Synset, text string) []string {
		if opt.RemoveLemmas {
			return filt.Tokens(nil, s, text)
		}
		return corpus.Tokenize(nil, text)
	}
	for c := range ss {
		s := &ss[c]
		var def []string
		if !opt.RemoveLemmas {
			for _, l := range s.Lemmas {
				def = corpus.Tokenize(def, strings.ReplaceAll(l, "_", " "))
			}
		}
		def = append(def, tokens(s, s.Definition)...)
		var exs [][]string
		for _, e := range s.Examples {
			if w := tokens(s, e); len(w) > 0 {
				exs = append(exs, w)
			}
		}
		if len(def) > 0 {
			train = append(train, text{def, int32(c), Definition})
		}
		held := -1
		if len(def) > 0 && len(exs) > 0 && rng.Float64() < opt.HoldOut {
			held = rng.IntN(len(exs))
			t := text{exs[held], int32(c), Example}
			if rng.Float64() < opt.ValidFrac {
				valid = append(valid, t)
			} else {
				test = append(test, t)
			}
		}
		for i, w := range exs {
			if i != held {
				train = append(train, text{w, int32(c), Example})
			}
		}
		if opt.LemmaSamples && !opt.RemoveLemmas {
			for _, l := range s.Lemmas {
				if w := corpus.Tokenize(nil, strings.ReplaceAll(l, "_", " ")); len(w) > 0 {
					train = append(train, text{w, int32(c), Lemma})
				}
			}
		}
	}

	counts := map[string]int{}
	for _, t := range train {
		for _, w := range t.words {
			counts[w]++
		}
	}
	vocab := make([]string, 0, len(counts))
	for w := range counts {
		vocab = append(vocab, w)
	}
	slices.SortFunc(vocab, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b))
	})
	ids := make(map[string]int32, len(vocab))
	for i, w := range vocab {
		ids[w] = int32(i)
	}
	build := func(name string, ts []text) *Split {
		sp := newSplit(name)
		var buf []int32
		for _, t := range ts {
			buf = buf[:0]
			for _, w := range t.words {
				if id, ok := ids[w]; ok {
					buf = append(buf, id)
				}
			}
			sp.add(buf, t.label, t.kind)
		}
		return sp
	}
	return &Dataset{
		Synsets: ss, Vocab: vocab, Options: opt,
		Train: build("train", train), Valid: build("valid", valid), Test: build("test", test),
	}, nil
}

// Senses returns, for each class, the other synsets that share one of its
// words (case-insensitively): the senses a classifier must tell apart.
// A list is cut to the first max classes (by class order) if max > 0.
func (d *Dataset) Senses(max int) [][]int32 {
	byWord := map[string][]int32{}
	for c := range d.Synsets {
		for _, l := range d.Synsets[c].Lemmas {
			l = strings.ToLower(l)
			if ws := byWord[l]; len(ws) == 0 || ws[len(ws)-1] != int32(c) {
				byWord[l] = append(ws, int32(c))
			}
		}
	}
	out := make([][]int32, len(d.Synsets))
	for c := range d.Synsets {
		var rel []int32
		for _, l := range d.Synsets[c].Lemmas {
			for _, o := range byWord[strings.ToLower(l)] {
				if o != int32(c) && !slices.Contains(rel, o) {
					rel = append(rel, o)
				}
			}
		}
		slices.Sort(rel)
		if max > 0 && len(rel) > max {
			rel = rel[:max]
		}
		out[c] = slices.Clip(rel)
	}
	return out
}

// Split returns the split called name: "train", "valid" or "test".
func (d *Dataset) Split(name string) (*Split, error) {
	switch name {
	case "train":
		return d.Train, nil
	case "valid":
		return d.Valid, nil
	case "test":
		return d.Test, nil
	}
	return nil, fmt.Errorf("wordnet: split %q: want train, valid or test", name)
}

// VocabFingerprint identifies the vocabulary, so a model never reads word
// ids that mean other words.
func (d *Dataset) VocabFingerprint() string { return fingerprint(d.Vocab) }

// ClassFingerprint identifies the class list (the synset keys in order).
func (d *Dataset) ClassFingerprint() string {
	keys := make([]string, len(d.Synsets))
	for i := range d.Synsets {
		keys[i] = d.Synsets[i].Key()
	}
	return fingerprint(keys)
}

func fingerprint(ss []string) string {
	sum := sha256.Sum256([]byte(strings.Join(ss, "\n")))
	return hex.EncodeToString(sum[:8])
}
