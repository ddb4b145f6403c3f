package screen

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

// fixture is a small synthetic classifier with a fitted screener.
type fixture struct {
	model *synth.Model
	lin   *spec.Linear
	s     *Screener
	c     *Classifier
}

func newFixture(t testing.TB, l, d int, o Options) *fixture {
	t.Helper()
	cfg := synth.Default(l, d)
	m, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lin := spec.NewLinear(m.W, m.B, l, d)
	hs, _ := m.Sample(2048, 7)
	s, err := Fit(lin, hs, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(lin, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{model: m, lin: lin, s: s, c: c}
}

func argmax(z []float32) int {
	best := 0
	for j, v := range z {
		if v > z[best] {
			best = j
		}
	}
	return best
}

// At m = l every logit is exact, so the mixed vector is the full one and
// the top-1 always agrees.
func TestFullMIsExact(t *testing.T) {
	f := newFixture(t, 3000, 64, Options{})
	if err := f.c.SetSelection(Selection{Mode: TopM, M: 3000}); err != nil {
		t.Fatal(err)
	}
	hs, _ := f.model.Sample(20, 11)
	z, zf := make([]float32, 3000), make([]float32, 3000)
	for i := range 20 {
		h := hs[i*64 : (i+1)*64]
		cand, err := f.c.Forward(z, h)
		if err != nil {
			t.Fatal(err)
		}
		if len(cand) != 3000 {
			t.Fatalf("%d candidates, want 3000", len(cand))
		}
		f.c.Full(zf, h)
		for j := range z {
			if d := math.Abs(float64(z[j] - zf[j])); d > 1e-5*(1+math.Abs(float64(zf[j]))) {
				t.Fatalf("input %d class %d: mixed %v, full %v", i, j, z[j], zf[j])
			}
		}
	}
	q, err := f.c.Evaluate(hs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Top1 != 1 || q.Top5 != 1 || q.Coverage != 1 {
		t.Errorf("at m = l: %+v, want top-1, top-5 and coverage 1", q)
	}
}

// Candidates get the full classifier's logits (against a float64
// reference), the others the screener's.
func TestCandidatesExactOthersApprox(t *testing.T) {
	f := newFixture(t, 2000, 64, Options{})
	if err := f.c.SetSelection(Selection{Mode: TopM, M: 50}); err != nil {
		t.Fatal(err)
	}
	hs, _ := f.model.Sample(5, 3)
	z, zt, ref := make([]float32, 2000), make([]float32, 2000), make([]float32, 2000)
	for i := range 5 {
		h := hs[i*64 : (i+1)*64]
		cand, err := f.c.Forward(z, h)
		if err != nil {
			t.Fatal(err)
		}
		if len(cand) != 50 {
			t.Fatalf("%d candidates, want 50", len(cand))
		}
		f.lin.Apply(ref, h) // float64 accumulation
		f.c.Screen(zt, h)
		isCand := make([]bool, 2000)
		for _, j := range cand {
			isCand[j] = true
		}
		minCand := float32(math.Inf(1))
		for _, j := range cand {
			minCand = min(minCand, zt[j])
		}
		for j := range z {
			if isCand[j] {
				if d := math.Abs(float64(z[j] - ref[j])); d > 1e-4*(1+math.Abs(float64(ref[j]))) {
					t.Fatalf("candidate %d: %v, want %v", j, z[j], ref[j])
				}
				continue
			}
			if z[j] != zt[j] {
				t.Fatalf("non-candidate %d: %v, want the screener's %v", j, z[j], zt[j])
			}
			if zt[j] > minCand {
				t.Fatalf("non-candidate %d has z̃ %v above a candidate's %v", j, zt[j], minCand)
			}
		}
	}
}

// A classifier that is exactly W = A·P in the projected space is fitted
// with (numerically) zero loss by an FP32 screener with the same P.
func TestExactLowRankFit(t *testing.T) {
	const l, d, k, seed = 500, 64, 16, 9
	p, err := rproj.New(k, d, rproj.DefaultSparsity, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a := make([]float32, l*k)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	w := make([]float32, l*d)
	kernels.Gemm(false, false, l, d, k, 1, a, k, p.Dense(), d, 0, w, d)
	b := make([]float32, l)
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	hs := make([]float32, 300*d)
	for i := range hs {
		hs[i] = float32(rng.NormFloat64())
	}
	s, err := Fit(spec.NewLinear(w, b, l, d), hs, Options{K: k, Bits: FP32, Seed: seed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.MSE > 1e-8*s.ZeroMSE {
		t.Errorf("MSE %g, want ~0 (zero predictor %g)", s.MSE, s.ZeroMSE)
	}
	for i, v := range s.Spec.W {
		if math.Abs(float64(v-a[i])) > 1e-3 {
			t.Fatalf("W̃[%d] = %v, want %v", i, v, a[i])
		}
	}
}

// Bytes follow the storage formulas, and the codes alone are the thesis's
// (k/d)·bits/32.
func TestBytesRatio(t *testing.T) {
	const l, d = 1000, 64
	m, _ := synth.New(synth.Default(l, d))
	lin := spec.NewLinear(m.W, m.B, l, d)
	hs, _ := m.Sample(512, 1)
	for _, tc := range []struct {
		bits  quant.Bits
		ratio float64
		code  float64 // W̃ bytes per row
	}{
		{quant.Int4, 0.25, 16 * 0.5},
		{quant.Int8, 0.25, 16},
		{quant.Int2, 0.25, 16 * 0.25},
		{FP32, 0.25, 16 * 4},
		{quant.Int4, 0.125, 8 * 0.5},
		{quant.Int4, 0.5, 32 * 0.5},
	} {
		s, err := Fit(lin, hs, Options{KRatio: tc.ratio, Bits: tc.bits, NoBound: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		scales := 4.0
		if tc.bits == FP32 {
			scales = 0
		}
		want := float64(l) * (tc.code + scales + 4) / (4 * l * (d + 1))
		if got := s.BytesRatio(); math.Abs(got-want) > 1e-12 {
			t.Errorf("%v k/d=%v: bytes ratio %v, want %v", tc.bits, tc.ratio, got, want)
		}
		if got, want := s.CodeRatio(), tc.ratio*float64(tc.bits)/32; math.Abs(got-want) > 1e-12 {
			t.Errorf("%v k/d=%v: code ratio %v, want %v", tc.bits, tc.ratio, got, want)
		}
	}
}

// Split-conformal coverage: on fresh inputs the full top-1 is a candidate
// at least 1 − δ of the time, averaged over calibration draws (the
// guarantee is marginal over them), up to sampling error.
func TestConformalCoverage(t *testing.T) {
	f := newFixture(t, 3000, 64, Options{})
	test, _ := f.model.Sample(800, 21)
	const draws = 4
	for _, delta := range []float64{0.2, 0.1, 0.05} {
		var cov [2]float64
		var cands [2]float64
		for r := range draws {
			cal, _ := f.model.Sample(400, 100+uint64(r)+uint64(1000*delta))
			cf, err := f.c.Calibrate(cal, delta)
			if err != nil {
				t.Fatal(err)
			}
			for i, sl := range []Selection{cf.GapSelection(), cf.TopMSelection()} {
				if err := f.c.SetSelection(sl); err != nil {
					t.Fatal(err)
				}
				q, err := f.c.Evaluate(test, nil)
				if err != nil {
					t.Fatal(err)
				}
				cov[i] += q.Coverage / draws
				cands[i] += q.Candidates / draws
			}
		}
		// Three standard deviations of the test estimate and of the
		// calibration draws.
		tol := 3*math.Sqrt(delta*(1-delta)/800) + 3*math.Sqrt(delta*(1-delta)/(400*draws))
		for i, mode := range []Mode{Gap, TopM} {
			if cov[i] < 1-delta-tol {
				t.Errorf("δ=%v %v: mean coverage %.3f below %.3f", delta, mode, cov[i], 1-delta-tol)
			}
			if cands[i] >= 3000/4 {
				t.Errorf("δ=%v %v: %v candidates, little reduction", delta, mode, cands[i])
			}
			t.Logf("δ=%.2f %-4v: coverage %.3f, %.1f candidates", delta, mode, cov[i], cands[i])
		}
	}
}

// The certified mode's top-1 is always the full classifier's, on inputs
// from the workload and on random inputs far from it, for every width.
func TestCertifiedExact(t *testing.T) {
	for _, bits := range []quant.Bits{quant.Int4, quant.Int8, FP32, quant.Int2} {
		f := newFixture(t, 2000, 64, Options{Bits: bits})
		if err := f.c.SetSelection(Selection{Mode: Certified, M: 4}); err != nil {
			t.Fatal(err)
		}
		synthIn, _ := f.model.Sample(40, 5)
		rng := rand.New(rand.NewPCG(uint64(bits), 3))
		random := make([]float32, 40*64)
		for i := range random {
			random[i] = float32(5 * rng.NormFloat64())
		}
		for name, hs := range map[string][]float32{"synthetic": synthIn, "random": random} {
			z, zf := make([]float32, 2000), make([]float32, 2000)
			var rounds, cands int
			for i := range 40 {
				h := hs[i*64 : (i+1)*64]
				cand, err := f.c.Forward(z, h)
				if err != nil {
					t.Fatal(err)
				}
				f.c.Full(zf, h)
				got := Top(nil, z, cand, 1)[0]
				if want := argmax(zf); int(got) != want && zf[got] != zf[want] {
					t.Fatalf("%v %s input %d: certified top-1 %d (%v), full %d (%v)", bits, name, i, got, zf[got], want, zf[want])
				}
				rounds += f.c.Rounds()
				cands += len(cand)
			}
			t.Logf("%v %s: %.1f rounds, %.0f candidates on average", bits, name, float64(rounds)/40, float64(cands)/40)
		}
	}
}

// On a workload whose hidden vectors stay in a low-dimensional space the
// bound is tight enough to certify with few candidates.
func TestCertifiedCheapWhenLowDim(t *testing.T) {
	cfg := synth.Default(3000, 64)
	cfg.Rank, cfg.Noise, cfg.HiddenNoise, cfg.LatentNoise = 16, 0, 0, 0.2
	m, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lin := spec.NewLinear(m.W, m.B, 3000, 64)
	cal, _ := m.Sample(1024, 1)
	s, err := Fit(lin, cal, Options{Bits: FP32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(lin, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetSelection(Selection{Mode: Certified, M: 8}); err != nil {
		t.Fatal(err)
	}
	hs, _ := m.Sample(50, 2)
	q, err := c.Evaluate(hs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Top1 != 1 {
		t.Errorf("certified top-1 agreement %v", q.Top1)
	}
	t.Logf("low-dimensional workload: %.1f candidates, %.1f rounds", q.Candidates, q.Rounds)
	if q.Candidates > 300 {
		t.Errorf("%.0f candidates on average, want a certificate well below l = 3000", q.Candidates)
	}
}

// Batch mode gives every vector exact logits on the union of the
// candidates and the screener's elsewhere.
func TestForwardBatch(t *testing.T) {
	f := newFixture(t, 2000, 64, Options{})
	if err := f.c.SetSelection(Selection{Mode: TopM, M: 30}); err != nil {
		t.Fatal(err)
	}
	const n = 6
	hs, _ := f.model.Sample(n, 8)
	z := make([]float32, n*2000)
	union, err := f.c.ForwardBatch(z, hs, n)
	if err != nil {
		t.Fatal(err)
	}
	union = slices.Clone(union)
	want := map[int32]bool{}
	zt, ref := make([]float32, 2000), make([]float32, 2000)
	for i := range n {
		f.c.Screen(zt, hs[i*64:(i+1)*64])
		for _, j := range f.c.Select(zt) {
			want[j] = true
		}
	}
	if len(union) != len(want) {
		t.Fatalf("union of %d, want %d", len(union), len(want))
	}
	inUnion := make([]bool, 2000)
	for _, j := range union {
		if !want[j] {
			t.Fatalf("%d in the union but selected by no vector", j)
		}
		inUnion[j] = true
	}
	for i := range n {
		h := hs[i*64 : (i+1)*64]
		f.lin.Apply(ref, h)
		f.c.Screen(zt, h)
		for j, v := range z[i*2000 : (i+1)*2000] {
			w := zt[j]
			if inUnion[j] {
				w = ref[j]
			}
			if math.Abs(float64(v-w)) > 1e-4*(1+math.Abs(float64(w))) {
				t.Fatalf("vector %d class %d: %v, want %v (union %v)", i, j, v, w, inUnion[j])
			}
		}
	}
	// Gathering the rows for one GEMM gives the same logits.
	z2 := slices.Clone(z)
	f.c.gatherGemm(z2, hs, n, union)
	for i := range z {
		if math.Abs(float64(z[i]-z2[i])) > 1e-4*(1+math.Abs(float64(z[i]))) {
			t.Fatalf("gathered GEMM %v vs gather GEMV %v at %d", z2[i], z[i], i)
		}
	}
}

func TestLogSoftmax(t *testing.T) {
	z := []float32{1000, 999, 0, -1e4}
	dst := make([]float32, 4)
	if err := LogSoftmax(dst, z); err != nil {
		t.Fatal(err)
	}
	lse := 1000 + math.Log(1+math.Exp(-1)+math.Exp(-1000)+math.Exp(-11000))
	for i, v := range z {
		if want := float64(v) - lse; math.Abs(float64(dst[i])-want) > 1e-3 {
			t.Errorf("log p[%d] = %v, want %v", i, dst[i], want)
		}
	}
	if lp, err := LogProb(z, 1); err != nil || math.Abs(lp-(999-lse)) > 1e-9 {
		t.Errorf("LogProb = %v, %v", lp, err)
	}
	if _, err := LogProb([]float32{0, float32(math.NaN())}, 0); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN logit: %v, want ErrNotFinite", err)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, 1000, 32, Options{})
	nan := float32(math.NaN())
	hs, _ := f.model.Sample(300, 1)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"m > classes", f.c.SetSelection(Selection{Mode: TopM, M: 1001}), ErrParam},
		{"m = 0", f.c.SetSelection(Selection{Mode: TopM}), ErrParam},
		{"negative gap", f.c.SetSelection(Selection{Mode: Gap, Gap: -1}), ErrParam},
		{"NaN gap", f.c.SetSelection(Selection{Mode: Gap, Gap: nan}), ErrParam},
		{"unknown mode", f.c.SetSelection(Selection{Mode: 9, M: 1}), ErrParam},
		{"δ = 0", calibErr(f.c, hs, 0), ErrParam},
		{"δ = 1", calibErr(f.c, hs, 1), ErrParam},
		{"δ < 0", calibErr(f.c, hs, -0.1), ErrParam},
		{"δ NaN", calibErr(f.c, hs, math.NaN()), ErrParam},
		{"too few for δ", calibErr(f.c, hs[:10*32], 0.01), ErrCalib},
		{"empty calibration", fitErr(f.lin, nil, Options{}), ErrCalib},
		{"calibration < k+2", fitErr(f.lin, hs[:8*32], Options{}), ErrCalib},
		{"NaN calibration", fitErr(f.lin, append(slices.Clone(hs[:299*32]), slices.Repeat([]float32{nan}, 32)...), Options{}), ErrNotFinite},
		{"k/d > 1", fitErr(f.lin, hs, Options{KRatio: 1.5}), ErrParam},
		{"3 bits", fitErr(f.lin, hs, Options{Bits: 3}), ErrParam},
		{"negative ridge", fitErr(f.lin, hs, Options{Lambda: -1}), ErrParam},
		{"NaN hidden", forwardErr(f.c, append([]float32{nan}, hs[1:32]...)), ErrNotFinite},
		{"parse mode", func() error { _, err := ParseMode("nope"); return err }(), ErrParam},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}

	// NaN logits from a corrupted classifier.
	w := slices.Clone(f.lin.W)
	w[0] = nan
	bad := newClassifier(spec.NewLinear(w, f.lin.B, 1000, 32), f.s, nil)
	if err := bad.SetSelection(Selection{Mode: TopM, M: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := forwardErr(bad, hs[:32]); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN logit: %v, want ErrNotFinite", err)
	}

	// Certified needs the bound.
	nb, err := Fit(f.lin, hs, Options{NoBound: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(f.lin, nb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetSelection(Selection{Mode: Certified, M: 4}); !errors.Is(err, ErrParam) {
		t.Errorf("certified without bound: %v, want ErrParam", err)
	}
	// Batch certified is refused.
	if err := f.c.SetSelection(Selection{Mode: Certified, M: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.ForwardBatch(make([]float32, 2000), hs[:64], 2); !errors.Is(err, ErrParam) {
		t.Errorf("certified batch: %v, want ErrParam", err)
	}
}

func calibErr(c *Classifier, hs []float32, delta float64) error {
	_, err := c.Calibrate(hs, delta)
	return err
}

func fitErr(lin *spec.Linear, hs []float32, o Options) error {
	_, err := Fit(lin, hs, o, nil)
	return err
}

func forwardErr(c *Classifier, h []float32) error {
	_, err := c.Forward(make([]float32, c.Lin.N), h)
	return err
}

// A saved screener reloads to the same outputs and bound, and refuses a
// classifier it was not fitted to.
func TestSaveLoadFingerprint(t *testing.T) {
	for _, bits := range []quant.Bits{quant.Int4, quant.Int8, quant.Int2, quant.Int16, FP32} {
		f := newFixture(t, 800, 32, Options{Bits: bits})
		path := filepath.Join(t.TempDir(), "s.safetensors")
		if err := f.s.Save(path); err != nil {
			t.Fatal(err)
		}
		s2, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := NewClassifier(f.lin, s2, nil)
		if err != nil {
			t.Fatal(err)
		}
		hs, _ := f.model.Sample(3, 4)
		a, b := make([]float32, 800), make([]float32, 800)
		for i := range 3 {
			f.c.Screen(a, hs[i*32:(i+1)*32])
			c2.Screen(b, hs[i*32:(i+1)*32])
			if !slices.Equal(a, b) {
				t.Fatalf("%v: reloaded screener differs", bits)
			}
		}
		if !slices.Equal(f.s.Bound.Norm, s2.Bound.Norm) || !slices.Equal(f.s.Bound.Basis, s2.Bound.Basis) ||
			!slices.Equal(f.s.Bound.Abs, s2.Bound.Abs) || f.s.Bound.Leak != s2.Bound.Leak {
			t.Errorf("%v: reloaded bound differs", bits)
		}

		w := slices.Clone(f.lin.W)
		w[17] += 1e-3
		if _, err := NewClassifier(spec.NewLinear(w, f.lin.B, 800, 32), s2, nil); !errors.Is(err, ErrMismatch) {
			t.Errorf("%v: other weights: %v, want ErrMismatch", bits, err)
		}
		if _, err := NewClassifier(spec.NewLinear(f.lin.W[:799*32], f.lin.B[:799], 799, 32), s2, nil); !errors.Is(err, ErrMismatch) {
			t.Errorf("%v: other shape: %v, want ErrMismatch", bits, err)
		}
	}
}

// SGD (Algorithm 3) reaches a loss near the closed form's, never below.
func TestFitSGD(t *testing.T) {
	m, _ := synth.New(synth.Default(500, 32))
	lin := spec.NewLinear(m.W, m.B, 500, 32)
	hs, _ := m.Sample(1024, 3)
	cf, err := Fit(lin, hs, Options{Bits: FP32, NoBound: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sgd, err := Fit(lin, hs, Options{Bits: FP32, NoBound: true, SGD: true, SGDConfig: spec.SGDConfig{Epochs: 20, Seed: 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sgd.MSE < cf.MSE*(1-1e-3) || sgd.MSE > 1.5*cf.MSE {
		t.Errorf("SGD MSE %g, closed form %g", sgd.MSE, cf.MSE)
	}
}

func TestTop(t *testing.T) {
	z := []float32{3, 9, 1, 9, 7, 0}
	got := Top(nil, z, []int32{0, 1, 2, 3, 4, 5}, 3)
	if !slices.Equal(got, []int32{1, 3, 4}) {
		t.Errorf("Top = %v, want [1 3 4]", got)
	}
	if got := Top(nil, z, []int32{0, 1}, 0); len(got) != 0 {
		t.Errorf("Top k=0 = %v", got)
	}
}

func TestRunBenchSmall(t *testing.T) {
	res, err := RunBench(BenchConfig{Classes: 3000, Dim: 64, Reps: 3, LLC: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.M < 5 || res.Candidates != float64(res.M) || res.Top1Agreement <= 0 || res.FullMs <= 0 || res.ScreenMs <= 0 ||
		res.Coverage < 0.9 || res.Conformal == nil {
		t.Errorf("implausible result %+v", res)
	}
	if res.PhaseNote == "" || res.PhaseSelectMs != 0 {
		t.Errorf("batch 1: phase note %q, select %v ms; want the selection fused into screen", res.PhaseNote, res.PhaseSelectMs)
	}
	if math.Abs(res.CodeRatio-0.03125) > 1e-12 {
		t.Errorf("code ratio %v, want 0.03125", res.CodeRatio)
	}
	res, err = RunBench(BenchConfig{Classes: 3000, Dim: 64, Reps: 2, Batch: 4, M: 10, LLC: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidates < 10 || res.Candidates > 40 {
		t.Errorf("batch union of %v candidates, want in [10, 40]", res.Candidates)
	}
	// A union larger than one Select's buffer: building it in that buffer
	// (which the next item's Select overwrites) once produced garbage rows.
	res, err = RunBench(BenchConfig{Classes: 3000, Dim: 64, Reps: 2, Batch: 4, M: 300, LLC: 1 << 20, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidates < 300 || res.Candidates > 1200 {
		t.Errorf("batch union of %v candidates, want in [300, 1200]", res.Candidates)
	}
	if _, err := RunBench(BenchConfig{Classes: 10_000_000, Dim: 512, Reps: 1}); !errors.Is(err, ErrParam) {
		t.Errorf("10M×512 float32: %v, want ErrParam", err)
	}
	if _, err := RunBench(BenchConfig{Classes: 3000, Dim: 64, Half: true, Batch: 2, Reps: 1}); !errors.Is(err, ErrParam) {
		t.Errorf("float16 at batch 2: %v, want ErrParam", err)
	}
	res, err = RunBench(BenchConfig{Classes: 3000, Dim: 64, Half: true, Reps: 3, LLC: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.DType != "float16" || res.ClassifierBytes != 3000*(2*64+4) || math.Abs(res.CodeRatio-0.0625) > 1e-12 ||
		res.Top1Agreement <= 0 || res.Coverage < 0.9 {
		t.Errorf("float16: implausible result %+v", res)
	}
}

// Forward with an INT4 screener selects inside the GEMV, on the caller or
// in a pool's tasks; the candidates and logits must be those of screening,
// then selecting with kernels.TopK, then the exact rows, for m on the
// streaming path and beyond it.
func TestForwardFusedSelection(t *testing.T) {
	const l, d = 20000, 64
	f := newFixture(t, l, d, Options{NoBound: true})
	ref := newClassifier(f.lin, f.s, nil)
	hs, _ := f.model.Sample(4, 13)
	work := make([]int32, l)
	for _, workers := range []int{0, 1, 2, 3} { // 0: no pool
		var p *kernels.Pool
		if workers > 0 {
			p = kernels.NewPool(workers)
		}
		c := newClassifier(f.lin, f.s, p)
		if !c.run.fuses() {
			t.Fatalf("workers=%d: INT4 screener does not fuse", workers)
		}
		for _, m := range []int{1, 16, l / 512, 300} {
			if err := c.SetSelection(Selection{Mode: TopM, M: m}); err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				h := hs[i*d : (i+1)*d]
				z, want := make([]float32, l), make([]float32, l)
				cand, err := c.Forward(z, h)
				if err != nil {
					t.Fatal(err)
				}
				ref.Screen(want, h)
				wantCand, _ := kernels.TopK(work, want, m, false)
				ref.ExactRows(want, h, wantCand)
				if !slices.Equal(cand, wantCand) {
					t.Fatalf("workers=%d m=%d input %d: candidates %v, want %v", workers, m, i, cand[:min(8, len(cand))], wantCand[:min(8, len(wantCand))])
				}
				for j := range z {
					if z[j] != want[j] {
						t.Fatalf("workers=%d m=%d input %d: z[%d] = %v, want %v", workers, m, i, j, z[j], want[j])
					}
				}
			}
		}
		p.Close() // a no-op on nil
	}
}

// The certified mode's per-class bound must hold for every class on any
// input, including the error the integer paths add by projecting h
// quantized to INT8 (rproj.Signs) and quantizing the projection again.
func TestBoundHoldsPerClass(t *testing.T) {
	for _, bits := range []quant.Bits{quant.Int4, quant.Int8, FP32} {
		f := newFixture(t, 1000, 64, Options{Bits: bits})
		synthIn, _ := f.model.Sample(20, 9)
		rng := rand.New(rand.NewPCG(uint64(bits), 4))
		random := make([]float32, 20*64)
		for i := range random {
			random[i] = float32(5 * rng.NormFloat64())
		}
		c, b := f.c, f.s.Bound
		zf, exact := make([]float32, 1000), make([]float32, f.s.K)
		var worst float64
		for name, hs := range map[string][]float32{"synthetic": synthIn, "random": random} {
			for i := range 20 {
				h := hs[i*64 : (i+1)*64]
				c.run.screen(nil, c.zt, h)
				b.measure(&c.sp, h, c.run.xerr(), c.tmp)
				if bits != FP32 {
					// xerr must cover x̂'s distance from the exact P·h.
					f.s.Spec.P.Apply(exact, h)
					var d float64
					for k, v := range exact {
						d = math.Max(d, math.Abs(float64(c.run.zq[k])*float64(c.run.xscale)-float64(v)))
					}
					if e := float64(c.run.xerr()); d > e*(1+certSlack)+1e-7 {
						t.Fatalf("%v %s input %d: |P·h − x̂|_∞ = %g > xerr %g", bits, name, i, d, e)
					}
				}
				c.Full(zf, h)
				for j := range zf {
					gap := math.Abs(float64(zf[j]) - float64(c.zt[j]))
					e := float64(b.row(j, &c.sp))
					if gap > e*(1+certSlack) {
						t.Fatalf("%v %s input %d class %d: |z − z̃| = %g > bound %g", bits, name, i, j, gap, e)
					}
					worst = math.Max(worst, gap/e)
				}
			}
		}
		t.Logf("%v: largest |z − z̃| / bound %.3f", bits, worst)
	}
}

// A screener whose projection is not an *rproj.Projection cannot be run
// (the runner needs P's signs): NewClassifier refuses it instead of
// panicking.
func TestForeignProjector(t *testing.T) {
	f := newFixture(t, 200, 16, Options{})
	f.s.Spec.P = wrappedProjector{f.s.Spec.P}
	if _, err := NewClassifier(f.lin, f.s, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("screener on a %T: %v, want ErrMismatch", f.s.Spec.P, err)
	}
}

type wrappedProjector struct{ spec.Projector }
