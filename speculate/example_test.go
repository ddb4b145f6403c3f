package speculate_test

import (
	"fmt"

	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/speculate"
)

// A layer of four outputs y = W·x: the speculator guesses them roughly,
// top-K keeps the two largest guesses in magnitude, and only those two
// rows of W are computed exactly; the others keep their guesses (eq. 3.5).
func ExampleStep() {
	w := []float32{
		1, 0,
		0, 1,
		2, 2,
		-3, 0,
	}
	guess := speculate.Func(func(approx, x []float32) {
		copy(approx, []float32{0.9, 2.1, 3.8, -2.7})
	})
	topHalf, _ := sel.NewTopK(sel.Identity, 0.5)
	st := speculate.NewStep(4, guess, topHalf, speculate.Rows{W: w, Cols: 2})
	y := make([]float32, 4)
	idx := st.Run(y, []float32{1, 2})
	fmt.Println(idx, y)
	// Output: [2 3] [0.9 2.1 6 -3]
}
