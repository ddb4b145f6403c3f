package corpus

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// DefaultMinCount is the training count a word needs to keep its own id;
// rarer words become UnkWord. With the default split it gives a
// vocabulary of 8,323 words, the count nearest the Penn Treebank's 10k.
const DefaultMinCount = 2

// DefaultValidBooks returns the books held out for validation, an Old
// Testament history and a gospel: 4.8% of the tokens.
func DefaultValidBooks() []string { return []string{"Joshua", "John"} }

// DefaultTestBooks returns the books held out for testing, an Old
// Testament history and a gospel: 5.1% of the tokens. Every book in
// neither default list is training text.
func DefaultTestBooks() []string { return []string{"1 Samuel", "Mark"} }

// ErrBook reports a split naming a book that does not exist or naming a
// book twice.
var ErrBook = errors.New("corpus: bad split book")

// Options configures Load. The zero value loads DefaultPath with the
// default split and DefaultMinCount.
type Options struct {
	// Path is the bible.data file; empty means DefaultPath.
	Path string
	// MinCount is the training count a word needs to enter the
	// vocabulary; zero means DefaultMinCount, one keeps every word.
	MinCount int
	// ValidBooks and TestBooks name the held-out books as Book.Name
	// spells them; nil means DefaultValidBooks or DefaultTestBooks.
	ValidBooks, TestBooks []string
}

// Split identifies one of the three token streams.
type Split int

// The splits, in the order Corpus.Stats lists them.
const (
	Train Split = iota
	Valid
	Test
	numSplits
)

// String returns "train", "valid" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Valid:
		return "valid"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// A Corpus is the tokenized text, split by book, encoded against a
// vocabulary built from the training split alone.
type Corpus struct {
	Vocab *Vocab
	// Train, Valid and Test are the token streams, verses in canonical
	// order, each verse followed by EOS.
	Train, Valid, Test []int32
	// Stats counts books, verses, tokens and unknown tokens per split.
	Stats [numSplits]SplitStats
}

// SplitStats describes one split.
type SplitStats struct {
	Books  int
	Verses int
	Tokens int // including one EOS per verse
	Unk    int // tokens encoded as Unk
}

// OOVRate returns the fraction of tokens encoded as Unk.
func (s SplitStats) OOVRate() float64 {
	if s.Tokens == 0 {
		return 0
	}
	return float64(s.Unk) / float64(s.Tokens)
}

// Stream returns the token stream of split s.
func (c *Corpus) Stream(s Split) []int32 {
	switch s {
	case Train:
		return c.Train
	case Valid:
		return c.Valid
	case Test:
		return c.Test
	}
	panic(fmt.Sprintf("corpus: no split %d", int(s)))
}

// Load reads the Bible, splits it by book, tokenizes it and encodes it.
// If the data file is missing the error wraps ErrMissing and names the
// Debian package to install. Nothing is cached: each call decodes and
// tokenizes the 4.4 MB text again, a fraction of a second.
func Load(opts Options) (*Corpus, error) {
	if opts.MinCount < 0 {
		return nil, fmt.Errorf("corpus: MinCount %d < 0", opts.MinCount)
	}
	minCount := cmp.Or(opts.MinCount, DefaultMinCount)
	split, err := bookSplits(opts)
	if err != nil {
		return nil, err
	}
	verses, err := ReadVerses(opts.Path)
	if err != nil {
		return nil, err
	}

	var words [numSplits][]string
	c := &Corpus{}
	lastBook := [numSplits]int{-1, -1, -1}
	for _, v := range verses {
		s := split[v.Book]
		words[s] = append(Tokenize(words[s], v.Text), EOSWord)
		st := &c.Stats[s]
		st.Verses++
		if lastBook[s] != v.Book {
			st.Books++
			lastBook[s] = v.Book
		}
	}

	counts := make(map[string]int)
	for _, w := range words[Train] {
		counts[w]++
	}
	c.Vocab = newVocab(counts, minCount)

	streams := [numSplits]*[]int32{&c.Train, &c.Valid, &c.Test}
	for s := range numSplits {
		ids := make([]int32, len(words[s]))
		for i, w := range words[s] {
			ids[i] = c.Vocab.ID(w)
			if ids[i] == Unk {
				c.Stats[s].Unk++
			}
		}
		*streams[s] = ids
		c.Stats[s].Tokens = len(ids)
	}
	return c, nil
}

// bookSplits maps each book index to its split.
func bookSplits(opts Options) ([NumBooks]Split, error) {
	var split [NumBooks]Split // zero: Train
	held := [numSplits][]string{
		Valid: opts.ValidBooks,
		Test:  opts.TestBooks,
	}
	if held[Valid] == nil {
		held[Valid] = DefaultValidBooks()
	}
	if held[Test] == nil {
		held[Test] = DefaultTestBooks()
	}
	for s := Valid; s < numSplits; s++ {
		for _, name := range held[s] {
			i := slices.IndexFunc(books[:], func(b Book) bool { return b.Name == name })
			if i < 0 {
				return split, fmt.Errorf("%w: no book %q", ErrBook, name)
			}
			if split[i] != Train {
				return split, fmt.Errorf("%w: %q is held out twice", ErrBook, name)
			}
			split[i] = s
		}
	}
	return split, nil
}

// Sample returns the first n tokens of the test split as text in the Penn
// Treebank layout (see Vocab.EncodeLines), for demos that need held-out
// text. It returns the whole split if n exceeds its length, and panics if n
// is negative.
func (c *Corpus) Sample(n int) string {
	if n < 0 {
		panic(fmt.Sprintf("corpus: Sample(%d)", n))
	}
	return c.Vocab.DecodeLines(c.Test[:min(n, len(c.Test))])
}
