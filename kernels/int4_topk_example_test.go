package kernels_test

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
)

// Screening's inner step: the logits of a 4×2 INT4 matrix and the indices
// of the two largest, in one call.
func ExamplePool_GemvInt4TopK() {
	p := kernels.NewPool(2)
	defer p.Close()
	// Rows (1, 0), (3, 0), (−2, 0), (2, 1), each weight stored as w+8,
	// column 0 in the low nibble.
	q := []byte{0x89, 0x8b, 0x86, 0x9a}
	scales := []float32{1, 1, 1, 1}
	y := make([]float32, 4)
	idx := make([]int32, 4)
	sel, thresh := p.GemvInt4TopK(y, q, scales, 2, []int8{1, 2}, 1, nil, 2, idx)
	fmt.Println(y, sel, thresh)
	// Output: [1 3 -2 4] [1 3] 3
}
