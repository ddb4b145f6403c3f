package dmi_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/nn"
)

// An LSTM layer's little module is fitted to recorded inputs and states;
// the dual-module layer then computes half of each gate's rows exactly.
func ExampleLayer() {
	const in, hidden, samples = 16, 12, 300
	rng := rand.New(rand.NewPCG(1, 2))
	layer := nn.NewLSTM(in, hidden, 0, rng)

	// Calibration: run the exact layer and record (x(t), h(t−1)).
	xs := make([]float32, samples*in)
	hs := make([]float32, samples*hidden)
	h, c := make([]float32, hidden), make([]float32, hidden)
	for s := range samples {
		x := xs[s*in : (s+1)*in]
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		copy(hs[s*hidden:], h)
		layer.Step(h, c, x)
	}
	little, err := dmi.FitLayer(layer.Weights(), xs, hs, dmi.Options{K: 8})
	if err != nil {
		panic(err)
	}
	d, err := dmi.NewLayer(layer.Weights(), little, nil)
	if err != nil {
		panic(err)
	}
	if err := d.SetRatio(0.5); err != nil {
		panic(err)
	}
	d.Step(h, c, xs[:in])
	fmt.Printf("%v little module, MSE %.1f of the zero predictor's\n", little.Bits(), little.MSE/little.ZeroMSE)
	fmt.Println("rows computed exactly:", len(d.Sensitive()), "of", 4*hidden)
	fmt.Println("insensitive ratio per gate:", d.InsensitiveRatio())
	// Output:
	// INT8 little module, MSE 0.4 of the zero predictor's
	// rows computed exactly: 24 of 48
	// insensitive ratio per gate: [0.5 0.5 0.5 0.5]
}
