package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/elasticml/elastic/budget"
)

// DefaultPath is where the Debian package bible-kjv-text installs the text.
const DefaultPath = "/usr/lib/bible.data"

// Package names a missing-data error asks the user to install.
const (
	TextPackage   = "bible-kjv-text"
	ReaderPackage = "bible-kjv"
)

var (
	// ErrMissing reports that the Bible text file does not exist; the
	// message names the Debian package that provides it.
	ErrMissing = errors.New("install the Debian package " + TextPackage + " (make data)")

	// ErrFormat reports a bible.data file or text that does not parse.
	ErrFormat = errors.New("corpus: malformed Bible data")
)

// NumBooks and NumVerses are the sizes of the King James text.
const (
	NumBooks  = 66
	NumVerses = 31102
)

// A Book is one of the 66 books, in canonical order.
type Book struct {
	Abbrev string // reference prefix used in bible.data, e.g. "Ge"
	Name   string // name as the bible reader prints it, e.g. "Genesis"
}

// books lists the books in the order and with the reference prefixes that
// bible.data uses. It is read only; Books hands out copies.
var books = [NumBooks]Book{
	{"Ge", "Genesis"}, {"Exo", "Exodus"}, {"Lev", "Leviticus"},
	{"Num", "Numbers"}, {"Deu", "Deuteronomy"}, {"Josh", "Joshua"},
	{"Jdgs", "Judges"}, {"Ruth", "Ruth"}, {"1Sm", "1 Samuel"},
	{"2Sm", "2 Samuel"}, {"1Ki", "1 Kings"}, {"2Ki", "2 Kings"},
	{"1Chr", "1 Chronicles"}, {"2Chr", "2 Chronicles"}, {"Ezra", "Ezra"},
	{"Neh", "Nehemiah"}, {"Est", "Esther"}, {"Job", "Job"},
	{"Psa", "Psalms"}, {"Prv", "Proverbs"}, {"Eccl", "Ecclesiastes"},
	{"SSol", "Song of Solomon"}, {"Isa", "Isaiah"}, {"Jer", "Jeremiah"},
	{"Lam", "Lamentations"}, {"Eze", "Ezekiel"}, {"Dan", "Daniel"},
	{"Hos", "Hosea"}, {"Joel", "Joel"}, {"Amos", "Amos"},
	{"Obad", "Obadiah"}, {"Jonah", "Jonah"}, {"Mic", "Micah"},
	{"Nahum", "Nahum"}, {"Hab", "Habakkuk"}, {"Zep", "Zephaniah"},
	{"Hag", "Haggai"}, {"Zec", "Zechariah"}, {"Mal", "Malachi"},
	{"Mat", "Matthew"}, {"Mark", "Mark"}, {"Luke", "Luke"},
	{"John", "John"}, {"Acts", "Acts"}, {"Rom", "Romans"},
	{"1Cor", "1 Corinthians"}, {"2Cor", "2 Corinthians"}, {"Gal", "Galatians"},
	{"Eph", "Ephesians"}, {"Phi", "Philippians"}, {"Col", "Colossians"},
	{"1Th", "1 Thessalonians"}, {"2Th", "2 Thessalonians"}, {"1Tim", "1 Timothy"},
	{"2Tim", "2 Timothy"}, {"Titus", "Titus"}, {"Phmn", "Philemon"},
	{"Heb", "Hebrews"}, {"Jas", "James"}, {"1Pet", "1 Peter"},
	{"2Pet", "2 Peter"}, {"1Jn", "1 John"}, {"2Jn", "2 John"},
	{"3Jn", "3 John"}, {"Jude", "Jude"}, {"Rev", "Revelation"},
}

// Books returns the 66 books in canonical order, Genesis to Revelation;
// Verse.Book indexes this slice.
func Books() []Book {
	b := books
	return b[:]
}

// A Verse is one verse of the text.
type Verse struct {
	Book    int // index into Books()
	Chapter int
	Number  int
	Text    string
}

// String formats v as a reference and its text, e.g.
// "John 11:35 Jesus wept.".
func (v Verse) String() string {
	name := "?"
	if v.Book >= 0 && v.Book < NumBooks {
		name = books[v.Book].Name
	}
	return fmt.Sprintf("%s %d:%d %s", name, v.Chapter, v.Number, v.Text)
}

// MaxDataBytes caps the bible.data file ReadVerses reads: the Debian file
// is 4.4 MB, and a path to anything larger, or to a device or pipe such
// as /dev/zero that never ends, is refused before it is read.
const MaxDataBytes = 64 << 20

// ReadVerses reads and decodes a bible.data file (DefaultPath if path is
// empty). If the file does not exist the error wraps ErrMissing; a file
// over MaxDataBytes or not a regular file is refused.
func ReadVerses(path string) ([]Verse, error) {
	if path == "" {
		path = DefaultPath
	}
	data, err := budget.ReadFile(path, MaxDataBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("corpus: %s not found: %w", path, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	text, err := Decompress(data)
	if err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", path, err)
	}
	verses, err := ParseText(text)
	if err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", path, err)
	}
	return verses, nil
}

// ParseText parses decompressed bible.data text: a title line, then one
// verse a line as "<abbrev><chapter>:<verse> <text>", e.g.
// "Ge1:1 In the beginning ...". Books must appear in canonical order, and
// all 66 must be present.
func ParseText(text []byte) ([]Verse, error) {
	_, rest, ok := bytes.Cut(text, []byte{'\n'})
	if !ok {
		return nil, fmt.Errorf("%w: no verses after the title line", ErrFormat)
	}
	verses := make([]Verse, 0, NumVerses)
	book := 0
	for lineNo := 2; len(rest) > 0; lineNo++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		v, err := parseVerse(line, book)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, lineNo, err)
		}
		book = v.Book
		verses = append(verses, v)
	}
	if len(verses) == 0 || book != NumBooks-1 {
		return nil, fmt.Errorf("%w: text ends in book %d of %d", ErrFormat, book+1, NumBooks)
	}
	return verses, nil
}

// parseVerse parses one verse line whose book is from, or a later one.
func parseVerse(line []byte, from int) (Verse, error) {
	ref, text, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return Verse{}, fmt.Errorf("no text in %.40q", line)
	}
	for b := from; b < NumBooks; b++ {
		num, found := bytes.CutPrefix(ref, []byte(books[b].Abbrev))
		if !found || len(num) == 0 || num[0] < '0' || num[0] > '9' {
			continue
		}
		c, v, ok := bytes.Cut(num, []byte{':'})
		if !ok {
			break
		}
		ch, err1 := strconv.Atoi(string(c))
		vn, err2 := strconv.Atoi(string(v))
		if err1 != nil || err2 != nil || ch <= 0 || vn <= 0 {
			break
		}
		return Verse{Book: b, Chapter: ch, Number: vn, Text: string(text)}, nil
	}
	return Verse{}, fmt.Errorf("bad reference %.40q", ref)
}
