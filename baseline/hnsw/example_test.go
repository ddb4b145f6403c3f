package hnsw_test

import (
	"bytes"
	"fmt"

	"github.com/elasticml/elastic/baseline/hnsw"
)

func Example() {
	// Five classes over d = 2 with biases; h = (1, 1) scores class 3 highest.
	w := []float32{
		1, 0,
		0, 1,
		-1, -1,
		2, 1,
		1, 2,
	}
	b := []float32{0, 0, 0, 0.5, 0}
	x, err := hnsw.Build(nil, w, b, 5, 2, hnsw.Config{M: 2, Seed: 1})
	if err != nil {
		panic(err)
	}
	ids, logits, err := x.Searcher().Search([]float32{1, 1}, 2, 10)
	if err != nil {
		panic(err)
	}
	fmt.Println(ids, logits)

	// The graph round-trips through Save and Load with the same classifier.
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		panic(err)
	}
	y, err := hnsw.Load(&buf, w, b, 5, 2)
	if err != nil {
		panic(err)
	}
	fmt.Println(y.Links() == x.Links())
	// Output:
	// [3 4] [3.5 3]
	// true
}
