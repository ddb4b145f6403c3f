package wordnet

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// loadOnce parses the installed database once for all tests.
var loadOnce = sync.OnceValues(func() ([]Synset, error) { return Load("") })

// installed returns the installed synsets or skips the test.
func installed(t testing.TB) []Synset {
	t.Helper()
	ss, err := loadOnce()
	if errors.Is(err, ErrMissing) {
		t.Skipf("WordNet not installed: install the Debian package %s", Package)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Synset
	}{
		{
			"00002137 03 n 02 abstraction 0 abstract_entity 0 002 @ 00001740 n 0000 + 00692347 v 0101 | a general concept formed by extracting common features from specific examples  ",
			Synset{
				Offset: 2137, LexFile: 3, POS: Noun, Lemmas: []string{"abstraction", "abstract_entity"},
				Pointers:   []Pointer{{"@", 1740, Noun, 0, 0}, {"+", 692347, Verb, 1, 1}},
				Gloss:      "a general concept formed by extracting common features from specific examples",
				Definition: "a general concept formed by extracting common features from specific examples",
			},
		},
		{
			`00002724 29 v 01 choke 0 002 @ 00001740 v 0000 + 14058252 n 0101 01 + 02 00 | breathe with great difficulty, as when experiencing a strong emotion; "She choked with emotion when she spoke about her deceased husband"  `,
			Synset{
				Offset: 2724, LexFile: 29, POS: Verb, Lemmas: []string{"choke"},
				Pointers:   []Pointer{{"@", 1740, Verb, 0, 0}, {"+", 14058252, Noun, 1, 1}},
				Gloss:      `breathe with great difficulty, as when experiencing a strong emotion; "She choked with emotion when she spoke about her deceased husband"`,
				Definition: "breathe with great difficulty, as when experiencing a strong emotion",
				Examples:   []string{"She choked with emotion when she spoke about her deceased husband"},
			},
		},
		{
			// A satellite with a marker and a hex lex id.
			`00001234 00 s 02 big(p) 0 word a 000 | large; "a; b" - Anon; "c"`,
			Synset{
				Offset: 1234, POS: AdjSatellite, Lemmas: []string{"big", "word"},
				Pointers:   nil,
				Gloss:      `large; "a; b" - Anon; "c"`,
				Definition: "large", Examples: []string{"a; b", "c"},
			},
		},
	} {
		got, err := ParseLine(tc.line)
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		if !synsetEqual(got, tc.want) {
			t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", tc.line, got, tc.want)
		}
	}
}

func synsetEqual(a, b Synset) bool {
	return a.Offset == b.Offset && a.LexFile == b.LexFile && a.POS == b.POS &&
		slices.Equal(a.Lemmas, b.Lemmas) && slices.Equal(a.Pointers, b.Pointers) &&
		a.Gloss == b.Gloss && a.Definition == b.Definition && slices.Equal(a.Examples, b.Examples)
}

func TestParseLineErrors(t *testing.T) {
	for _, line := range []string{
		"",
		"abc 03 n 01 entity 0 000 | x",
		"00001740 03 x 01 entity 0 000 | x",
		"00001740 03 n 00 000 | x",
		"00001740 03 n 02 entity 0 000 | x",
		"00001740 03 n 0b entity 0 word 0 000 | x", // w_cnt is hex: 11 words
		"00001740 03 n 01 entity 0 001 @ 00001930 n | x",
		"00001740 03 n 01 entity 0 001 @ 00001930 q 0000 | x",
		"00001740 03 n 01 entity 0 001 @ 00001930 n 00zz | x",
		"00001740 03 n 01 entity 0 000 extra | x",
		"00001740 29 v 01 breathe 0 000 01 - 02 00 | x",
		"00001740 29 v 01 breathe 0 000 | x", // verbs need f_cnt
	} {
		if _, err := ParseLine(line); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseLine(%q): err %v, want ErrFormat", line, err)
		}
	}
}

func TestSplitGloss(t *testing.T) {
	for _, tc := range []struct {
		gloss, def string
		ex         []string
	}{
		{"a b", "a b", nil},
		{`a; b; "c d"; "e"`, "a; b", []string{"c d", "e"}},
		{`"only an example"`, "", []string{"only an example"}},
		{`x; "quote; with semicolon" -- Author`, "x", []string{"quote; with semicolon"}},
		{`x; "unterminated`, "x", []string{"unterminated"}},
		{`x; ""`, "x", nil},
	} {
		def, ex := SplitGloss(tc.gloss)
		if def != tc.def || !slices.Equal(ex, tc.ex) {
			t.Errorf("SplitGloss(%q) = %q, %q; want %q, %q", tc.gloss, def, ex, tc.def, tc.ex)
		}
	}
}

func TestLoadCounts(t *testing.T) {
	ss := installed(t)
	count := map[string]int{}
	for i := range ss {
		count[ss[i].POS.File()]++
	}
	want := map[string]int{"noun": NumNoun, "verb": NumVerb, "adj": NumAdj, "adv": NumAdv}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s synsets: %d, want %d", k, count[k], v)
		}
	}
	if len(ss) != NumSynsets || NumSynsets != 117659 {
		t.Errorf("%d synsets, want %d = 117659", len(ss), NumSynsets)
	}
	keys := map[string]bool{}
	var examples int
	for i := range ss {
		k := ss[i].Key()
		if keys[k] {
			t.Fatalf("duplicate key %s", k)
		}
		keys[k] = true
		examples += len(ss[i].Examples)
	}
	t.Logf("%d synsets, %d example sentences", len(ss), examples)
}

// Known synsets of WordNet 3.0.
func TestKnownSynsets(t *testing.T) {
	ss := installed(t)
	byKey := map[string]*Synset{}
	for i := range ss {
		byKey[ss[i].Key()] = &ss[i]
	}
	for _, tc := range []struct {
		key, def string
		lemmas   []string
		examples int
	}{
		{"00001740-n", "that which is perceived or known or inferred to have its own distinct existence (living or nonliving)", []string{"entity"}, 0},
		{"00002137-n", "a general concept formed by extracting common features from specific examples", []string{"abstraction", "abstract_entity"}, 0},
		{"00001740-v", "draw air into, and expel out of, the lungs", []string{"breathe", "take_a_breath", "respire", "suspire"}, 2},
	} {
		s := byKey[tc.key]
		if s == nil {
			t.Errorf("%s missing", tc.key)
			continue
		}
		if s.Definition != tc.def || !slices.Equal(s.Lemmas, tc.lemmas) || len(s.Examples) != tc.examples {
			t.Errorf("%s: %q %q %d examples; want %q %q %d", tc.key, s.Definition, s.Lemmas, len(s.Examples), tc.def, tc.lemmas, tc.examples)
		}
	}
	if e := byKey["00001740-v"].Examples; len(e) == 2 && e[1] != "The patient is respiring" {
		t.Errorf("breathe example 2 = %q", e[1])
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir())
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), Package) {
		t.Errorf("err %v: want ErrMissing naming %s", err, Package)
	}
	_, err = LoadDataset(Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrMissing) {
		t.Errorf("LoadDataset: err %v, want ErrMissing", err)
	}
}

func TestLoadBadFile(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"noun", "verb", "adj", "adv"} {
		body := "  1 licence line\n"
		if p == "verb" {
			body += "00001740 29 v 01 breathe 0 000 | no frame count\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "data."+p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(dir)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "data.verb") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err %v: want ErrFormat naming data.verb line 2", err)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add("00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 ~ 00002137 n 0000 ~ 04424418 n 0000 | that which is perceived")
	f.Add(`00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 001 * 00005041 v 0000 02 + 02 00 + 08 00 | draw air; "I can breathe"`)
	f.Add(`00001234 00 s 01 big(p) 0 000 | large; "a; b" - Anon`)
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseLine(line)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if len(s.Lemmas) == 0 || s.POS.File() == "" {
			t.Fatalf("accepted %q with %d lemmas, pos %q", line, len(s.Lemmas), s.POS)
		}
		for _, p := range s.Pointers {
			if p.POS.File() == "" || p.Source > 255 || p.Target > 255 {
				t.Fatalf("bad pointer %+v", p)
			}
		}
		// The definition and examples come from the gloss.
		for _, e := range s.Examples {
			if !strings.Contains(s.Gloss, e) {
				t.Fatalf("example %q not in gloss %q", e, s.Gloss)
			}
		}
	})
}
