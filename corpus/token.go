package corpus

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Special tokens. They hold the first two vocabulary ids whatever the
// counts, so a trainer can refer to them by constant.
const (
	EOSWord = "<eos>"
	UnkWord = "<unk>"

	EOS int32 = 0
	Unk int32 = 1
)

// NumWord replaces every word containing a digit, as in the Penn Treebank
// language-model data.
const NumWord = "N"

// Tokenize appends to dst the word tokens of one verse, following the rules
// in the package documentation: lower case; punctuation dropped except
// apostrophes and hyphens joining two letters or digits; a final "'s"
// split off as its own token; words with a digit replaced by NumWord.
// It appends no EOSWord.
func Tokenize(dst []string, text string) []string {
	s := strings.ToLower(text)
	start, end := -1, -1 // current word is s[start:end]
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
			end = i + utf8.RuneLen(r)
		case (r == '\'' || r == '-') && start >= 0 && end == i:
			// A joiner right after a word character: it stays only if
			// a word character follows, which extends end past it.
		case start >= 0:
			dst = appendWord(dst, s[start:end])
			start = -1
		}
	}
	if start >= 0 {
		dst = appendWord(dst, s[start:end])
	}
	return dst
}

// appendWord appends w, splitting off a possessive "'s" and mapping numbers.
func appendWord(dst []string, w string) []string {
	var poss bool
	if stem, ok := strings.CutSuffix(w, "'s"); ok && stem != "" {
		w, poss = stem, true
	}
	if strings.ContainsFunc(w, unicode.IsDigit) {
		w = NumWord
	}
	dst = append(dst, w)
	if poss {
		dst = append(dst, "'s")
	}
	return dst
}
