package lra

import (
	"errors"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/corpus"
)

// excerptVerses parses testdata/kjv-excerpt.txt: bible.data's decoded
// layout holding the first eight verses of every book.
func excerptVerses(t testing.TB) []corpus.Verse {
	t.Helper()
	data, err := os.ReadFile("testdata/kjv-excerpt.txt")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := corpus.ParseText(data)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// realVerses decodes the installed KJV or skips the test, naming the
// package that provides it.
func realVerses(t testing.TB) []corpus.Verse {
	t.Helper()
	if _, err := os.Stat(corpus.DefaultPath); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s absent: install the Debian package %s (make data) to run this test on the whole KJV", corpus.DefaultPath, corpus.TextPackage)
	}
	vs, err := corpus.ReadVerses("")
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func text(tokens []int32) string {
	b := make([]byte, len(tokens))
	for i, v := range tokens {
		b[i] = byte(v)
	}
	return string(b)
}

// bookOf returns the index of the book whose joined text holds p, or −1.
func bookOf(bt *[corpus.NumBooks]bookText, p string) int {
	return slices.IndexFunc(bt[:], func(x bookText) bool { return strings.Contains(x.text, p) })
}

func TestPassagesKnownBytes(t *testing.T) {
	bt := booksText(excerptVerses(t))
	ps := bt[0].passages(60, 60)
	// Genesis 1:1 is 54 bytes; verses are joined by one space, so 1:2
	// starts at byte 55 and 1:3 is the first verse start at or after 60.
	for i, want := range []string{
		"In the beginning God created the heaven and the earth. And t",
		"And God said, Let there be light: and there was light. And G",
	} {
		if got := text(ps[i]); got != want {
			t.Errorf("Genesis passage %d is %q, want %q", i, got, want)
		}
	}
	for _, p := range ps {
		if len(p) != 60 {
			t.Errorf("passage of %d bytes, want 60", len(p))
		}
	}
}

func TestTextTask(t *testing.T) {
	vs := excerptVerses(t)
	cfg := TextConfig{Seed: 3, Bytes: 300, TrainStride: 150, Groups: DefaultGroups()}
	task, err := Text(vs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	class, split, err := splitBooks(cfg.Groups)
	if err != nil {
		t.Fatal(err)
	}
	bt := booksText(vs)
	ref := regexp.MustCompile(`[A-Za-z]+[0-9]+:[0-9]+`)
	for s := Train; s <= Test; s++ {
		ex := task.Split(s)
		count := make([]int, task.Classes)
		for i, e := range ex {
			p := text(e.Tokens)
			if len(p) != cfg.Bytes {
				t.Fatalf("%s %d: %d bytes, want %d", s, i, len(p), cfg.Bytes)
			}
			b := bookOf(&bt, p)
			if b < 0 {
				t.Fatalf("%s %d: passage %.40q is in no book", s, i, p)
			}
			if split[b] != s || int32(class[b]) != e.Label {
				t.Errorf("%s %d: from %s (split %s, class %d) but labelled %d", s, i, corpus.Books()[b].Name, split[b], class[b], e.Label)
			}
			if ref.MatchString(p) {
				t.Errorf("%s %d: passage carries a verse reference: %.60q", s, i, p)
			}
			count[e.Label]++
		}
		for c := range count {
			if count[c] != count[0] || count[0] == 0 {
				t.Fatalf("%s: class counts %v, want equal and positive", s, count)
			}
		}
	}
	again, err := Text(vs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for s := Train; s <= Test; s++ {
		if !slices.EqualFunc(task.Split(s), again.Split(s), func(a, b Example) bool {
			return a.Label == b.Label && slices.Equal(a.Tokens, b.Tokens)
		}) {
			t.Fatalf("%s: the same seed gave different data", s)
		}
	}
	cfg.Seed = 4
	other, err := Text(vs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if slices.EqualFunc(task.Train, other.Train, func(a, b Example) bool { return slices.Equal(a.Tokens, b.Tokens) }) {
		t.Error("seeds 3 and 4 gave the same training order")
	}
}

func TestTextErrors(t *testing.T) {
	vs := excerptVerses(t)
	g := DefaultGroups()
	for name, cfg := range map[string]TextConfig{
		"no bytes":          {Bytes: 0, TrainStride: 1, Groups: g},
		"one group":         {Bytes: 100, TrainStride: 100, Groups: g[:1]},
		"unknown book":      {Bytes: 100, TrainStride: 100, Groups: append(slices.Clone(g[:1]), Group{"x", "Genesis", "Tobit", nil, nil})},
		"overlapping":       {Bytes: 100, TrainStride: 100, Groups: append(slices.Clone(g[:1]), Group{"x", "Exodus", "Joshua", []string{"Joshua"}, []string{"Judges"}})},
		"held out outside":  {Bytes: 100, TrainStride: 100, Groups: []Group{g[0], {"x", "Joshua", "Esther", []string{"Genesis"}, []string{"Ruth"}}}},
		"no test book":      {Bytes: 100, TrainStride: 100, Groups: []Group{g[0], {"x", "Joshua", "Esther", []string{"Ruth"}, nil}}},
		"no training book":  {Bytes: 100, TrainStride: 100, Groups: []Group{g[0], {"x", "Ruth", "1 Samuel", []string{"Ruth"}, []string{"1 Samuel"}}}},
		"passages too long": {Bytes: 5000, TrainStride: 100, Groups: g},
	} {
		if _, err := Text(vs, cfg); !errors.Is(err, ErrText) {
			t.Errorf("%s: got %v, want ErrText", name, err)
		}
	}
}

func TestRetrievalTask(t *testing.T) {
	vs := excerptVerses(t)
	cfg := RetrievalConfig{Seed: 5, Bytes: 250, Pairs: [3]int{200, 40, 40}, Groups: DefaultGroups()}
	task, err := Retrieval(vs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, split, err := splitBooks(cfg.Groups)
	if err != nil {
		t.Fatal(err)
	}
	bt := booksText(vs)
	for s := Train; s <= Test; s++ {
		pairs := task.Split(s)
		if len(pairs) != cfg.Pairs[s] {
			t.Fatalf("%s: %d pairs, want %d", s, len(pairs), cfg.Pairs[s])
		}
		pos := 0
		for i, p := range pairs {
			a, b := text(p.A), text(p.B)
			if len(a) != cfg.Bytes || len(b) != cfg.Bytes {
				t.Fatalf("%s %d: %d and %d bytes, want %d", s, i, len(a), len(b), cfg.Bytes)
			}
			if a == b {
				t.Errorf("%s %d: a passage paired with itself", s, i)
			}
			ba, bb := bookOf(&bt, a), bookOf(&bt, b)
			if ba < 0 || bb < 0 || split[ba] != s || split[bb] != s {
				t.Fatalf("%s %d: passages from books %d and %d, not of this split", s, i, ba, bb)
			}
			if (ba == bb) != (p.Label == 1) {
				t.Errorf("%s %d: books %d and %d labelled %d", s, i, ba, bb, p.Label)
			}
			pos += int(p.Label)
		}
		if 2*pos != len(pairs) {
			t.Errorf("%s: %d positive of %d, want half", s, pos, len(pairs))
		}
	}
	again, err := Retrieval(vs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(task.Train, again.Train, func(a, b Pair) bool {
		return a.Label == b.Label && slices.Equal(a.A, b.A) && slices.Equal(a.B, b.B)
	}) {
		t.Error("the same seed gave different pairs")
	}
	for name, c := range map[string]RetrievalConfig{
		"odd pairs":   {Bytes: 250, Pairs: [3]int{3, 2, 2}, Groups: DefaultGroups()},
		"no bytes":    {Bytes: 0, Pairs: [3]int{2, 2, 2}, Groups: DefaultGroups()},
		"too long":    {Bytes: 900, Pairs: [3]int{2, 2, 2}, Groups: DefaultGroups()},
		"empty split": {Bytes: 250, Pairs: [3]int{2, 2, 2}, Groups: nil},
	} {
		if _, err := Retrieval(vs, c); !errors.Is(err, ErrText) {
			t.Errorf("%s: got %v, want ErrText", name, err)
		}
	}
}

// TestRealText builds the default Text and Retrieval tasks from the
// installed KJV and logs their sizes (docs/results/attention-tasks.md
// quotes them).
func TestRealText(t *testing.T) {
	vs := realVerses(t)
	task, err := Text(vs, DefaultText(1))
	if err != nil {
		t.Fatal(err)
	}
	for s := Train; s <= Test; s++ {
		n := len(task.Split(s))
		for i, e := range task.Split(s) {
			if len(e.Tokens) < 1000 {
				t.Fatalf("%s %d: %d bytes, want ≥ 1000", s, i, len(e.Tokens))
			}
		}
		if n < 6*20 {
			t.Errorf("%s: %d passages, want at least 20 per class", s, n)
		}
		t.Logf("text %s: %d passages (%d per class) of %d bytes", s, n, n/task.Classes, task.MaxLen)
	}
	perClassAvailable(t, vs, DefaultText(1))
	rt, err := Retrieval(vs, DefaultRetrieval(1))
	if err != nil {
		t.Fatal(err)
	}
	for s := Train; s <= Test; s++ {
		t.Logf("retrieval %s: %d pairs", s, len(rt.Split(s)))
	}
}

// perClassAvailable logs how many passages each class has per split before
// balancing, so the choice of held-out books can be checked.
func perClassAvailable(t *testing.T, vs []corpus.Verse, cfg TextConfig) {
	t.Helper()
	per, err := textPassages(vs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for s, classes := range per {
		n := make([]int, len(classes))
		for c, ps := range classes {
			n[c] = len(ps)
		}
		t.Logf("%s passages per class before balancing: %v", Split(s), n)
	}
}
