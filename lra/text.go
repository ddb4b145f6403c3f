package lra

import (
	"errors"
	"fmt"
	"github.com/elasticml/elastic/budget"
	"math/rand/v2"
	"strings"

	"github.com/elasticml/elastic/corpus"
)

// ErrText reports a text or retrieval configuration that cannot be built
// from the verses given.
var ErrText = errors.New("lra: bad KJV task")

// ByteVocab is the vocabulary of the byte-level tasks: one token per byte.
const ByteVocab = 256

// A Group is one class of the Text task: a run of books in canonical
// order, First to Last, of which the books named in Valid and Test are
// held out (book-disjoint split) and the rest are for training.
type Group struct {
	Name        string
	First, Last string
	Valid, Test []string
}

// DefaultGroups returns the six classes of the Text task, the traditional
// divisions of the KJV canon: law (Genesis–Deuteronomy), history
// (Joshua–Esther), poetry and wisdom (Job–Song of Solomon), prophets
// (Isaiah–Malachi), gospels and Acts, epistles and Revelation. Each holds
// out whole books: one (or more) for validation and one (or more) for
// test, chosen to be typical of the group and long enough for tens of
// passages; 1 Samuel, Mark, Joshua and John are the held-out books of the
// language-model corpus too.
func DefaultGroups() []Group {
	return []Group{
		{"law", "Genesis", "Deuteronomy", []string{"Numbers"}, []string{"Exodus"}},
		{"history", "Joshua", "Esther", []string{"Joshua"}, []string{"1 Samuel"}},
		{"poetry", "Job", "Song of Solomon", []string{"Proverbs"}, []string{"Job"}},
		{"prophets", "Isaiah", "Malachi", []string{"Hosea", "Joel", "Amos", "Micah"}, []string{"Jeremiah"}},
		{"gospels", "Matthew", "Acts", []string{"John"}, []string{"Mark"}},
		{"epistles", "Romans", "Revelation", []string{"Hebrews", "James"}, []string{"1 Corinthians", "2 Corinthians", "1 Peter"}},
	}
}

// TextConfig sets how passages are cut.
type TextConfig struct {
	Seed uint64
	// Bytes is the length of every passage (the task asks for ≥ 1000).
	Bytes int
	// TrainStride is the least distance in bytes between the starts of
	// two training passages of a book; below Bytes they overlap, which
	// multiplies the training passages. Held-out passages never overlap.
	TrainStride int
	Groups      []Group
}

// DefaultText returns 1024-byte passages, training passages every 256
// bytes, and DefaultGroups.
func DefaultText(seed uint64) TextConfig {
	return TextConfig{Seed: seed, Bytes: 1024, TrainStride: 256, Groups: DefaultGroups()}
}

// bookPassages is the text of one book, its verses joined by single
// spaces with no references (a reference would name the book), and the
// byte offset at which each verse starts.
type bookText struct {
	text   string
	starts []int
}

func booksText(verses []corpus.Verse) [corpus.NumBooks]bookText {
	var bt [corpus.NumBooks]bookText
	var sb [corpus.NumBooks]strings.Builder
	for _, v := range verses {
		b := &sb[v.Book]
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		bt[v.Book].starts = append(bt[v.Book].starts, b.Len())
		b.WriteString(v.Text)
	}
	for i := range bt {
		bt[i].text = sb[i].String()
	}
	return bt
}

// passages cuts a book into passages of n bytes that start at verse
// starts at least stride bytes apart.
func (b bookText) passages(n, stride int) [][]int32 {
	var out [][]int32
	next := 0
	for _, s := range b.starts {
		if s < next {
			continue
		}
		if s+n > len(b.text) {
			break
		}
		out = append(out, bytesTokens(b.text[s:s+n]))
		next = s + stride
	}
	return out
}

func bytesTokens(s string) []int32 {
	t := make([]int32, len(s))
	for i := range len(s) {
		t[i] = int32(s[i])
	}
	return t
}

// splitBooks returns, for each book, its class (−1 outside every group)
// and split.
func splitBooks(groups []Group) (class [corpus.NumBooks]int, split [corpus.NumBooks]Split, err error) {
	index := map[string]int{}
	for i, b := range corpus.Books() {
		index[b.Name] = i
	}
	look := func(name string) (int, error) {
		i, ok := index[name]
		if !ok {
			return 0, fmt.Errorf("%w: no book %q", ErrText, name)
		}
		return i, nil
	}
	for i := range class {
		class[i] = -1
	}
	if len(groups) < 2 {
		return class, split, fmt.Errorf("%w: %d groups, want at least 2", ErrText, len(groups))
	}
	for g, gr := range groups {
		lo, err := look(gr.First)
		if err != nil {
			return class, split, err
		}
		hi, err := look(gr.Last)
		if err != nil {
			return class, split, err
		}
		if hi < lo {
			return class, split, fmt.Errorf("%w: group %s runs from %s back to %s", ErrText, gr.Name, gr.First, gr.Last)
		}
		for b := lo; b <= hi; b++ {
			if class[b] >= 0 {
				return class, split, fmt.Errorf("%w: %s is in groups %s and %s", ErrText, corpus.Books()[b].Name, groups[class[b]].Name, gr.Name)
			}
			class[b], split[b] = g, Train
		}
		for s, names := range map[Split][]string{Valid: gr.Valid, Test: gr.Test} {
			if len(names) == 0 {
				return class, split, fmt.Errorf("%w: group %s holds out no %s book", ErrText, gr.Name, s)
			}
			for _, name := range names {
				b, err := look(name)
				if err != nil {
					return class, split, err
				}
				if b < lo || b > hi || split[b] != Train {
					return class, split, fmt.Errorf("%w: %s book %s is not a training book of group %s", ErrText, s, name, gr.Name)
				}
				split[b] = s
			}
		}
		if lo+len(gr.Valid)+len(gr.Test) > hi {
			return class, split, fmt.Errorf("%w: group %s keeps no training book", ErrText, gr.Name)
		}
	}
	return class, split, nil
}

// Text builds the Text task from the verses of the whole KJV (as
// corpus.ReadVerses returns them): byte-level classification of passages
// of cfg.Bytes bytes into the cfg.Groups, split by book. Each split is
// balanced by drawing, with the seed, as many passages of every class as
// the class with fewest has, and is then shuffled.
func Text(verses []corpus.Verse, cfg TextConfig) (*Task, error) {
	if cfg.Bytes < 1 || cfg.TrainStride < 1 {
		return nil, fmt.Errorf("%w: passage length %d and stride %d must be positive", ErrText, cfg.Bytes, cfg.TrainStride)
	}
	per, err := textPassages(verses, cfg)
	if err != nil {
		return nil, err
	}
	t := &Task{Name: "text", Vocab: ByteVocab, Classes: len(cfg.Groups), MaxLen: cfg.Bytes}
	for _, g := range cfg.Groups {
		t.ClassNames = append(t.ClassNames, g.Name)
	}
	for s, dst := range []*[]Example{&t.Train, &t.Valid, &t.Test} {
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x7465787400+uint64(s)))
		n := len(per[s][0])
		for _, ps := range per[s] {
			n = min(n, len(ps))
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: %s split has a class with no passage of %d bytes", ErrText, Split(s), cfg.Bytes)
		}
		for c, ps := range per[s] {
			rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
			for _, p := range ps[:n] {
				*dst = append(*dst, Example{Tokens: p, Label: int32(c)})
			}
		}
		rng.Shuffle(len(*dst), func(i, j int) { (*dst)[i], (*dst)[j] = (*dst)[j], (*dst)[i] })
	}
	return t, nil
}

// textPassages returns every passage of the Text task by split and class,
// before balancing.
func textPassages(verses []corpus.Verse, cfg TextConfig) ([3][][][]int32, error) {
	var per [3][][][]int32
	class, split, err := splitBooks(cfg.Groups)
	if err != nil {
		return per, err
	}
	for s := range per {
		per[s] = make([][][]int32, len(cfg.Groups))
	}
	bt := booksText(verses)
	for b := range bt {
		if class[b] < 0 {
			continue
		}
		stride := cfg.Bytes
		if split[b] == Train {
			stride = cfg.TrainStride
		}
		per[split[b]][class[b]] = append(per[split[b]][class[b]], bt[b].passages(cfg.Bytes, stride)...)
	}
	return per, nil
}

// RetrievalConfig sets the Retrieval task.
type RetrievalConfig struct {
	Seed uint64
	// Bytes is the length of each passage of a pair.
	Bytes int
	// Pairs is the number of pairs per split, half of them positive.
	Pairs [3]int
	// Groups fix which books go to which split (their classes are not
	// used): pairs are drawn among the books of one split only.
	Groups []Group
}

// DefaultRetrieval returns 1024-byte passages, 20000/2000/2000 pairs and
// the book split of DefaultGroups.
func DefaultRetrieval(seed uint64) RetrievalConfig {
	return RetrievalConfig{Seed: seed, Bytes: 1024, Pairs: [3]int{20000, 2000, 2000}, Groups: DefaultGroups()}
}

// Retrieval builds the Retrieval task, the analogue of LRA's citation-link
// task: two non-overlapping passages of cfg.Bytes bytes, label 1 if they
// come from the same book and 0 if not. A positive pair is a random
// passage and another passage of its book; a negative pair a random
// passage and one of any other book of the same split. Half the pairs of
// each split are positive, in seeded random order. Passages are cut
// without overlap, and each split uses its own books only.
func Retrieval(verses []corpus.Verse, cfg RetrievalConfig) (*PairTask, error) {
	if cfg.Bytes < 1 {
		return nil, fmt.Errorf("%w: passage length %d must be positive", ErrText, cfg.Bytes)
	}
	// A pair is two passage slices and a label; refuse counts (a crafted
	// checkpoint's, say) whose list would not fit before building it.
	np := budget.Add(budget.Mul(max(0, cfg.Pairs[0])), budget.Mul(max(0, cfg.Pairs[1])), budget.Mul(max(0, cfg.Pairs[2])))
	if err := budget.Check(fmt.Sprintf("lra: Retrieval: %v pairs", cfg.Pairs), budget.Mul(int(min(np, 1<<40)), 64)); err != nil {
		return nil, err
	}
	class, split, err := splitBooks(cfg.Groups)
	if err != nil {
		return nil, err
	}
	bt := booksText(verses)
	var books [3][][][]int32 // split, book, passages
	for b := range bt {
		if class[b] < 0 {
			continue
		}
		if ps := bt[b].passages(cfg.Bytes, cfg.Bytes); len(ps) > 0 {
			books[split[b]] = append(books[split[b]], ps)
		}
	}
	t := &PairTask{Name: "retrieval", Vocab: ByteVocab, Classes: 2, MaxLen: cfg.Bytes}
	for s, dst := range []*[]Pair{&t.Train, &t.Valid, &t.Test} {
		n := cfg.Pairs[s]
		if n < 2 || n%2 != 0 {
			return nil, fmt.Errorf("%w: %d %s pairs, want an even number ≥ 2", ErrText, n, Split(s))
		}
		bs := books[s]
		var anchors []int // books with two passages or more can anchor a positive pair
		for i, ps := range bs {
			if len(ps) >= 2 {
				anchors = append(anchors, i)
			}
		}
		if len(bs) < 2 || len(anchors) == 0 {
			return nil, fmt.Errorf("%w: %s split has %d books with passages of %d bytes, %d with two or more; want 2 and 1", ErrText, Split(s), len(bs), cfg.Bytes, len(anchors))
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x72657472+uint64(s)))
		total := 0
		for _, ps := range bs {
			total += len(ps)
		}
		pick := func(skip int) (int, []int32) { // a passage uniform over the split, not from book skip
			for {
				k := rng.IntN(total)
				for i, ps := range bs {
					if k < len(ps) {
						if i == skip {
							break
						}
						return i, ps[k]
					}
					k -= len(ps)
				}
			}
		}
		for i := range n {
			if i%2 == 0 {
				// The anchor is uniform over passages, as for a negative
				// pair, so that which book a passage comes from does not
				// hint at the label.
				b, a := pick(-1)
				for len(bs[b]) < 2 {
					b, a = pick(-1)
				}
				o := a
				for &o[0] == &a[0] { // another passage: each has its own array
					o = bs[b][rng.IntN(len(bs[b]))]
				}
				*dst = append(*dst, Pair{A: a, B: o, Label: 1})
			} else {
				b, a := pick(-1)
				_, o := pick(b)
				*dst = append(*dst, Pair{A: a, B: o, Label: 0})
			}
		}
		rng.Shuffle(n, func(i, j int) { (*dst)[i], (*dst)[j] = (*dst)[j], (*dst)[i] })
	}
	return t, nil
}
