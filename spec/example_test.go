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

// The fit as a map: for a map with many rows, W̃ = W·M and b̃ = W·m + b can
// be formed block by block instead of all at once by Solve.
func ExampleStats_SolveMap() {
	const n, d, k, samples = 6, 16, 4, 200
	r := rand.New(rand.NewPCG(3, 4))
	w, b := make([]float32, n*d), make([]float32, n)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	big := spec.NewLinear(w, b, n, d)
	p, err := rproj.New(k, d, rproj.DefaultSparsity, 1)
	if err != nil {
		panic(err)
	}
	st := spec.NewLinearStats(big, p)
	xs := make([]float32, samples*d)
	for i := range xs {
		xs[i] = float32(r.NormFloat64())
	}
	if err := st.Add(xs); err != nil {
		panic(err)
	}
	m, _, err := st.SolveMap(0)
	if err != nil {
		panic(err)
	}
	little, _ := st.Solve(0)
	// Row 2 of W̃ from the map, against Solve's.
	var v float64
	for j := range d {
		v += float64(w[2*d+j]) * m[j*k+1]
	}
	fmt.Printf("map %.4f, Solve %.4f\n", v, little.W[2*k+1])
	// Output: map 0.5986, Solve 0.5986
}
