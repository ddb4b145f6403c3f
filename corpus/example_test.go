package corpus_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/elasticml/elastic/corpus"
)

func ExampleTokenize() {
	words := corpus.Tokenize(nil, "Then were the king's scribes called, in 1611, to the loving-kindness.")
	fmt.Println(strings.Join(words, " "))
	// Output: then were the king 's scribes called in N to the loving-kindness
}

// ExampleLoad shows a trainer's loop over the corpus: batch 20 and BPTT 35,
// as in the thesis's PyTorch word_language_model runs. It is not run by
// go test, since the text may not be installed; the package tests cover it.
func ExampleLoad() {
	c, err := corpus.Load(corpus.Options{})
	if errors.Is(err, corpus.ErrMissing) {
		log.Fatal(err) // the message says which Debian package to install
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("vocabulary:", c.Vocab.Len())
	for s := corpus.Train; s <= corpus.Test; s++ {
		st := c.Stats[s]
		fmt.Printf("%s: %d tokens, %.2f%% <unk>\n", s, st.Tokens, 100*st.OOVRate())
	}

	train := corpus.Batchify(c.Train, 20)
	const bptt = 35
	for i := 0; i < train.Steps-1; i += bptt {
		input, target, n := train.Window(i, bptt)
		_, _, _ = input, target, n // n×20 token ids, row-major
	}
	fmt.Println(c.Sample(12))
}
