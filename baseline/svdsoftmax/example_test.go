package svdsoftmax_test

import (
	"fmt"

	"github.com/elasticml/elastic/baseline/svdsoftmax"
)

func Example() {
	// Four classes over d = 3; class 2 scores highest for h = (1, 0, 0).
	w := []float32{
		1, 0, 0,
		0, 1, 0,
		3, 0, 1,
		0, 0, 1,
	}
	b := []float32{0, 0, 0.5, 0}
	m, err := svdsoftmax.New(nil, w, b, 4, 3)
	if err != nil {
		panic(err)
	}
	s := m.Searcher(2, nil) // preview from the top two singular directions
	top, err := s.TopK([]float32{1, 0, 0}, 2, 1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("top-1 class %d, exact logit %.2f\n", top[0], s.Logits()[top[0]])
	// Output: top-1 class 2, exact logit 3.50
}
