package spec

import (
	"errors"
	"math"
	"testing"

	"github.com/elasticml/elastic/kernels"
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
	// FP32 is the minimiser on these samples, so any rounding of W̃ costs
	// loss, and fewer bits cost more. INT16 raises the loss by about
	// K·step²/12·E[z²], 3e-9 here, while the float32 rounding of Predict
	// moves FitMSE by as much (checkFitMSE bounds that separately), so the
	// widths are ordered by the loss of W̃ itself, in float64, on the same
	// z = Px for every width. Its own rounding (sums of 36000 squares) is
	// below 1e-11 relative, and the FP32 fit, solved on the GEMM's z, is off
	// the minimiser for these z by ~1e-7 per weight, ~1e-14 in loss.
	zs := make([]float32, len(pr.xs)/d*k)
	project(pr.p, zs, pr.xs, len(pr.xs)/d)
	checkFitMSE(t, fp, zs, ys, base)
	prev := weightLoss(fp, zs, ys)
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
		checkFitMSE(t, q, zs, ys, mse)
		loss := weightLoss(q, zs, ys)
		if loss <= prev {
			t.Errorf("%v: float64 loss of W̃ %.10g, want > the wider width's %.10g", tc.bits, loss, prev)
		}
		prev = loss

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

// checkIntPath compares Predict with predictRef output by output.
func checkIntPath(t *testing.T, q *Speculator, x []float32) {
	t.Helper()
	z := make([]float32, q.K)
	q.P.Apply(z, x)
	y := make([]float32, q.N)
	q.Predict(y, x)
	want, bound := predictRef(q, z)
	for i := range q.N {
		if math.Abs(float64(y[i])-want[i]) > bound[i] {
			t.Fatalf("%v: y[%d] = %v, want %v within %.3g", q.Q.Bits, i, y[i], want[i], bound[i])
		}
	}
}

// predictRef returns, in float64, what s's kernels compute from z = Px and,
// per output, a bound on their float32 rounding. On the float path that is
// W̃z + b̃: a dot product of K terms plus a bias, summed in any order, with
// or without FMA, errs by at most γ(K+1)·(|b̃ᵢ| + Σⱼ|W̃ᵢⱼzⱼ|), where
// γ(n) = nu/(1-nu) and u = 2⁻²⁴. The integer kernels quantize z to int8
// (s_z, z_Q; kernels.QuantizeInt8 is deterministic Go) and compute
// b̃ᵢ + sᵢ·s_z·Σⱼ codeᵢⱼ·z_Qⱼ with an exact integer sum, so only the
// epilogue rounds: converting the sum, two products and the bias, γ(4).
func predictRef(s *Speculator, z []float32) (want, bound []float64) {
	const u = 0x1p-24
	gamma := func(n int) float64 { return float64(n) * u / (1 - float64(n)*u) }
	want = make([]float64, s.N)
	bound = make([]float64, s.N)
	if s.intKernel() {
		zq := make([]int8, len(z))
		zs := float64(kernels.QuantizeInt8(zq, z))
		for i := range s.N {
			var dot int64
			for j, v := range zq {
				dot += int64(s.Q.Code(i, j)) * int64(v)
			}
			p := float64(s.Q.Scale(i)) * zs * float64(dot)
			want[i] = p + float64(s.B[i])
			bound[i] = gamma(4) * (math.Abs(p) + math.Abs(float64(s.B[i])))
		}
		return want, bound
	}
	for i := range s.N {
		y, mag := float64(s.B[i]), math.Abs(float64(s.B[i]))
		for j, w := range s.W[i*s.K : (i+1)*s.K] {
			y += float64(w) * float64(z[j])
			mag += math.Abs(float64(w) * float64(z[j]))
		}
		want[i], bound[i] = y, gamma(s.K+1)*mag
	}
	return want, bound
}

// checkFitMSE checks fitMSE, s.FitMSE on the samples whose projections are
// zs and targets ys, against predictRef: with eᵢ the float64 residual and
// δᵢ its bound, the kernels' residual squares to within 2|eᵢ|δᵢ + δᵢ² of
// eᵢ²; FitMSE sums those in float64 (the 1e-12 relative slack).
func checkFitMSE(t *testing.T, s *Speculator, zs, ys []float32, fitMSE float64) {
	t.Helper()
	m := len(zs) / s.K
	var loss, slack float64
	for r := range m {
		want, bound := predictRef(s, zs[r*s.K:(r+1)*s.K])
		for i, v := range ys[r*s.N : (r+1)*s.N] {
			e := math.Abs(float64(v) - want[i])
			loss += e * e
			slack += 2*e*bound[i] + bound[i]*bound[i]
		}
	}
	loss /= float64(m)
	slack /= float64(m)
	if d := math.Abs(fitMSE - loss); d > slack+1e-12*loss {
		t.Errorf("%s: FitMSE %.10g, reference %.10g: differ by %.3g, more than the rounding bound %.3g", bitsName(s), fitMSE, loss, d, slack)
	}
}

// weightLoss returns the loss of s's W̃ on the projections zs and targets
// ys, in float64, whatever kernel s's Predict uses.
func weightLoss(s *Speculator, zs, ys []float32) float64 {
	m := len(zs) / s.K
	var loss float64
	for r := range m {
		z := zs[r*s.K : (r+1)*s.K]
		for i, v := range ys[r*s.N : (r+1)*s.N] {
			e := float64(v) - float64(s.B[i])
			for j, w := range s.W[i*s.K : (i+1)*s.K] {
				e -= float64(w) * float64(z[j])
			}
			loss += e * e
		}
	}
	return loss / float64(m)
}

func bitsName(s *Speculator) string {
	if s.Q == nil {
		return "FP32"
	}
	return s.Q.Bits.String()
}
