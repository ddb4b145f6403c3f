package spec

import (
	"errors"
	"math"
	"testing"

	"github.com/elasticml/elastic/quant"
)

func TestQuantizedSpeculator(t *testing.T) {
	const n, d, k, s = 24, 96, 33, 1500 // odd K exercises INT4/INT2 row padding
	pr := newProblem(n, d, k, s, 0.5, 31)
	ys := pr.lin.Targets(pr.xs)
	st := NewLinearStats(pr.lin, pr.p)
	if err := st.Add(pr.xs); err != nil {
		t.Fatal(err)
	}
	fp, err := st.Solve(0)
	if err != nil {
		t.Fatal(err)
	}
	base, err := fp.FitMSE(pr.xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%-6s %10s %12s %8s", "bits", "bytes", "MSE", "×FP32")
	t.Logf("%-6s %10d %12.5g %8.3f", "FP32", fp.WeightBytes(), base, 1.0)
	if got := fp.WeightBytes(); got != 4*n*k {
		t.Errorf("FP32 WeightBytes = %d, want %d", got, 4*n*k)
	}
	prev := base
	for _, tc := range []struct {
		bits  quant.Bits
		bytes int
	}{
		{quant.Int16, 2*n*k + 4*n},
		{quant.Int8, n*k + 4*n},
		{quant.Int4, n*((k+1)/2) + 4*n},
		{quant.Int2, n*((k+3)/4) + 4*n},
	} {
		q, err := fp.Quantize(tc.bits)
		if err != nil {
			t.Fatal(err)
		}
		mse, err := q.FitMSE(pr.xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-6v %10d %12.5g %8.3f", tc.bits, q.WeightBytes(), mse, mse/base)
		if q.WeightBytes() != tc.bytes {
			t.Errorf("%v: WeightBytes = %d, want %d", tc.bits, q.WeightBytes(), tc.bytes)
		}
		// FP32 is the minimiser on these samples, so any rounding of W̃
		// costs loss, and fewer bits cost more.
		if mse < base*(1-1e-9) || mse < prev {
			t.Errorf("%v: MSE %.6g, want ≥ FP32 %.6g and ≥ the wider width's %.6g", tc.bits, mse, base, prev)
		}
		prev = mse

		// Each weight is within half a step of the float fit, give or take
		// the float32 rounding of code×step.
		for i := range n {
			step := q.Q.Scale(i)
			for j := range k {
				w := float64(fp.W[i*k+j])
				if e := math.Abs(float64(q.W[i*k+j]) - w); e > float64(step)/2+1.2e-7*math.Abs(w) {
					t.Fatalf("%v: W[%d,%d] moved %.3g, more than half of step %.3g", tc.bits, i, j, e, step)
				}
			}
		}
		checkIntPath(t, q, pr.xs[:d])
	}
	if _, err := fp.Quantize(quant.Bits(3)); !errors.Is(err, quant.ErrBits) {
		t.Errorf("Quantize(3 bits): err = %v, want quant.ErrBits", err)
	}
}

// checkIntPath compares Predict with the dequantized float product: the
// integer kernels differ from it only by quantizing z = Px to int8, so
// |Δy_i| ≤ ‖W̃_i‖₁·step(z)/2 plus float rounding.
func checkIntPath(t *testing.T, q *Speculator, x []float32) {
	t.Helper()
	z := make([]float32, q.K)
	q.P.Apply(z, x)
	var zmax float64
	for _, v := range z {
		zmax = max(zmax, math.Abs(float64(v)))
	}
	zstep := zmax / 127
	y := make([]float32, q.N)
	q.Predict(y, x)
	for i := range q.N {
		want := float64(q.B[i])
		var l1 float64
		for j, w := range q.W[i*q.K : (i+1)*q.K] {
			want += float64(w) * float64(z[j])
			l1 += math.Abs(float64(w))
		}
		bound := l1*zstep/2 + 1e-5*(1+math.Abs(want))
		if !q.intKernel() {
			bound = 1e-5 * (1 + math.Abs(want))
		}
		if math.Abs(float64(y[i])-want) > bound {
			t.Fatalf("%v: y[%d] = %v, dequantized product %v, bound %.3g", q.Q.Bits, i, y[i], want, bound)
		}
	}
}
