package spec

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/elasticml/elastic/rproj"
)

// denseLstsq solves min ‖Ẑ X − Y‖² + λ‖X without its last row‖² by QR of
// the stacked system [Ẑ; √λ·I'] X = [Y; 0], independently of Stats. It
// returns X as the N×(K+1) matrix [W̃ | b̃], row-major.
func denseLstsq(p Projector, xs []float32, ys []float64, n int, lambda float64) []float64 {
	k, d := p.K(), p.D()
	s := len(xs) / d
	k1 := k + 1
	rows := s
	if lambda > 0 {
		rows += k
	}
	zm := mat.NewDense(rows, k1, nil)
	ym := mat.NewDense(rows, n, nil)
	z := make([]float32, k)
	for i := range s {
		p.Apply(z, xs[i*d:(i+1)*d])
		for j, v := range z {
			zm.Set(i, j, float64(v))
		}
		zm.Set(i, k, 1)
		for o := range n {
			ym.Set(i, o, ys[i*n+o])
		}
	}
	for j := range rows - s {
		zm.Set(s+j, j, math.Sqrt(lambda))
	}
	var x mat.Dense
	if err := x.Solve(zm, ym); err != nil {
		panic(err)
	}
	out := make([]float64, n*k1)
	for o := range n {
		for j := range k1 {
			out[o*k1+j] = x.At(j, o)
		}
	}
	return out
}

// augment joins w (N×K) and b into [W̃ | b̃].
func augment(w, b []float64, n, k int) []float64 {
	out := make([]float64, n*(k+1))
	for o := range n {
		copy(out[o*(k+1):], w[o*k:(o+1)*k])
		out[o*(k+1)+k] = b[o]
	}
	return out
}

func TestSolveMatchesDenseLeastSquares(t *testing.T) {
	for _, tc := range []struct {
		name          string
		n, d, k, s    int
		offset        float64
		lambda        float64
		targets, nonl bool
		batch         int
	}{
		{name: "linear", n: 7, d: 40, k: 10, s: 300, batch: 64},
		{name: "linear/offset", n: 5, d: 30, k: 12, s: 257, offset: 20, batch: 50},
		{name: "linear/ridge", n: 6, d: 25, k: 8, s: 120, lambda: 3, batch: 512},
		{name: "linear/few-samples", n: 3, d: 16, k: 15, s: 40, batch: 512},
		{name: "targets/linear", n: 7, d: 40, k: 10, s: 300, targets: true, batch: 64},
		{name: "targets/tanh", n: 4, d: 20, k: 6, s: 200, targets: true, nonl: true, batch: 33},
		{name: "targets/tanh/ridge", n: 4, d: 20, k: 6, s: 200, offset: 2, lambda: 10, targets: true, nonl: true, batch: 7},
	} {
		for _, prec := range []struct {
			p Precision
			// maxRel bounds the weights' relative distance from the QR
			// solution; maxExcess bounds the relative rise in the loss.
			maxRel, maxExcess float64
		}{
			{Float64, 1e-10, 1e-12},
			{Mixed, 1e-4, 1e-8},
		} {
			t.Run(tc.name+"/"+prec.p.String(), func(t *testing.T) {
				pr := newProblem(tc.n, tc.d, tc.k, tc.s, tc.offset, 7)
				ys := exactTargets(pr.lin, pr.xs)
				var st *Stats
				if tc.targets {
					if tc.nonl {
						for i, v := range ys {
							ys[i] = math.Tanh(v)
						}
					}
					// The float64 reference must see the same float32 targets.
					y32 := make([]float32, len(ys))
					for i, v := range ys {
						y32[i] = float32(v)
						ys[i] = float64(y32[i])
					}
					st = NewTargetStats(pr.p, tc.n)
					st.SetPrecision(prec.p)
					st.SetBatch(tc.batch)
					if err := st.AddTargets(pr.xs, y32); err != nil {
						t.Fatal(err)
					}
				} else {
					st = NewLinearStats(pr.lin, pr.p)
					st.SetPrecision(prec.p)
					st.SetBatch(tc.batch)
					if err := st.Add(pr.xs); err != nil {
						t.Fatal(err)
					}
				}
				w, b, err := st.solve(tc.lambda)
				if err != nil {
					t.Fatal(err)
				}
				got := augment(w, b, tc.n, tc.k)
				want := denseLstsq(pr.p, pr.xs, ys, tc.n, tc.lambda)
				e := relDiff(got, want)
				lg := ridgeLoss(pr.p, pr.xs, ys, tc.n, tc.lambda, got)
				lw := ridgeLoss(pr.p, pr.xs, ys, tc.n, tc.lambda, want)
				excess := (lg - lw) / lw
				t.Logf("weights %.3g from QR, loss %.6g vs %.6g (excess %.3g)", e, lg, lw, excess)
				if e > prec.maxRel {
					t.Errorf("relative difference from dense QR least squares = %.3g, want ≤ %g", e, prec.maxRel)
				}
				if excess > prec.maxExcess {
					t.Errorf("loss %.10g exceeds the QR minimum %.10g by %.3g relative, want ≤ %g", lg, lw, excess, prec.maxExcess)
				}
			})
		}
	}
}

// ridgeLoss returns Σ‖y − [W̃ | b̃]ẑ‖² + λ‖W̃‖²_F in float64.
func ridgeLoss(p Projector, xs []float32, ys []float64, n int, lambda float64, waug []float64) float64 {
	k, d := p.K(), p.D()
	k1 := k + 1
	z := make([]float32, k)
	var loss float64
	for i := range len(xs) / d {
		p.Apply(z, xs[i*d:(i+1)*d])
		for o := range n {
			r := ys[i*n+o] - waug[o*k1+k]
			for j, v := range z {
				r -= waug[o*k1+j] * float64(v)
			}
			loss += r * r
		}
	}
	for o := range n {
		for _, v := range waug[o*k1 : o*k1+k] {
			loss += lambda * v * v
		}
	}
	return loss
}

func TestStreamingIsOrderFree(t *testing.T) {
	// Feeding the samples in uneven chunks with a different internal batch
	// (hence a different shift and rounding) must give the same fit.
	for _, tc := range []struct {
		p   Precision
		tol float64
	}{{Float64, 1e-12}, {Mixed, 1e-5}} {
		pr := newProblem(6, 32, 9, 400, 3, 11)
		one := NewLinearStats(pr.lin, pr.p)
		one.SetPrecision(tc.p)
		if err := one.Add(pr.xs); err != nil {
			t.Fatal(err)
		}
		many := NewLinearStats(pr.lin, pr.p)
		many.SetPrecision(tc.p)
		many.SetBatch(17)
		d := pr.lin.D
		for lo := 0; lo < 400; {
			hi := min(400, lo+1+lo%37)
			if err := many.Add(pr.xs[lo*d : hi*d]); err != nil {
				t.Fatal(err)
			}
			lo = hi
		}
		if one.Samples() != 400 || many.Samples() != 400 {
			t.Fatalf("Samples() = %d, %d, want 400", one.Samples(), many.Samples())
		}
		w1, b1, err := one.solve(0)
		if err != nil {
			t.Fatal(err)
		}
		w2, b2, err := many.solve(0)
		if err != nil {
			t.Fatal(err)
		}
		if e := relDiff(augment(w2, b2, 6, 9), augment(w1, b1, 6, 9)); e > tc.tol {
			t.Errorf("%v: chunked fit differs from one-shot fit by %.3g, want ≤ %g", tc.p, e, tc.tol)
		}
	}
}

func TestSolveRecoversRealisableMap(t *testing.T) {
	// Targets that are exactly W̃Px + b̃ must be fitted with zero loss, even
	// when the inputs sit far from the origin.
	const n, d, k, s = 5, 48, 12, 500
	for _, offset := range []float64{0, 100, 1e4} {
		t.Run(fmt.Sprint("offset=", offset), func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			p := newTernaryProj(k, d, 5)
			wt := make([]float32, n*k)
			for i := range wt {
				wt[i] = float32(r.NormFloat64())
			}
			bt := make([]float32, n)
			for i := range bt {
				bt[i] = float32(r.NormFloat64())
			}
			truth := NewSpeculator(p, wt, bt)
			xs := randInputs(r, s, d, offset)
			ys := make([]float32, s*n)
			for i := range s {
				truth.Predict(ys[i*n:(i+1)*n], xs[i*d:(i+1)*d])
			}
			st := NewTargetStats(p, n)
			if err := st.AddTargets(xs, ys); err != nil {
				t.Fatal(err)
			}
			fit, err := st.Solve(0)
			if err != nil {
				t.Fatal(err)
			}
			mse, err := fit.FitMSE(xs, ys)
			if err != nil {
				t.Fatal(err)
			}
			var energy float64
			for _, v := range ys {
				energy += float64(v) * float64(v)
			}
			energy /= s
			// float32 targets and predictions carry ~1e-7 relative rounding.
			if mse > 1e-10*energy {
				t.Errorf("MSE = %.3g on a realisable target of energy %.3g", mse, energy)
			}
		})
	}
}

// TestClosedFormBeatsSGD checks the point of the closed form: it is the
// exact minimiser of the loss SGD descends, so on the training data its MSE
// is never above SGD's.
func TestClosedFormBeatsSGD(t *testing.T) {
	t.Logf("%-22s %12s %12s %12s", "n×d, k, S, seed", "closed", "SGD", "SGD/closed")
	for _, tc := range []struct {
		n, d, k, s int
		seed       uint64
		cfg        SGDConfig
	}{
		{n: 8, d: 64, k: 16, s: 512, seed: 1, cfg: SGDConfig{Epochs: 20, BatchSize: 32, Seed: 1}},
		{n: 8, d: 64, k: 16, s: 512, seed: 2, cfg: SGDConfig{Epochs: 5, BatchSize: 8, Seed: 2}},
		{n: 16, d: 128, k: 32, s: 1024, seed: 3, cfg: SGDConfig{Epochs: 10, BatchSize: 64, Seed: 3}},
		{n: 4, d: 32, k: 31, s: 256, seed: 4, cfg: SGDConfig{Epochs: 30, BatchSize: 16, Seed: 4}},
		{n: 32, d: 96, k: 24, s: 2048, seed: 5, cfg: SGDConfig{Epochs: 10, BatchSize: 128, Seed: 5, LearningRate: 0.002}},
	} {
		pr := newProblem(tc.n, tc.d, tc.k, tc.s, 0.5, tc.seed)
		ys := pr.lin.Targets(pr.xs)
		st := NewLinearStats(pr.lin, pr.p)
		if err := st.Add(pr.xs); err != nil {
			t.Fatal(err)
		}
		cf, err := st.Solve(0)
		if err != nil {
			t.Fatal(err)
		}
		sgd, err := FitSGD(pr.p, pr.xs, ys, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfMSE, err := cf.FitMSE(pr.xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		sgdMSE, err := sgd.FitMSE(pr.xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-22s %12.5g %12.5g %12.4f", fmt.Sprintf("%d×%d, %d, %d, %d", tc.n, tc.d, tc.k, tc.s, tc.seed), cfMSE, sgdMSE, sgdMSE/cfMSE)
		// Slack for rounding the optimal weights to float32: second order
		// at a minimum, far below any gap SGD leaves.
		if cfMSE > sgdMSE*(1+1e-6) {
			t.Errorf("%d×%d k=%d: closed-form MSE %.6g > SGD MSE %.6g", tc.n, tc.d, tc.k, cfMSE, sgdMSE)
		}
	}
}

func TestSGDDeterministic(t *testing.T) {
	pr := newProblem(4, 24, 6, 100, 0, 9)
	ys := pr.lin.Targets(pr.xs)
	cfg := SGDConfig{Epochs: 3, BatchSize: 10, Seed: 42}
	a, err := FitSGD(pr.p, pr.xs, ys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FitSGD(pr.p, pr.xs, ys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.W {
		if a.W[i] != b.W[i] {
			t.Fatalf("same seed, different weights at %d: %v vs %v", i, a.W[i], b.W[i])
		}
	}
	cfg.Seed = 43
	c, err := FitSGD(pr.p, pr.xs, ys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range a.W {
		same = same && a.W[i] == c.W[i]
	}
	if same {
		t.Error("different seeds gave identical weights; shuffling has no effect")
	}
}

func TestSGDDivergenceIsAnError(t *testing.T) {
	pr := newProblem(4, 24, 6, 100, 0, 9)
	ys := pr.lin.Targets(pr.xs)
	_, err := FitSGD(pr.p, pr.xs, ys, SGDConfig{LearningRate: 1e3, Epochs: 50})
	if !errors.Is(err, ErrNotFinite) {
		t.Errorf("err = %v, want ErrNotFinite", err)
	}
}

func TestErrors(t *testing.T) {
	pr := newProblem(3, 16, 8, 20, 0, 1)
	d := pr.lin.D

	st := NewLinearStats(pr.lin, pr.p)
	if _, err := st.Solve(0); !errors.Is(err, ErrNoSamples) {
		t.Errorf("Solve with no samples: err = %v, want ErrNoSamples", err)
	}

	bad := append([]float32(nil), pr.xs...)
	bad[5*d+3] = float32(math.NaN())
	if err := st.Add(bad); !errors.Is(err, ErrNotFinite) {
		t.Errorf("Add with NaN: err = %v, want ErrNotFinite", err)
	} else if !strings.Contains(err.Error(), "sample 5, column 3") {
		t.Errorf("error %q does not locate the NaN", err)
	}
	if st.Samples() != 0 {
		t.Errorf("a rejected batch left %d samples behind", st.Samples())
	}

	// 5 samples cannot determine 8 projected directions without a ridge.
	if err := st.Add(pr.xs[:5*d]); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Solve(0); !errors.Is(err, ErrSingular) {
		t.Errorf("Solve with 5 samples, K=8: err = %v, want ErrSingular", err)
	}
	if _, err := st.Solve(1e-3); err != nil {
		t.Errorf("ridge should make the underdetermined fit solvable: %v", err)
	}

	ts := NewTargetStats(pr.p, 3)
	ys := make([]float32, 20*3)
	ys[7] = float32(math.Inf(1))
	if err := ts.AddTargets(pr.xs, ys); !errors.Is(err, ErrNotFinite) {
		t.Errorf("AddTargets with Inf target: err = %v, want ErrNotFinite", err)
	}
	if ts.Samples() != 0 {
		t.Errorf("a rejected batch left %d samples behind", ts.Samples())
	}

	if _, err := FitSGD(pr.p, nil, nil, SGDConfig{}); !errors.Is(err, ErrNoSamples) {
		t.Errorf("FitSGD on no data: err = %v, want ErrNoSamples", err)
	}
	sp := NewSpeculator(pr.p, make([]float32, 3*8), make([]float32, 3))
	if _, err := sp.FitMSE(nil, nil); !errors.Is(err, ErrNoSamples) {
		t.Errorf("FitMSE on no data: err = %v, want ErrNoSamples", err)
	}
}

func TestShapePanics(t *testing.T) {
	pr := newProblem(3, 16, 8, 4, 0, 1)
	sp := NewSpeculator(pr.p, make([]float32, 3*8), make([]float32, 3))
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"NewLinear/w", func() { NewLinear(make([]float32, 5), nil, 2, 3) }},
		{"NewLinear/b", func() { NewLinear(make([]float32, 6), make([]float32, 3), 2, 3) }},
		{"NewLinearStats/D", func() { NewLinearStats(NewLinear(make([]float32, 6), nil, 2, 3), pr.p) }},
		{"NewTargetStats/n", func() { NewTargetStats(pr.p, 0) }},
		{"NewSpeculator", func() { NewSpeculator(pr.p, make([]float32, 3*7), make([]float32, 3)) }},
		{"Add/len", func() { _ = NewLinearStats(pr.lin, pr.p).Add(make([]float32, 17)) }},
		{"Add/mode", func() { _ = NewTargetStats(pr.p, 3).Add(pr.xs) }},
		{"AddTargets/mode", func() { _ = NewLinearStats(pr.lin, pr.p).AddTargets(pr.xs, make([]float32, 12)) }},
		{"AddTargets/count", func() { _ = NewTargetStats(pr.p, 3).AddTargets(pr.xs, make([]float32, 9)) }},
		{"AddProjected/len", func() { _ = NewTargetStats(pr.p, 3).AddProjected(make([]float32, 9), make([]float32, 3)) }},
		{"Solve/lambda", func() { _, _ = NewLinearStats(pr.lin, pr.p).Solve(-1) }},
		{"SetBatch", func() { NewLinearStats(pr.lin, pr.p).SetBatch(0) }},
		{"Predict/y", func() { sp.Predict(make([]float32, 2), make([]float32, 16)) }},
		{"Predict/x", func() { sp.Predict(make([]float32, 3), make([]float32, 15)) }},
		{"FitMSE/count", func() { _, _ = sp.FitMSE(pr.xs, make([]float32, 3)) }},
		{"FitSGD/config", func() { _, _ = FitSGD(pr.p, pr.xs, make([]float32, 12), SGDConfig{Epochs: -1}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f()
		})
	}
}

func TestAddProjectedMatchesAddTargets(t *testing.T) {
	pr := newProblem(5, 30, 7, 90, 1, 13)
	ys := pr.lin.Targets(pr.xs)
	a := NewTargetStats(pr.p, 5)
	a.SetPrecision(Float64) // so that a projects with Apply, as below
	if err := a.AddTargets(pr.xs, ys); err != nil {
		t.Fatal(err)
	}
	zs := make([]float32, 90*7)
	project(pr.p, zs, pr.xs, 90)
	b := NewTargetStats(pr.p, 5)
	b.SetPrecision(Float64)
	if err := b.AddProjected(zs, ys); err != nil {
		t.Fatal(err)
	}
	sa, err := a.Solve(0)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Solve(0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sa.W {
		if sa.W[i] != sb.W[i] {
			t.Fatalf("W[%d]: AddTargets %v, AddProjected %v", i, sa.W[i], sb.W[i])
		}
	}
}

func TestDenseProjectionMatchesGather(t *testing.T) {
	// Mixed projects batches by GEMM when P offers Dense; the fit must agree
	// with one that gathers sample by sample.
	pr := newProblem(8, 64, 16, 700, 1, 23)
	if denseIfWorthIt(pr.p) == nil {
		t.Fatal("the thesis's P (density 1/3) should be projected densely")
	}
	if denseIfWorthIt(gatherOnly{pr.p}) != nil {
		t.Fatal("a projection without Dense cannot be projected densely")
	}
	sparse, err := rproj.New(16, 64, 64, 1) // density 1/64
	if err != nil {
		t.Fatal(err)
	}
	if denseIfWorthIt(sparse) != nil {
		t.Error("a very sparse P should be applied sparsely")
	}
	// Count the projections done sample by sample, to see which path ran
	// (the two fits may or may not differ in their last bits, depending on
	// the GEMM kernel, so their difference cannot show it).
	var fits [2][]float64
	for i, dense := range []bool{true, false} {
		var applies atomic.Int64
		cp := &countingProj{gatherOnly{pr.p}, &applies}
		var p Projector = cp
		if dense {
			p = countingDense{cp}
		}
		st := NewLinearStats(pr.lin, p)
		if err := st.Add(pr.xs); err != nil {
			t.Fatal(err)
		}
		want := int64(700) // one Apply per sample
		if dense {
			want = 0
		}
		if applies.Load() != want {
			t.Errorf("dense=%v: Add called Apply %d times, want %d", dense, applies.Load(), want)
		}
		w, b, err := st.solve(0)
		if err != nil {
			t.Fatal(err)
		}
		fits[i] = augment(w, b, 8, 16)
	}
	// The GEMM and Apply round z = Px differently: by at most γ(D) ≈ 4e-6
	// relative (D = 64 float32 roundings), typically a few ulps, and the
	// fits differed by 3e-7 on the AVX-512, AVX2 and pure-Go kernels. A wrong
	// product moves them by more (z scaled by 1+1e-4 gives 2.5e-5).
	if e := relDiff(fits[0], fits[1]); e > 1e-5 {
		t.Errorf("dense-projected fit differs from gathered fit by %.3g, want ≤ 1e-5", e)
	}
}

// countingProj counts its calls to Apply.
type countingProj struct {
	Projector
	applies *atomic.Int64
}

func (c *countingProj) Apply(z, x []float32) {
	c.applies.Add(1)
	c.Projector.Apply(z, x)
}

// countingDense is a countingProj that also offers the dense matrix.
type countingDense struct{ *countingProj }

func (c countingDense) Dense() []float32 { return c.Projector.(gatherOnly).p.Dense() }

func TestPredictMatchesDefinition(t *testing.T) {
	pr := newProblem(6, 40, 10, 30, 0.5, 21)
	st := NewLinearStats(pr.lin, pr.p)
	if err := st.Add(pr.xs); err != nil {
		t.Fatal(err)
	}
	sp, err := st.Solve(0.1)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float32, 6)
	z := make([]float32, 10)
	for i := range 30 {
		x := pr.xs[i*40 : (i+1)*40]
		sp.Predict(y, x)
		pr.p.Apply(z, x)
		for o := range 6 {
			want := float64(sp.B[o])
			for j := range 10 {
				want += float64(sp.W[o*10+j]) * float64(z[j])
			}
			if math.Abs(float64(y[o])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("sample %d output %d: Predict %v, want %v", i, o, y[o], want)
			}
		}
	}
}

func TestLinearTargets(t *testing.T) {
	pr := newProblem(300, 50, 4, 270, 0.2, 17) // sizes past the 256 blocking
	got := pr.lin.Targets(pr.xs)
	want := exactTargets(pr.lin, pr.xs)
	// Both compute in float64 and round once to float32: they err by half a
	// float32 ulp, |w|·2⁻²⁴, plus the float64 sum's rounding, at most
	// γ(D+1)·(|b|+Σ|wⱼxⱼ|) with u = 2⁻⁵³ in any order (the products of
	// float32 values are exact). Summed in float32 instead, they would err
	// by up to 2²⁹ times that float64 term, a few ulps.
	const u32, u64 = 0x1p-24, 0x1p-53
	g64 := 51 * u64 / (1 - 51*u64)
	y := make([]float32, 300)
	for i := range 270 {
		x := pr.xs[i*50 : (i+1)*50]
		pr.lin.Apply(y, x)
		for o := range 300 {
			w := want[i*300+o]
			mag := math.Abs(float64(pr.lin.B[o]))
			for j, v := range x {
				mag += math.Abs(float64(pr.lin.W[o*50+j]) * float64(v))
			}
			tol := u32*math.Abs(w) + g64*mag
			if math.Abs(float64(got[i*300+o])-w) > tol || math.Abs(float64(y[o])-w) > tol {
				t.Fatalf("sample %d output %d: Targets %v, Apply %v, want %v within %.3g", i, o, got[i*300+o], y[o], w, tol)
			}
		}
	}
}

func BenchmarkFitClosedForm(b *testing.B) {
	const n, d, k, s = 256, 512, 64, 2048
	pr := newProblem(n, d, k, s, 0, 1)
	b.ReportAllocs()
	for b.Loop() {
		st := NewLinearStats(pr.lin, pr.p)
		if err := st.Add(pr.xs); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Solve(0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPredict(b *testing.B) {
	const n, d, k = 4096, 1024, 128
	pr := newProblem(n, d, k, 1, 0, 1)
	sp := NewSpeculator(pr.p, make([]float32, n*k), make([]float32, n))
	y := make([]float32, n)
	b.ReportAllocs()
	for b.Loop() {
		sp.Predict(y, pr.xs)
	}
}
