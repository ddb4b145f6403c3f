package sel_test

import (
	"fmt"
	"log"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/sel"
)

func ExampleThreshold() {
	// Eq. 3.17 for a tanh gate: saturated outputs (|y| > 2) are insensitive.
	approx := []float32{-3.1, 0.4, 2.5, -1.2}
	fmt.Println(sel.Threshold{Act: sel.Tanh, Theta: 2}.Select(nil, approx))
	// Output: [1 3]
}

func ExampleAdaptive() {
	// Calibrate |δ| on the layer, then derive its threshold from a global
	// tolerance θ on the gate's output error (eq. 3.18).
	var c sel.Calibrator
	c.Add([]float32{0.5, -1.0, 2.0, 0.1}, []float32{0.3, -1.4, 2.2, 0.0})
	th, err := sel.Adaptive(sel.Sigmoid, 0.01, c.Delta())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("|δ| = %.4f, θ_th = %.3f\n", c.Delta(), th.Theta)
	fmt.Println(th.Select(nil, []float32{-4, 0.2, 3, 2.2}))
	// Output:
	// |δ| = 0.1250, θ_th = 2.526
	// [1 3]
}

func ExampleTopK() {
	// Insensitive ratio 0.5: half of the ReLU outputs come from the
	// approximate module, the other half are recomputed exactly.
	s, err := sel.NewTopK(sel.ReLU, 0.5)
	if err != nil {
		log.Fatal(err)
	}
	approx := []float32{0.9, -2, 0.1, 3, -0.5, 1.5}
	fmt.Println(s.Select(nil, approx))
	// Output: [0 3 5]
}

func ExampleTopK_SelectBatch() {
	// Figure A.1: the top-2 threshold of the first sample is shared.
	s, _ := sel.NewTopK(sel.ReLU, 0.5)
	x := []float32{
		4, 1, 3, 2, // sample 0: threshold 3
		0, 5, 3, -1, // sample 1
	}
	counts := make([]int, 2)
	fmt.Println(s.SelectBatch(nil, counts, x, 4), counts)
	// Output: [0 2 1 2] [2 2]
}

func ExampleAssembleIndex() {
	// The executor's form of eq. 3.5: start from the approximate outputs
	// and let the gather GEMV overwrite the sensitive rows exactly.
	w := []float32{
		1, 0,
		0, 1,
		1, 1,
	}
	x := []float32{2, 3}
	approx := []float32{1.9, 3.2, 4.8}
	idx := sel.Threshold{Act: sel.Tanh, Theta: 4}.Select(nil, approx)

	y := append([]float32(nil), approx...)
	kernels.GemvGather(y, w, 2, x, nil, idx)
	fmt.Println(idx, y)
	// Output: [0 1] [2 3 4.8]
}
