package corpus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// realVerses decodes the installed text, or skips the test naming the
// package that provides it.
func realVerses(t testing.TB) []Verse {
	t.Helper()
	if _, err := os.Stat(DefaultPath); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s absent: install the Debian package %s (make data)", DefaultPath, TextPackage)
	}
	verses, err := ReadVerses("")
	if err != nil {
		t.Fatal(err)
	}
	return verses
}

func find(t *testing.T, verses []Verse, book string, ch, vn int) Verse {
	t.Helper()
	for _, v := range verses {
		if books[v.Book].Name == book && v.Chapter == ch && v.Number == vn {
			return v
		}
	}
	t.Fatalf("%s %d:%d not found", book, ch, vn)
	return Verse{}
}

func TestKnownVerses(t *testing.T) {
	verses := realVerses(t)
	cases := []struct {
		book    string
		ch, vn  int
		text    string
		ordinal int // position in the text, -1 if not checked
	}{
		{"Genesis", 1, 1, "In the beginning God created the heaven and the earth.", 0},
		{"Psalms", 23, 1, "The LORD is my shepherd; I shall not want.", -1},
		{"Psalms", 117, 2, "For his merciful kindness is great toward us: and the truth of the LORD endureth for ever. Praise ye the LORD.", -1},
		{"John", 11, 35, "Jesus wept.", -1},
		{"Revelation", 22, 21, "The grace of our Lord Jesus Christ be with you all. Amen.", NumVerses - 1},
	}
	for _, c := range cases {
		v := find(t, verses, c.book, c.ch, c.vn)
		if v.Text != c.text {
			t.Errorf("%s %d:%d = %q, want %q", c.book, c.ch, c.vn, v.Text, c.text)
		}
		if c.ordinal >= 0 && verses[c.ordinal] != v {
			t.Errorf("verse %d is %v, want %v", c.ordinal, verses[c.ordinal], v)
		}
	}
	if got, want := verses[0].String(), "Genesis 1:1 In the beginning God created the heaven and the earth."; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestStructure(t *testing.T) {
	verses := realVerses(t)
	if len(verses) != NumVerses {
		t.Fatalf("%d verses, want %d", len(verses), NumVerses)
	}
	perBook := make([]int, NumBooks)
	prev := Verse{Book: -1}
	for _, v := range verses {
		perBook[v.Book]++
		switch {
		case v.Book != prev.Book:
			if v.Book != prev.Book+1 || v.Chapter != 1 || v.Number != 1 {
				t.Fatalf("%v follows %v", v, prev)
			}
		case v.Chapter != prev.Chapter:
			if v.Chapter != prev.Chapter+1 || v.Number != 1 {
				t.Fatalf("%v follows %v", v, prev)
			}
		case v.Number != prev.Number+1:
			t.Fatalf("%v follows %v", v, prev)
		}
		// Text is kept as stored; Mark 10:19 even ends in a space.
		if strings.TrimSpace(v.Text) == "" {
			t.Fatalf("%v: empty text", v)
		}
		prev = v
	}
	// Well-known verse counts of the KJV.
	for name, want := range map[string]int{
		"Genesis": 1533, "Psalms": 2461, "Obadiah": 21, "Matthew": 1071,
		"3 John": 14, "Revelation": 404,
	} {
		i := slicesIndexName(name)
		if perBook[i] != want {
			t.Errorf("%s has %d verses, want %d", name, perBook[i], want)
		}
	}
	if prev.Book != NumBooks-1 || prev.Chapter != 22 || prev.Number != 21 {
		t.Errorf("last verse %v, want Revelation 22:21", prev)
	}
}

func slicesIndexName(name string) int {
	for i, b := range books {
		if b.Name == name {
			return i
		}
	}
	panic("no book " + name)
}

// TestAgainstReader compares every verse with the output of the Debian
// reader, which decodes the same file with its own code.
func TestAgainstReader(t *testing.T) {
	verses := realVerses(t)
	bible, err := exec.LookPath("bible")
	if err != nil {
		t.Skipf("bible reader not found: install the Debian package %s", ReaderPackage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// -f turns pretty-printing off: one "Ge1:1 text" line a verse.
	out, err := exec.CommandContext(ctx, bible, "-f", "gen1:1-rev22:21").Output()
	if err != nil {
		t.Fatalf("%s: %v", bible, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	i := 0
	for ; sc.Scan(); i++ {
		if i >= len(verses) {
			t.Fatalf("reader prints more than %d verses", len(verses))
		}
		v := verses[i]
		want := fmt.Sprintf("%s%d:%d %s", books[v.Book].Abbrev, v.Chapter, v.Number, v.Text)
		if sc.Text() != want {
			t.Fatalf("verse %d: reader prints %q, we decode %q", i, sc.Text(), want)
		}
	}
	if i != len(verses) {
		t.Fatalf("reader printed %d verses, we decode %d", i, len(verses))
	}
}

func TestMissingNamesPackage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "bible.data")
	for name, load := range map[string]func() error{
		"ReadVerses": func() error { _, err := ReadVerses(path); return err },
		"Load":       func() error { _, err := Load(Options{Path: path}); return err },
	} {
		err := load()
		if !errors.Is(err, ErrMissing) {
			t.Fatalf("%s: err = %v, want ErrMissing", name, err)
		}
		want := "corpus: " + path + " not found: install the Debian package bible-kjv-text (make data)"
		if err.Error() != want {
			t.Errorf("%s: error %q, want %q", name, err, want)
		}
	}
}

func TestParseTextErrors(t *testing.T) {
	full := syntheticText(1)
	cases := map[string]string{
		"no newline":         "title only",
		"no verses":          "title\n",
		"bad reference":      "title\nXx1:1 text\n",
		"missing verse":      "title\nGe1: text\n",
		"zero chapter":       "title\nGe0:1 text\n",
		"no text":            "title\nGe1:1\n",
		"books out of order": "title\nExo1:1 a\nGe1:1 b\n",
		"stops early":        "title\nGe1:1 text\n",
		"missing last book":  strings.Split(full, "Rev1:1")[0],
	}
	for name, text := range cases {
		if _, err := ParseText([]byte(text)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
	if vs, err := ParseText([]byte(full)); err != nil || len(vs) != NumBooks {
		t.Errorf("synthetic text: %d verses, err %v; want %d, nil", len(vs), err, NumBooks)
	}
}

// syntheticText returns a title and perBook one-chapter verses for each
// book, in the layout of decoded bible.data.
func syntheticText(perBook int) string {
	var b strings.Builder
	b.WriteString("Synthetic test text.\n")
	for i, bk := range books {
		for v := 1; v <= perBook; v++ {
			fmt.Fprintf(&b, "%s1:%d %s verse %c, of book %d; the king's word.\n",
				bk.Abbrev, v, bk.Name, 'a'+rune(v%26), i)
		}
	}
	return b.String()
}
