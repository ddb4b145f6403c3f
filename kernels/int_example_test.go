package kernels_test

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
)

func ExampleGemvInt8() {
	// A 2×3 matrix stored as int8 with per-row scales:
	// W ≈ [[0.5, -1, 1.5], [2, 0, -2]].
	q := []int8{
		1, -2, 3,
		1, 0, -1,
	}
	scales := []float32{0.5, 2}
	x := []float32{2, 4, -1}

	xq := make([]int8, len(x))
	xs := kernels.QuantizeInt8(xq, x)
	y := make([]float32, 2)
	kernels.GemvInt8(y, q, scales, 3, xq, xs, []float32{0, 10})
	// The float product is [-4.5, 16]; the gap is input quantization.
	fmt.Printf("xq=%v y=[%.3f %.3f]\n", xq, y[0], y[1])
	// Output: xq=[64 127 -32] y=[-4.504 16.047]
}

func ExampleGemvInt4() {
	// The same matrix in INT4: two columns per byte, low nibble first, each
	// stored as w+8; the odd third column leaves a padding nibble of 8.
	pack := func(lo, hi int8) byte { return byte(lo+8) | byte(hi+8)<<4 }
	q := []byte{
		pack(1, -2), pack(3, 0),
		pack(1, 0), pack(-1, 0),
	}
	scales := []float32{0.5, 2}
	x := []float32{2, 4, -1}

	xq := make([]int8, len(x))
	xs := kernels.QuantizeInt8(xq, x)
	y := make([]float32, 2)
	kernels.GemvInt4(y, q, scales, 3, xq, xs, nil)
	// The float product is [-4.5, 6].
	fmt.Printf("y=[%.3f %.3f]\n", y[0], y[1])
	// Output: y=[-4.504 6.047]
}
