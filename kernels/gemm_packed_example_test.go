package kernels_test

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
)

func ExampleGemmPacked() {
	// A recurrent layer multiplies its state by the same W at every step:
	// pack op(B) = Wᵀ once, then run each step's product against it.
	w := []float32{
		1, 0,
		0, 1,
		1, 1,
	}
	wt := kernels.PackB(nil, true, 2, 3, w, 2) // Wᵀ is 2×3
	h := []float32{1, 2}
	y := make([]float32, 3)
	for range 2 {
		kernels.GemmPacked(false, 1, 1, h, 2, wt, 0, y, 3)
		fmt.Println(y)
		h[0], h[1] = y[0], y[2]
	}
	// Output:
	// [1 2 3]
	// [1 3 4]
}

func ExamplePool_GemmPacked() {
	w := []float32{
		1, 2,
		3, 4,
	}
	p := kernels.NewPool(2)
	defer p.Close()
	pw := p.PackB(nil, false, 2, 2, w, 2)
	// C = 2·A·W + C for a batch of two rows.
	a := []float32{
		1, 0,
		0, 1,
	}
	c := []float32{
		1, 1,
		1, 1,
	}
	p.GemmPacked(false, 2, 2, a, 2, pw, 1, c, 2)
	fmt.Println(c)
	// Output: [3 5 7 9]
}
