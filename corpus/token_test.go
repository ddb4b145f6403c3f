package corpus

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestTokenize(t *testing.T) {
	cases := []struct {
		in, want string // want: tokens joined by single spaces
	}{
		{"In the beginning God created the heaven and the earth.", "in the beginning god created the heaven and the earth"},
		{"Jesus wept.", "jesus wept"},
		{"The LORD is my shepherd; I shall not want.", "the lord is my shepherd i shall not want"},
		{"Then were the king's scribes called", "then were the king 's scribes called"},
		{"O LORD, the LORD's house", "o lord the lord 's house"},
		{"his sons' wives", "his sons wives"},
		{"thy loving-kindness, God-ward:", "thy loving-kindness god-ward"},
		{"and for sin--; and", "and for sin and"},
		{"a-'b c'-d", "a b c d"},
		{"(for he was a man)", "for he was a man"},
		{"Why? Amen! - ' --", "why amen"},
		{"'tis o'er", "tis o'er"},
		{"John 3:16 in 1611", "john N N in N"},
		{"the 1990's, B-52s", "the N 's N"},
		{"Straße ÜBER", "straße über"},
		{"", ""},
		{"  \t\n ", ""},
	}
	for _, c := range cases {
		got := strings.Join(Tokenize(nil, c.in), " ")
		if got != c.want {
			t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokenizeAppends(t *testing.T) {
	dst := Tokenize([]string{"x"}, "A b")
	if !slices.Equal(dst, []string{"x", "a", "b"}) {
		t.Errorf("Tokenize appended %q", dst)
	}
}

// FuzzTokenize checks the properties every token has, whatever the input.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"the king's", "loving-kindness", "3:16", "a--b", "É'x'-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Tokenize(nil, s) {
			if w == "" || strings.ContainsFunc(w, unicode.IsSpace) {
				t.Fatalf("Tokenize(%q) gave token %q", s, w)
			}
			if w != "'s" && (strings.HasPrefix(w, "'") || strings.HasPrefix(w, "-") ||
				strings.HasSuffix(w, "'") || strings.HasSuffix(w, "-")) {
				t.Fatalf("Tokenize(%q) gave token %q with an outer joiner", s, w)
			}
			if w != NumWord && strings.ToLower(w) != w {
				t.Fatalf("Tokenize(%q) gave token %q not in lower case", s, w)
			}
			if w != NumWord && strings.ContainsFunc(w, unicode.IsDigit) {
				t.Fatalf("Tokenize(%q) gave number %q", s, w)
			}
		}
	})
}

func BenchmarkTokenize(b *testing.B) {
	const verse = "Then were the king's scribes called at that time in the third month, " +
		"that is, the month Sivan, on the three and twentieth day thereof; and it was written."
	b.SetBytes(int64(len(verse)))
	var dst []string
	for b.Loop() {
		dst = Tokenize(dst[:0], verse)
	}
}
