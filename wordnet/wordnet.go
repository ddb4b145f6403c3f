package wordnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/elasticml/elastic/budget"
)

// DefaultDir is where the Debian package wordnet-base installs the
// database.
const DefaultDir = "/usr/share/wordnet"

// Package is the Debian package that provides the database.
const Package = "wordnet-base"

// MaxFileBytes caps each WordNet file read: data.noun, the largest, is
// 15 MB. A larger file, or a device or pipe that never ends, is refused.
const MaxFileBytes = 256 << 20

var (
	// ErrMissing reports that a data file does not exist; the message
	// names the Debian package that provides it.
	ErrMissing = errors.New("install the Debian package " + Package + " (make data)")

	// ErrFormat reports a data-file line that does not follow wndb(5).
	ErrFormat = errors.New("wordnet: malformed data line")
)

// Synset counts of WordNet 3.0, the version Debian ships.
const (
	NumNoun    = 82115
	NumVerb    = 13767
	NumAdj     = 18156 // head and satellite adjectives
	NumAdv     = 3621
	NumSynsets = NumNoun + NumVerb + NumAdj + NumAdv // 117659
)

// POS is a synset type as written in the ss_type field.
type POS byte

// The synset types of wndb(5).
const (
	Noun         POS = 'n'
	Verb         POS = 'v'
	Adj          POS = 'a'
	AdjSatellite POS = 's'
	Adv          POS = 'r'
)

// File returns the data file holding synsets of type p: "noun", "verb",
// "adj" (also for satellites) or "adv".
func (p POS) File() string {
	switch p {
	case Noun:
		return "noun"
	case Verb:
		return "verb"
	case Adj, AdjSatellite:
		return "adj"
	case Adv:
		return "adv"
	}
	return ""
}

func (p POS) String() string { return string(rune(p)) }

// files lists the data files in the order Load reads them; read only.
var files = [...]POS{Noun, Verb, Adj, Adv}

// Pointer is one relation from a synset (or one of its words) to another
// synset.
type Pointer struct {
	Symbol string // e.g. "@" hypernym, "~" hyponym, "!" antonym
	Offset int64  // byte offset of the target in the data file of POS
	POS    POS
	// Source and Target are word numbers (from 1) for a lexical
	// relation, both 0 for a semantic one.
	Source, Target int
}

// Synset is one line of a data file.
type Synset struct {
	Offset  int64 // byte offset of the line, its identifier within the file
	LexFile int   // lexicographer file number
	POS     POS
	// Lemmas are the synset's words in file order, with underscores for
	// spaces as in the file and adjective markers such as "(p)" removed.
	Lemmas   []string
	Pointers []Pointer
	// Gloss is the text after the bar; Definition and Examples split it:
	// the quoted sentences among its ';'-separated parts are examples,
	// without their quotes and attributions, and the rest, joined by
	// "; ", is the definition.
	Gloss      string
	Definition string
	Examples   []string
}

// Key identifies a synset across files in the form NLTK's offset-pos
// keys use, e.g. "00001740-n"; satellites take the adjective file's "a".
func (s *Synset) Key() string {
	p := s.POS
	if p == AdjSatellite {
		p = Adj
	}
	return fmt.Sprintf("%08d-%c", s.Offset, p)
}

// ParseLine parses one synset line of a data file (without the newline),
// checking the counts and fields that wndb(5) specifies. Errors wrap
// ErrFormat.
func ParseLine(line string) (Synset, error) {
	var s Synset
	bad := func(format string, a ...any) (Synset, error) {
		return Synset{}, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	head, gloss, hasGloss := strings.Cut(line, "|")
	if hasGloss {
		s.Gloss = strings.TrimSpace(gloss)
		s.Definition, s.Examples = SplitGloss(s.Gloss)
	}
	f := strings.Fields(head)
	next := func() (string, bool) {
		if len(f) == 0 {
			return "", false
		}
		v := f[0]
		f = f[1:]
		return v, true
	}
	num := func(name string, base, bits int) (int64, error) {
		v, ok := next()
		if !ok {
			return 0, fmt.Errorf("%w: line ends before %s", ErrFormat, name)
		}
		n, err := strconv.ParseUint(v, base, bits)
		if err != nil {
			return 0, fmt.Errorf("%w: %s %q", ErrFormat, name, v)
		}
		return int64(n), nil
	}
	var err error
	if s.Offset, err = num("synset_offset", 10, 32); err != nil {
		return Synset{}, err
	}
	lex, err := num("lex_filenum", 10, 8)
	if err != nil {
		return Synset{}, err
	}
	s.LexFile = int(lex)
	t, _ := next()
	if len(t) != 1 || POS(t[0]).File() == "" {
		return bad("ss_type %q", t)
	}
	s.POS = POS(t[0])
	nw, err := num("w_cnt", 16, 8)
	if err != nil {
		return Synset{}, err
	}
	if nw == 0 {
		return bad("w_cnt 0")
	}
	for i := range nw {
		w, ok := next()
		if !ok {
			return bad("line ends at word %d of %d", i+1, nw)
		}
		if _, err := num("lex_id", 16, 8); err != nil {
			return Synset{}, err
		}
		if j := strings.IndexByte(w, '('); j > 0 && strings.HasSuffix(w, ")") {
			w = w[:j] // adjective marker: (a), (p) or (ip)
		}
		s.Lemmas = append(s.Lemmas, w)
	}
	np, err := num("p_cnt", 10, 16)
	if err != nil {
		return Synset{}, err
	}
	for i := range np {
		sym, ok := next()
		if !ok {
			return bad("line ends at pointer %d of %d", i+1, np)
		}
		off, err := num("pointer offset", 10, 32)
		if err != nil {
			return Synset{}, err
		}
		pt, _ := next()
		if len(pt) != 1 || POS(pt[0]).File() == "" {
			return bad("pointer %d pos %q", i+1, pt)
		}
		st, _ := next()
		v, err := strconv.ParseUint(st, 16, 16)
		if len(st) != 4 || err != nil {
			return bad("pointer %d source/target %q", i+1, st)
		}
		s.Pointers = append(s.Pointers, Pointer{
			Symbol: sym, Offset: off, POS: POS(pt[0]),
			Source: int(v >> 8), Target: int(v & 0xff),
		})
	}
	if s.POS == Verb {
		nf, err := num("f_cnt", 10, 8)
		if err != nil {
			return Synset{}, err
		}
		for i := range nf {
			if plus, _ := next(); plus != "+" {
				return bad("frame %d starts with %q, want +", i+1, plus)
			}
			if _, err := num("f_num", 10, 8); err != nil {
				return Synset{}, err
			}
			if _, err := num("w_num", 16, 8); err != nil {
				return Synset{}, err
			}
		}
	}
	if len(f) != 0 {
		return bad("unexpected %q before the gloss", f[0])
	}
	return s, nil
}

// SplitGloss splits a gloss into its definition and example sentences.
// The parts are separated by ';' outside double quotes; a part that opens
// with a quote is an example, whose text ends at the closing quote (an
// attribution such as `- Shakespeare` after it is dropped).
func SplitGloss(gloss string) (definition string, examples []string) {
	var defs []string
	inQuote := false
	start := 0
	emit := func(part string) {
		part = strings.TrimSpace(part)
		if rest, ok := strings.CutPrefix(part, `"`); ok {
			if j := strings.IndexByte(rest, '"'); j >= 0 {
				rest = rest[:j]
			}
			if rest = strings.TrimSpace(rest); rest != "" {
				examples = append(examples, rest)
			}
			return
		}
		if part != "" {
			defs = append(defs, part)
		}
	}
	for i := 0; i < len(gloss); i++ {
		switch gloss[i] {
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				emit(gloss[start:i])
				start = i + 1
			}
		}
	}
	emit(gloss[start:])
	return strings.Join(defs, "; "), examples
}

// Parse reads the synsets of one data file from r, skipping the licence
// lines, which begin with two spaces. Errors give the line number and
// wrap ErrFormat or the reader's error.
func Parse(r io.Reader) ([]Synset, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Synset
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "  ") || strings.TrimSpace(line) == "" {
			continue
		}
		s, err := ParseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Load reads data.noun, data.verb, data.adj and data.adv from dir
// (DefaultDir if empty) and returns their synsets in that file order,
// each file in offset order. A missing file gives an error wrapping
// ErrMissing.
func Load(dir string) ([]Synset, error) {
	if dir == "" {
		dir = DefaultDir
	}
	var all []Synset
	for _, p := range files {
		path := filepath.Join(dir, "data."+p.File())
		f, _, err := budget.Open(path, MaxFileBytes)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("wordnet: %s not found: %w", path, ErrMissing)
			}
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		ss, err := Parse(io.LimitReader(f, MaxFileBytes))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("wordnet: %s: %w", path, err)
		}
		all = append(all, ss...)
	}
	return all, nil
}
