package corpus

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// syntheticFile writes a bible.data holding syntheticText(perBook) and
// returns its path, so Load can be tested without the Debian package.
func syntheticFile(t *testing.T, perBook int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bible.data")
	if err := os.WriteFile(path, buildData([]byte(syntheticText(perBook)), 4096, 16), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadReal(t testing.TB) *Corpus {
	t.Helper()
	realVerses(t) // skips when the package is absent
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkCorpus asserts the properties every loaded corpus has: streams end
// verses with EOS, stats add up, and the vocabulary is exactly the
// training words seen minCount times, ordered by count then bytes.
func checkCorpus(t *testing.T, c *Corpus, verses []Verse, minCount int) {
	t.Helper()
	var sum SplitStats
	for s := range numSplits {
		st, stream := c.Stats[s], c.Stream(s)
		if st.Tokens != len(stream) {
			t.Errorf("%v: Tokens %d, stream %d", s, st.Tokens, len(stream))
		}
		eos, unk := 0, 0
		for _, id := range stream {
			eos += b2i(id == EOS)
			unk += b2i(id == Unk)
		}
		if eos != st.Verses || unk != st.Unk {
			t.Errorf("%v: %d EOS and %d Unk, stats say %d verses and %d Unk", s, eos, unk, st.Verses, st.Unk)
		}
		if len(stream) > 0 && stream[len(stream)-1] != EOS {
			t.Errorf("%v does not end with EOS", s)
		}
		sum.Books += st.Books
		sum.Verses += st.Verses
		sum.Tokens += st.Tokens
	}
	tokens := 0
	trainCounts := map[string]int{}
	split, err := bookSplits(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range verses {
		words := append(Tokenize(nil, v.Text), EOSWord)
		tokens += len(words)
		if split[v.Book] == Train {
			for _, w := range words {
				trainCounts[w]++
			}
		}
	}
	if sum.Books != NumBooks || sum.Verses != len(verses) || sum.Tokens != tokens {
		t.Errorf("splits sum to %d books, %d verses, %d tokens; want %d, %d, %d",
			sum.Books, sum.Verses, sum.Tokens, NumBooks, len(verses), tokens)
	}

	words := c.Vocab.Words()
	if words[EOS] != EOSWord || words[Unk] != UnkWord {
		t.Fatalf("specials are %q, %q", words[EOS], words[Unk])
	}
	var want []string
	for w, n := range trainCounts {
		if n >= minCount && w != EOSWord {
			want = append(want, w)
		}
	}
	slices.SortFunc(want, func(a, b string) int {
		if d := trainCounts[b] - trainCounts[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	if !slices.Equal(words[2:], want) {
		t.Errorf("vocabulary %d words %.8q..., want %d words %.8q...", len(words)-2, words[2:], len(want), want)
	}
	for i, w := range words {
		if id, ok := c.Vocab.Lookup(w); !ok || id != int32(i) || c.Vocab.Word(id) != w {
			t.Fatalf("word %q: Lookup = %d, %v; want %d", w, id, ok, i)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLoadSynthetic(t *testing.T) {
	path := syntheticFile(t, 3)
	verses, err := ReadVerses(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, minCount := range []int{1, 2, 200} {
		c, err := Load(Options{Path: path, MinCount: minCount})
		if err != nil {
			t.Fatal(err)
		}
		checkCorpus(t, c, verses, minCount)
	}
	c, err := Load(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	// Default split: 2 books of 3 verses each in valid and test.
	for s, want := range map[Split]SplitStats{Valid: {Books: 2, Verses: 6}, Test: {Books: 2, Verses: 6}} {
		if got := c.Stats[s]; got.Books != want.Books || got.Verses != want.Verses {
			t.Errorf("%v: %+v, want %d books, %d verses", s, got, want.Books, want.Verses)
		}
	}
	// "joshua" is only in Joshua's verses, so it is unknown to training.
	if _, ok := c.Vocab.Lookup("joshua"); ok {
		t.Error(`"joshua" from a validation book is in the vocabulary`)
	}
	if c.Stats[Valid].Unk == 0 {
		t.Error("no unknown validation tokens")
	}
}

func TestLoadOptions(t *testing.T) {
	path := syntheticFile(t, 1)
	c, err := Load(Options{Path: path, ValidBooks: []string{"Ruth"}, TestBooks: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stats[Valid].Books != 1 || c.Stats[Test].Books != 0 || c.Stats[Train].Books != NumBooks-1 {
		t.Errorf("books per split %+v", c.Stats)
	}
	bad := []Options{
		{Path: path, ValidBooks: []string{"Genesis", "Maccabees"}},
		{Path: path, ValidBooks: []string{"Ruth"}, TestBooks: []string{"Ruth"}},
		{Path: path, TestBooks: []string{"Mark", "Mark"}},
	}
	for _, o := range bad {
		if _, err := Load(o); !errors.Is(err, ErrBook) {
			t.Errorf("Load(%+v) err = %v, want ErrBook", o, err)
		}
	}
	if _, err := Load(Options{Path: path, MinCount: -1}); err == nil {
		t.Error("negative MinCount accepted")
	}
}

func TestLoadReal(t *testing.T) {
	c := loadReal(t)
	verses := realVerses(t)
	checkCorpus(t, c, verses, DefaultMinCount)

	total := c.Stats[Train].Tokens + c.Stats[Valid].Tokens + c.Stats[Test].Tokens
	frac := func(s Split) float64 { return float64(c.Stats[s].Tokens) / float64(total) }
	if f := frac(Train); f < 0.88 || f > 0.92 {
		t.Errorf("train holds %.3f of the tokens, want about 0.90", f)
	}
	for _, s := range []Split{Valid, Test} {
		if f := frac(s); f < 0.04 || f > 0.06 {
			t.Errorf("%v holds %.3f of the tokens, want about 0.05", s, f)
		}
		if r := c.Stats[s].OOVRate(); r <= 0 || r > 0.03 {
			t.Errorf("%v OOV rate %.4f, want in (0, 0.03]", s, r)
		}
	}
	if n := c.Vocab.Len(); n < 8000 || n > 12000 {
		t.Errorf("vocabulary of %d words, want about 10k", n)
	}
	for _, w := range []string{"the", "lord", "'s", "loving-kindness", "jesus"} {
		if _, ok := c.Vocab.Lookup(w); !ok {
			t.Errorf("%q not in the vocabulary", w)
		}
	}
	if got := c.Vocab.Word(2); got != "the" {
		t.Errorf("most frequent word %q, want \"the\"", got)
	}
	for s, st := range c.Stats {
		t.Logf("%-5v %2d books %5d verses %6d tokens %4d unk (%.2f%%)",
			Split(s), st.Books, st.Verses, st.Tokens, st.Unk, 100*st.OOVRate())
	}
	t.Logf("vocabulary %d words", c.Vocab.Len())
}

func TestLoadDeterministic(t *testing.T) {
	a, b := loadReal(t), loadReal(t)
	if !slices.Equal(a.Vocab.Words(), b.Vocab.Words()) {
		t.Fatal("two loads give different vocabularies")
	}
	for s := range numSplits {
		if !slices.Equal(a.Stream(s), b.Stream(s)) {
			t.Fatalf("two loads give different %v streams", s)
		}
	}
	// The vocabulary does not depend on map iteration order.
	counts := map[string]int{"b": 3, "a": 3, "c": 5, "d": 1, "e": 3}
	want := []string{EOSWord, UnkWord, "c", "a", "b", "e"}
	for range 20 {
		if got := newVocab(maps.Clone(counts), 2).Words(); !slices.Equal(got, want) {
			t.Fatalf("newVocab = %q, want %q", got, want)
		}
	}
}

func TestSample(t *testing.T) {
	c := loadReal(t)
	s := c.Sample(12)
	if want := "now there was a certain man of <unk> of mount ephraim and"; s != want {
		t.Errorf("Sample(12) = %q, want %q", s, want)
	}
	for _, n := range []int{0, 1, 12, 50, 1000, len(c.Test), len(c.Test) + 5} {
		got := c.Vocab.EncodeLines(c.Sample(n))
		if want := c.Test[:min(n, len(c.Test))]; !slices.Equal(got, want) {
			t.Fatalf("EncodeLines(Sample(%d)) differs from the first %d test tokens", n, len(want))
		}
	}
	if lines := strings.Count(c.Sample(len(c.Test)), "\n"); lines != c.Stats[Test].Verses {
		t.Errorf("whole sample has %d lines, test split %d verses", lines, c.Stats[Test].Verses)
	}
}

func BenchmarkLoad(b *testing.B) {
	realVerses(b)
	for b.Loop() {
		if _, err := Load(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
