package spec_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/spec"
)

func Example() {
	const n, d, k, samples = 64, 256, 32, 2000
	r := rand.New(rand.NewPCG(1, 2))

	// The big layer to imitate.
	w := make([]float32, n*d)
	for i := range w {
		w[i] = float32(r.NormFloat64() / 16)
	}
	big := spec.NewLinear(w, make([]float32, n), n, d)

	// The fixed projection, drawn once (thesis eq. 6.3).
	p, err := rproj.New(k, d, rproj.DefaultSparsity, 7)
	if err != nil {
		panic(err)
	}

	// Stream calibration inputs through the statistics, then solve once.
	st := spec.NewLinearStats(big, p)
	xs := make([]float32, samples*d)
	for i := range xs {
		xs[i] = float32(r.NormFloat64())
	}
	for lo := 0; lo < samples; lo += 500 {
		if err := st.Add(xs[lo*d : (lo+500)*d]); err != nil {
			panic(err)
		}
	}
	little, err := st.Solve(0)
	if err != nil {
		panic(err)
	}
	little8, err := little.Quantize(quant.Int8)
	if err != nil {
		panic(err)
	}

	// Compare with the thesis's SGD on the same data.
	ys := big.Targets(xs)
	sgd, err := spec.FitSGD(p, xs, ys, spec.SGDConfig{Epochs: 5, Seed: 1})
	if err != nil {
		panic(err)
	}
	closedMSE, _ := little.FitMSE(xs, ys)
	int8MSE, _ := little8.FitMSE(xs, ys)
	sgdMSE, _ := sgd.FitMSE(xs, ys)
	fmt.Println("closed form beats SGD:", closedMSE < sgdMSE)
	fmt.Println("INT8 costs under 1% of loss:", int8MSE < 1.01*closedMSE)
	fmt.Printf("weights: %d bytes FP32, %d bytes INT8, for a %d-byte layer\n",
		little.WeightBytes(), little8.WeightBytes(), 4*n*d)
	// Output:
	// closed form beats SGD: true
	// INT8 costs under 1% of loss: true
	// weights: 8192 bytes FP32, 2304 bytes INT8, for a 65536-byte layer
}
