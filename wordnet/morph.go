package wordnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/corpus"
)

// Exceptions maps an irregular inflected form to its base forms, as the
// *.exc files list them ("ran" → "run", "geese" → "goose"). Keys and
// values are lower case with underscores for spaces.
type Exceptions map[string][]string

// ParseExceptions reads one exception file: each line an inflected form
// followed by one or more base forms. Lines with fewer than two fields
// give an error wrapping ErrFormat.
func ParseExceptions(r io.Reader, into Exceptions) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return fmt.Errorf("%w: exception line %d has no base form", ErrFormat, n)
		}
		into[f[0]] = append(into[f[0]], f[1:]...)
	}
	return sc.Err()
}

// LoadExceptions reads noun.exc, verb.exc, adj.exc and adv.exc from dir
// (DefaultDir if empty) into one map. A missing file gives an error
// wrapping ErrMissing.
func LoadExceptions(dir string) (Exceptions, error) {
	if dir == "" {
		dir = DefaultDir
	}
	ex := Exceptions{}
	for _, p := range files {
		path := filepath.Join(dir, p.File()+".exc")
		f, _, err := budget.Open(path, MaxFileBytes)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("wordnet: %s not found: %w", path, ErrMissing)
			}
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		err = ParseExceptions(io.LimitReader(f, MaxFileBytes), ex)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("wordnet: %s: %w", path, err)
		}
	}
	return ex, nil
}

// detach lists morphy(7)'s suffix rules for all parts of speech: an
// inflected form ending in the first string may have a base form ending
// in the second.
var detach = [...][2]string{
	{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"},
	{"shes", "sh"}, {"men", "man"}, {"ies", "y"}, {"es", "e"}, {"es", ""},
	{"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}, {"er", ""},
	{"est", ""}, {"er", "e"}, {"est", "e"},
}

// baseForms appends to dst the candidate base forms of the token w: w
// itself, its exceptions, and every result of the detachment rules,
// including the undoubled consonant of forms like "running".
func (ex Exceptions) baseForms(dst []string, w string) []string {
	dst = append(dst, w)
	dst = append(dst, ex[w]...)
	for _, r := range detach {
		stem, ok := strings.CutSuffix(w, r[0])
		if !ok || len(stem) < 2 {
			continue
		}
		dst = append(dst, stem+r[1])
		if n := len(stem); r[1] == "" && stem[n-1] == stem[n-2] && !strings.ContainsRune("aeiou", rune(stem[n-1])) {
			dst = append(dst, stem[:n-1])
		}
	}
	return dst
}

// LemmaFilter removes a synset's own words from its text. Without it
// the task would be trivial: "breathe" is defined by "draw air into ..."
// but exemplified by "I can breathe better", and the lemma in the example
// names the synset outright.
type LemmaFilter struct {
	ex     Exceptions
	lemmas map[string]bool
	buf    []string
}

// NewLemmaFilter returns a filter that uses ex (which may be nil) to
// recognise irregular forms.
func NewLemmaFilter(ex Exceptions) *LemmaFilter {
	return &LemmaFilter{ex: ex, lemmas: map[string]bool{}}
}

// Tokens appends to dst the corpus.Tokenize tokens of text that are not
// forms of the lemmas of s. A token is a form of a lemma if it, one of
// its exception bases or one of its detached stems equals a token of the
// lemma (a multiword lemma such as physical_entity contributes both
// "physical" and "entity").
func (f *LemmaFilter) Tokens(dst []string, s *Synset, text string) []string {
	clear(f.lemmas)
	var lt []string
	for _, l := range s.Lemmas {
		lt = corpus.Tokenize(lt[:0], strings.ReplaceAll(l, "_", " "))
		for _, w := range lt {
			f.lemmas[w] = true
		}
	}
	toks := corpus.Tokenize(nil, text)
	for _, w := range toks {
		f.buf = f.ex.baseForms(f.buf[:0], w)
		keep := true
		for _, b := range f.buf {
			if f.lemmas[b] {
				keep = false
				break
			}
		}
		if keep {
			dst = append(dst, w)
		}
	}
	return dst
}
