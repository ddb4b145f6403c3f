package corpus

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// A Vocab maps words to int32 ids and back. Ids 0 and 1 are EOS and Unk;
// the rest follow by descending training count, ties in byte order, so the
// same text and MinCount always give the same ids.
type Vocab struct {
	words []string
	ids   map[string]int32
}

// newVocab builds a vocabulary from word counts, keeping words seen at
// least minCount times.
func newVocab(counts map[string]int, minCount int) *Vocab {
	type wc struct {
		w string
		n int
	}
	var kept []wc
	for w, n := range counts {
		if n >= minCount && w != EOSWord && w != UnkWord {
			kept = append(kept, wc{w, n})
		}
	}
	slices.SortFunc(kept, func(a, b wc) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.w, b.w))
	})
	v := &Vocab{
		words: make([]string, 0, len(kept)+2),
		ids:   make(map[string]int32, len(kept)+2),
	}
	for _, w := range append([]wc{{EOSWord, 0}, {UnkWord, 0}}, kept...) {
		v.ids[w.w] = int32(len(v.words))
		v.words = append(v.words, w.w)
	}
	return v
}

// Len returns the number of words, including EOSWord and UnkWord.
func (v *Vocab) Len() int { return len(v.words) }

// Word returns the word with the given id. It panics if id is out of range.
func (v *Vocab) Word(id int32) string {
	if id < 0 || int(id) >= len(v.words) {
		panic(fmt.Sprintf("corpus: word id %d out of range [0, %d)", id, len(v.words)))
	}
	return v.words[id]
}

// Lookup returns the id of w and whether w is in the vocabulary.
func (v *Vocab) Lookup(w string) (int32, bool) {
	id, ok := v.ids[w]
	return id, ok
}

// ID returns the id of w, or Unk if w is not in the vocabulary.
func (v *Vocab) ID(w string) int32 {
	if id, ok := v.ids[w]; ok {
		return id
	}
	return Unk
}

// Words returns a copy of the words in id order.
func (v *Vocab) Words() []string { return slices.Clone(v.words) }

// EncodeLines encodes text in the Penn Treebank file layout, which Sample
// produces: tokens separated by white space, EOS at the end of every line
// that ends in a newline. Tokens are looked up as they are, not
// re-tokenized; unknown ones become Unk.
func (v *Vocab) EncodeLines(text string) []int32 {
	var ids []int32
	for len(text) > 0 {
		line, rest, eol := strings.Cut(text, "\n")
		for _, w := range strings.Fields(line) {
			ids = append(ids, v.ID(w))
		}
		if eol {
			ids = append(ids, EOS)
		}
		text = rest
	}
	return ids
}

// DecodeLines is the inverse of EncodeLines: words joined by spaces, a
// newline for every EOS.
func (v *Vocab) DecodeLines(ids []int32) string {
	var b strings.Builder
	lineStart := true
	for _, id := range ids {
		if id == EOS {
			b.WriteByte('\n')
			lineStart = true
			continue
		}
		if !lineStart {
			b.WriteByte(' ')
		}
		b.WriteString(v.Word(id))
		lineStart = false
	}
	return b.String()
}
