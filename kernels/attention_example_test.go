package kernels_test

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
)

// Dense attention of one head over three positions; with causal set the
// first query sees only the first key, so it returns the first value.
func ExampleAttention() {
	q := []float32{1, 0, 0, 1, 1, 1}
	k := []float32{1, 0, 0, 1, 1, 1}
	v := []float32{1, 2, 3, 4, 5, 6}
	out := make([]float32, 6)
	kernels.Attention(out, q, k, v, 1, 3, 2, true)
	for i := range 3 {
		fmt.Printf("%.3f %.3f\n", out[2*i], out[2*i+1])
	}
	// Output:
	// 1.000 2.000
	// 2.340 3.340
	// 3.510 4.510
}

// The DSA path: the INT8 predictor picks each query's top 2 keys, then
// the sparse kernels attend to those alone.
func ExamplePredictTopK() {
	const l, dim = 6, 2
	q := []float32{1, 0, 0, 1}                           // 2 queries
	k := []float32{1, 0, 0, 1, 2, 0, 0, 2, -1, 0, 0, -1} // 6 keys
	v := make([]float32, l*dim)
	for j := range l {
		v[j*dim], v[j*dim+1] = float32(j), 1
	}
	sp := kernels.PredictTopK(kernels.QuantizeRows(q, 2, dim), kernels.PackInt8(kernels.QuantizeRows(k, l, dim)), 2, 1, nil)
	fmt.Println("selected:", sp.Idx[:2], sp.Idx[2:])
	out := make([]float32, 2*dim)
	kernels.SparseAttention(out, q, k, v, dim, dim, sp, 1)
	fmt.Printf("out: %.3f %.3f | %.3f %.3f\n", out[0], out[1], out[2], out[3])
	// Output:
	// selected: [0 2] [1 3]
	// out: 1.462 1.000 | 2.462 1.000
}
