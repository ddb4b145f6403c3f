package spec

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/elasticml/elastic/quant"
)

// TestFitLargeTiming times the full closed-form fit at the size the project
// targets (N=6000, D=3000, K=512, S=20000), streaming the samples in chunks.
// It takes tens of seconds and GBs of arithmetic, so it runs only when
// ELASTIC_SPEC_LARGE is set; ELASTIC_SPEC_LARGE=float64 times the Float64
// precision instead of Mixed.
func TestFitLargeTiming(t *testing.T) {
	if os.Getenv("ELASTIC_SPEC_LARGE") == "" {
		t.Skip("set ELASTIC_SPEC_LARGE=1 to time the 6000×3000, K=512, S=20000 fit")
	}
	const n, d, k, s, chunk = 6000, 3000, 512, 20000, 1000
	pr := newProblem(n, d, k, 0, 0, 1)
	r := rand.New(rand.NewPCG(5, 6))
	st := NewLinearStats(pr.lin, pr.p)
	if os.Getenv("ELASTIC_SPEC_LARGE") == "float64" {
		st.SetPrecision(Float64)
	}
	var addTime time.Duration
	var held []float32
	for done := 0; done < s; done += chunk {
		xs := randInputs(r, chunk, d, 0.3)
		if held == nil {
			held = xs[:200*d] // for the MSE check below
		}
		t0 := time.Now()
		if err := st.Add(xs); err != nil {
			t.Fatal(err)
		}
		addTime += time.Since(t0)
	}
	t0 := time.Now()
	sp, err := st.Solve(0)
	if err != nil {
		t.Fatal(err)
	}
	solveTime := time.Since(t0)
	t.Logf("%v: accumulate %v, solve and form W̃ %v, total %v", st.prec, addTime, solveTime, addTime+solveTime)

	ys := pr.lin.Targets(held)
	mse, err := sp.FitMSE(held, ys)
	if err != nil {
		t.Fatal(err)
	}
	var energy float64
	for _, v := range ys {
		energy += float64(v) * float64(v)
	}
	t.Logf("FP32 train MSE on 200 samples %.6g, target energy %.4g, relative %.4g", mse, energy/200, mse/(energy/200))
	for _, bits := range []quant.Bits{quant.Int8, quant.Int4, quant.Int2} {
		q, err := sp.Quantize(bits)
		if err != nil {
			t.Fatal(err)
		}
		qmse, err := q.FitMSE(held, ys)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: MSE %.4g (×%.3f, relative to energy %.3g), %d weight bytes", bits, qmse, qmse/mse, qmse/(energy/200), q.WeightBytes())
	}
}
