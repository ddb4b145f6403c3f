package kernels_test

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
)

func ExampleGemv() {
	// W is 2×3, row-major.
	w := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	x := []float32{1, 0, -1}
	b := []float32{10, 20}
	y := make([]float32, 2)
	kernels.Gemv(y, w, 3, x, b)
	fmt.Println(y)
	// Output: [8 18]
}

func ExampleGemvGather() {
	// Only rows 2 and 0 of the 4×2 matrix W are computed (and read); the
	// other entries of y keep their values.
	w := []float32{
		1, 1,
		2, 2,
		3, 3,
		4, 4,
	}
	x := []float32{1, 2}
	y := []float32{-1, -1, -1, -1}
	kernels.GemvGather(y, w, 2, x, nil, []int32{2, 0})
	fmt.Println(y)
	// Output: [3 -1 9 -1]
}

func ExamplePool_Gemm() {
	// Y = X·Wᵀ for a batch of two inputs through a layer with three outputs.
	x := []float32{
		1, 2,
		3, 4,
	}
	w := []float32{
		1, 0,
		0, 1,
		1, 1,
	}
	y := make([]float32, 2*3)
	p := kernels.NewPool(2)
	defer p.Close()
	p.Gemm(false, true, 2, 3, 2, 1, x, 2, w, 2, 0, y, 3)
	fmt.Println(y)
	// Output: [1 2 3 3 4 7]
}

func ExampleGemvHalf() {
	// A 2×3 matrix stored in float16: 0.1 is not exact in binary16.
	w := make([]uint16, 6)
	kernels.ToHalf(w, []float32{1, 2, 3, 0.1, 0.1, 0.1})
	y := make([]float32, 2)
	kernels.GemvHalf(y, w, 3, []float32{1, 1, 1}, []float32{0, 10})
	fmt.Printf("%.6f %.6f\n", y[0], y[1])
	// Output: 6.000000 10.299927
}
