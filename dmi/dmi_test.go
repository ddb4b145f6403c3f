package dmi

import (
	"errors"
	"fmt"
	"github.com/elasticml/elastic/spec"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/sel"
)

// testLayer returns a random recurrent layer and calibration samples
// recorded by running it over random input sequences, so h has the
// statistics of real states.
func testLayer(t testing.TB, cell nn.Cell, in, hidden, samples int, seed uint64) (nn.Recurrent, []float32, []float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var l nn.Recurrent
	if cell == nn.LSTMCell {
		l = nn.NewLSTM(in, hidden, 0, rng)
	} else {
		l = nn.NewGRU(in, hidden, 0, rng)
	}
	// Larger weights than PyTorch's init make gates saturate, as trained
	// ones do, so selection matters.
	for _, p := range l.Params() {
		for i := range p.Data {
			p.Data[i] *= 3
		}
	}
	xs := make([]float32, samples*in)
	hs := make([]float32, samples*hidden)
	h, c := make([]float32, hidden), make([]float32, hidden)
	for s := range samples {
		if s%20 == 0 {
			clear(h)
			clear(c)
		}
		x := xs[s*in : (s+1)*in]
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		copy(hs[s*hidden:], h)
		l.Step(h, c, x)
	}
	return l, xs, hs
}

func fitTestLayer(t testing.TB, cell nn.Cell, o Options) (*Layer, nn.Recurrent, []float32, []float32) {
	t.Helper()
	const in, hidden = 12, 10
	l, xs, hs := testLayer(t, cell, in, hidden, 400, 7)
	lt, err := FitLayer(l.Weights(), xs, hs, o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewLayer(l.Weights(), lt, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, l, xs, hs
}

var cells = []nn.Cell{nn.LSTMCell, nn.GRUCell}

func near(a, b []float32, tol float64) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol || math.IsNaN(float64(a[i])) != math.IsNaN(float64(b[i])) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestKMatchesTable34(t *testing.T) {
	for _, tc := range []struct {
		eps  float64
		n, k int
	}{
		{0.5, 6000, 417}, // LSTM-1500, Table 3.4
		{0.3, 6000, 966},
		{0.7, 6000, 266},
	} {
		k, err := Options{Eps: tc.eps}.withDefaults().projDim(tc.n)
		if err != nil || k != tc.k {
			t.Errorf("ε=%v n=%d: k=%d, %v; want %d", tc.eps, tc.n, k, err, tc.k)
		}
	}
}

func TestRatioZeroIsExact(t *testing.T) {
	for _, cell := range cells {
		t.Run(cell.String(), func(t *testing.T) {
			d, ref, xs, hs := fitTestLayer(t, cell, Options{K: 6})
			if err := d.SetRatio(0); err != nil {
				t.Fatal(err)
			}
			H := ref.Weights().Hidden
			h1, c1 := slices.Clone(hs[5*H:6*H]), make([]float32, H)
			h2, c2 := slices.Clone(h1), slices.Clone(c1)
			for s := range 8 {
				x := xs[s*12 : (s+1)*12]
				ref.Step(h1, c1, x)
				d.Step(h2, c2, x)
				if !near(h1, h2, 1e-6) || (cell == nn.LSTMCell && !near(c1, c2, 1e-6)) {
					t.Fatalf("step %d: dual-module h %v, exact %v", s, h2, h1)
				}
			}
			if n := len(d.Sensitive()); n != cell.Gates()*H {
				t.Errorf("ratio 0 computed %d rows exactly, want all %d", n, cell.Gates()*H)
			}
		})
	}
	t.Run("fc", func(t *testing.T) {
		f := testLinear(t, sel.Tanh)
		x := testInputs(32, 1, 3)
		z1, z2 := make([]float32, f.N), make([]float32, f.N)
		f.Exact(z1, x)
		f.Forward(z2, x)
		if !near(z1, z2, 1e-6) {
			t.Errorf("ratio 0: %v, exact %v", z2, z1)
		}
	})
}

func testInputs(d, n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func testLinear(t testing.TB, act sel.Activation) *Linear {
	t.Helper()
	const n, d = 40, 32
	w := testInputs(d, n, 11)
	for i := range w {
		w[i] *= 0.3
	}
	b := testInputs(n, 1, 12)
	f, err := FitLinear(w, b, n, d, act, testInputs(d, 300, 13), Options{K: 8})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTopKCountsPerGate(t *testing.T) {
	for _, cell := range cells {
		d, ref, xs, hs := fitTestLayer(t, cell, Options{K: 6})
		H := ref.Weights().Hidden
		for _, r := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
			if err := d.SetRatio(r); err != nil {
				t.Fatal(err)
			}
			d.ResetCounts()
			d.Speculate(hs[H:2*H], xs[12:24])
			want := H - int(math.Round(r*float64(H)))
			perGate := make([]int, cell.Gates())
			for _, i := range d.Sensitive() {
				perGate[int(i)/H]++
			}
			for g, n := range perGate {
				if n != want {
					t.Errorf("%v ratio %v gate %s: %d exact rows, want %d", cell, r, GateNames(cell)[g], n, want)
				}
			}
			for g, got := range d.InsensitiveRatio() {
				if w := float64(H-want) / float64(H); got != w {
					t.Errorf("%v ratio %v gate %d: measured insensitive ratio %v, want %v", cell, r, g, got, w)
				}
			}
		}
	}
	f := testLinear(t, sel.Sigmoid)
	z := make([]float32, f.N)
	for _, r := range []float64{0.25, 0.5, 0.9} {
		if err := f.SetRatio(r); err != nil {
			t.Fatal(err)
		}
		if got, want := len(f.Forward(z, testInputs(32, 1, 4))), f.N-int(math.Round(r*float64(f.N))); got != want {
			t.Errorf("fc ratio %v: %d exact rows, want %d", r, got, want)
		}
	}
}

// exactPre returns the little-module-shaped exact targets for (x, h).
func exactPre(w nn.LayerWeights, x, h []float32) []float32 {
	lin := jointMap(w)
	y := make([]float32, lin.N)
	lin.Apply(y, append(slices.Clone(x), h...))
	return y
}

func TestAssembly(t *testing.T) {
	for _, cell := range cells {
		t.Run(cell.String(), func(t *testing.T) {
			d, ref, xs, hs := fitTestLayer(t, cell, Options{K: 5})
			if err := d.SetRatio(0.5); err != nil {
				t.Fatal(err)
			}
			w := ref.Weights()
			H := w.Hidden
			x, h := xs[24:36], slices.Clone(hs[2*H:3*H])
			c := testInputs(H, 1, 5)
			d.Speculate(h, x)
			little := slices.Clone(d.y)
			exact := exactPre(w, x, h)
			m := make([]bool, w.Cell.Gates()*H)
			sel.Mask(m, d.Sensitive())
			// Each gate keeps its rows of smallest |predicted pre-activation|,
			// for the GRU's n the predicted n_x + σ(r̃)⊙n_h.
			pred := make([]float32, H)
			for g := range w.Cell.Gates() {
				gatePre(pred, little, g, H, cell, true)
				maxIn, minOut := float32(-1), float32(math.Inf(1))
				for j, v := range pred {
					if m[g*H+j] {
						maxIn = max(maxIn, abs32(v))
					} else {
						minOut = min(minOut, abs32(v))
					}
				}
				if maxIn > minOut {
					t.Errorf("gate %s: a selected |y| %v exceeds an unselected %v", GateNames(cell)[g], maxIn, minOut)
				}
			}

			// The state eq. 3.5 gives: exact rows where selected, the
			// little module's elsewhere, then the exact update.
			hWant, cWant := slices.Clone(h), slices.Clone(c)
			if cell == nn.LSTMCell {
				pre := make([]float32, 4*H)
				for i := range pre {
					pre[i] = little[i]
					if m[i] {
						pre[i] = exact[i]
					}
				}
				nn.LSTMUpdate(hWant, cWant, pre)
			} else {
				gx, gh := slices.Clone(little[:3*H]), make([]float32, 3*H)
				copy(gh[2*H:], little[3*H:])
				for i := range m {
					if !m[i] {
						continue
					}
					// Exact halves; for r and z only the sum matters.
					if i < 2*H {
						gx[i], gh[i] = exact[i], 0
					} else {
						gx[i], gh[i] = exact[i], exact[i+H]
					}
				}
				nn.GRUUpdate(hWant, gx, gh)
			}
			hDense, cDense := slices.Clone(h), slices.Clone(c)
			ref.Step(hDense, cDense, x)

			d.Execute(h, c, x)
			if !near(h, hWant, 1e-5) || (cell == nn.LSTMCell && !near(c, cWant, 1e-5)) {
				t.Errorf("h = %v, want %v", h, hWant)
			}
			if near(h, hDense, 1e-6) {
				t.Error("ratio 0.5 step equals the exact step: nothing was approximated")
			}
		})
	}
	t.Run("fc", func(t *testing.T) {
		f := testLinear(t, sel.Identity)
		if err := f.SetRatio(0.6); err != nil {
			t.Fatal(err)
		}
		x := testInputs(32, 1, 6)
		z, exact := make([]float32, f.N), make([]float32, f.N)
		f.Exact(exact, x)
		idx := slices.Clone(f.Forward(z, x))
		little := make([]float32, f.N)
		f.run.predict(nil, little, x, nil)
		m := make([]bool, f.N)
		sel.Mask(m, idx)
		for i := range z {
			if m[i] && math.Abs(float64(z[i]-exact[i])) > 1e-5 {
				t.Errorf("selected row %d: %v, exact %v", i, z[i], exact[i])
			}
			if !m[i] && z[i] != little[i] {
				t.Errorf("unselected row %d: %v, little module %v", i, z[i], little[i])
			}
		}
		if n := testing.AllocsPerRun(10, func() { f.Forward(z, x) }); n != 0 {
			t.Errorf("%v allocations per Forward", n)
		}
	})
}

func TestLittleBeatsZero(t *testing.T) {
	const in, hidden = 12, 10
	l, xs, hs := testLayer(t, nn.LSTMCell, in, hidden, 1200, 21)
	w := l.Weights()
	mse := map[quant.Bits]float64{}
	for _, bits := range []quant.Bits{FP32, quant.Int8, quant.Int2} {
		// Fit on the first 800 samples, judge on the last 400.
		lt, err := FitLayer(w, xs[:800*in], hs[:800*hidden], Options{K: 8, Bits: bits})
		if err != nil {
			t.Fatal(err)
		}
		run := newLittleRun(lt)
		approx := make([]float32, lt.Rows())
		var e, z float64
		for s := 800; s < 1200; s++ {
			x, h := xs[s*in:(s+1)*in], hs[s*hidden:(s+1)*hidden]
			run.predict(nil, approx, x, h)
			for i, v := range exactPre(w, x, h) {
				e += float64(v-approx[i]) * float64(v-approx[i])
				z += float64(v) * float64(v)
			}
		}
		if bits != quant.Int2 && (!(e < 0.5*z) || !(lt.MSE < 0.5*lt.ZeroMSE)) {
			t.Errorf("%v: held-out MSE %.4g vs zero predictor %.4g (calibration %.4g vs %.4g)", bits, e/400, z/400, lt.MSE, lt.ZeroMSE)
		}
		mse[bits] = e
	}
	// Table 3.5: coarser W̃ approximates worse.
	if !(mse[FP32] < mse[quant.Int2]) {
		t.Errorf("FP32 MSE %v not below INT2 %v", mse[FP32], mse[quant.Int2])
	}
}

func TestUnselectedRowsNotRead(t *testing.T) {
	for _, cell := range cells {
		t.Run(cell.String(), func(t *testing.T) {
			d, ref, xs, hs := fitTestLayer(t, cell, Options{K: 6})
			w := ref.Weights()
			pw := w
			pw.WIH, pw.WHH, pw.BIH, pw.BHH = slices.Clone(w.WIH), slices.Clone(w.WHH), slices.Clone(w.BIH), slices.Clone(w.BHH)
			p, err := NewLayer(pw, d.Little(), nil)
			if err != nil {
				t.Fatal(err)
			}
			H := w.Hidden
			for _, l := range []*Layer{d, p} {
				if err := l.SetRatio(0.6); err != nil {
					t.Fatal(err)
				}
			}
			h1, c1 := slices.Clone(hs[:H]), make([]float32, H)
			h2, c2 := slices.Clone(h1), slices.Clone(c1)
			for s := range 5 {
				x := xs[s*12 : (s+1)*12]
				d.Speculate(h1, x)
				p.Speculate(h2, x)
				// Restore, then poison the rows this step leaves out.
				copy(pw.WIH, w.WIH)
				copy(pw.WHH, w.WHH)
				copy(pw.BIH, w.BIH)
				copy(pw.BHH, w.BHH)
				m := make([]bool, len(pw.BIH))
				sel.Mask(m, p.Sensitive())
				nan := float32(math.NaN())
				for r, keep := range m {
					if keep {
						continue
					}
					pw.BIH[r], pw.BHH[r] = nan, nan
					for j := range w.In {
						pw.WIH[r*w.In+j] = nan
					}
					for j := range H {
						pw.WHH[r*H+j] = nan
					}
				}
				d.Execute(h1, c1, x)
				p.Execute(h2, c2, x)
				if err := checkFinite("h", h2); err != nil {
					t.Fatalf("step %d: %v", s, err)
				}
				if !slices.Equal(h1, h2) || !slices.Equal(c1, c2) {
					t.Fatalf("step %d: poisoned %v, clean %v", s, h2, h1)
				}
			}
		})
	}
	t.Run("fc", func(t *testing.T) {
		f := testLinear(t, sel.ReLU)
		w := slices.Clone(f.W)
		g, err := NewLinear(w, slices.Clone(f.B), f.N, f.D, f.Act, f.Little(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []*Linear{f, g} {
			if err := l.SetRatio(0.5); err != nil {
				t.Fatal(err)
			}
		}
		x := testInputs(32, 1, 8)
		// Selection depends on x only through the little module, which
		// the two share: poison the rows a clean run leaves out.
		z1, z2 := make([]float32, f.N), make([]float32, f.N)
		m := make([]bool, f.N)
		sel.Mask(m, f.Forward(z1, x))
		for r, keep := range m {
			if !keep {
				g.B[r] = float32(math.NaN())
				for j := range f.D {
					w[r*f.D+j] = float32(math.NaN())
				}
			}
		}
		g.Forward(z2, x)
		if !slices.Equal(z1, z2) {
			t.Errorf("poisoned %v, clean %v", z2, z1)
		}
	})
}

func TestSelectionModes(t *testing.T) {
	d, ref, xs, hs := fitTestLayer(t, nn.LSTMCell, Options{K: 6})
	H := ref.Weights().Hidden
	x, h := xs[:12], hs[:H]
	for _, tc := range []struct {
		s    Selection
		want int // exact rows, -1: check against the thresholds
	}{
		{Selection{Mode: Fixed, Theta: 1e30}, 4 * H},
		{Selection{Mode: Fixed, Theta: 0}, 0},
		{Selection{Mode: Fixed, Theta: 1.5}, -1},
		{Selection{Mode: Adaptive, Theta: 0.01}, -1},
	} {
		if err := d.SetSelection(tc.s); err != nil {
			t.Fatal(err)
		}
		d.Speculate(h, x)
		want := tc.want
		if want < 0 {
			want = 0
			for g, act := range gateActs(nn.LSTMCell) {
				th := float32(tc.s.Theta)
				if tc.s.Mode == Adaptive {
					a, err := sel.Adaptive(act, tc.s.Theta, d.Little().Delta[g])
					if err != nil {
						t.Fatal(err)
					}
					th = a.Theta
				}
				for _, v := range d.y[g*H : (g+1)*H] {
					if !act.Insensitive(v, th) {
						want++
					}
				}
			}
		}
		if got := len(d.Sensitive()); got != want {
			t.Errorf("%+v: %d exact rows, want %d", tc.s, got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	d, ref, xs, hs := fitTestLayer(t, nn.GRUCell, Options{K: 6})
	for _, r := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if err := d.SetRatio(r); !errors.Is(err, sel.ErrRatio) {
			t.Errorf("SetRatio(%v) = %v, want sel.ErrRatio", r, err)
		}
	}
	if err := d.SetSelection(Selection{Mode: Adaptive, Theta: -1}); !errors.Is(err, ErrParam) {
		t.Errorf("adaptive θ=-1: %v, want ErrParam", err)
	}
	w := ref.Weights()
	bad := slices.Clone(xs)
	bad[5] = float32(math.NaN())
	if _, err := FitLayer(w, bad, hs, Options{K: 6}); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN sample: %v, want ErrNotFinite", err)
	}
	if _, err := FitLayer(w, xs[:10*12], hs[:10*10], Options{K: 6}); !errors.Is(err, ErrCalib) {
		t.Errorf("10 samples: %v, want ErrCalib", err)
	}
	for _, o := range []Options{{Eps: 1.5}, {Eps: math.NaN()}, {Bits: 3}, {K: -1}, {Lambda: -1}} {
		if _, err := FitLayer(w, xs, hs, o); !errors.Is(err, ErrParam) {
			t.Errorf("%+v: %v, want ErrParam", o, err)
		}
	}
	// A little module for another shape.
	other, oxs, ohs := testLayer(t, nn.GRUCell, 12, 11, 200, 3)
	lt, err := FitLayer(other.Weights(), oxs, ohs, Options{K: 6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLayer(w, lt, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("11-unit little module on a 10-unit layer: %v, want ErrMismatch", err)
	}
	if _, err := NewLinear(make([]float32, 4*3), nil, 4, 3, sel.ReLU, lt, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("recurrent little module on an FC layer: %v, want ErrMismatch", err)
	}
	// A projection the run cannot take apart (it needs P's signs) is
	// refused, not a panic.
	own, oxs2, ohs2 := testLayer(t, nn.GRUCell, 12, 10, 200, 3)
	lt2, err := FitLayer(own.Weights(), oxs2, ohs2, Options{K: 6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLayer(own.Weights(), lt2, nil); err != nil {
		t.Fatalf("own little module: %v", err)
	}
	lt2.X.P = denseProjector{lt2.X.P}
	if _, err := NewLayer(own.Weights(), lt2, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("little module on a %T: %v, want ErrMismatch", lt2.X.P, err)
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	for _, cell := range cells {
		d, ref, xs, hs := fitTestLayer(t, cell, Options{K: 6})
		H := ref.Weights().Hidden
		h, c := slices.Clone(hs[:H]), make([]float32, H)
		if err := d.SetRatio(0.5); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() { d.Step(h, c, xs[:12]) }); n != 0 {
			t.Errorf("%v: %v allocations per step", cell, n)
		}
	}
}

func TestPoolMatchesSerial(t *testing.T) {
	p := kernels.NewPool(2)
	defer p.Close()
	for _, cell := range cells {
		d, ref, xs, hs := fitTestLayer(t, cell, Options{K: 6})
		H := ref.Weights().Hidden
		q, err := NewLayer(ref.Weights(), d.Little(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []*Layer{d, q} {
			if err := l.SetRatio(0.3); err != nil {
				t.Fatal(err)
			}
		}
		h1, c1 := slices.Clone(hs[:H]), make([]float32, H)
		h2, c2 := slices.Clone(h1), slices.Clone(c1)
		for s := range 4 {
			d.Step(h1, c1, xs[s*12:(s+1)*12])
			q.Step(h2, c2, xs[s*12:(s+1)*12])
		}
		if !near(h1, h2, 1e-5) {
			t.Errorf("%v: pooled %v, serial %v", cell, h2, h1)
		}
	}
}

func BenchmarkLayerStep(b *testing.B) {
	const in, hidden = 256, 256
	l, xs, hs := testLayer(b, nn.LSTMCell, in, hidden, 1200, 1)
	lt, err := FitLayer(l.Weights(), xs, hs, Options{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewLayer(l.Weights(), lt, nil)
	if err != nil {
		b.Fatal(err)
	}
	h, c := slices.Clone(hs[:hidden]), make([]float32, hidden)
	x := xs[:in]
	b.Run("dense", func(b *testing.B) {
		for b.Loop() {
			d.Dense(h, c, x)
		}
	})
	for _, r := range []float64{0, 0.5, 0.9} {
		if err := d.SetRatio(r); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("ratio=%.1f", r), func(b *testing.B) {
			for b.Loop() {
				d.Step(h, c, x)
			}
		})
	}
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// TestDenseMatchesStep checks the one-dispatch dense step, on the caller
// and on pools of two and three workers, against the layer's own
// nn.Recurrent.Step over a few steps: the same float32 GEMVs row by row,
// split differently, so they agree to rounding; a wrong gate block, a
// task reading a new h, or a unit left out would not.
func TestDenseMatchesStep(t *testing.T) {
	for _, cell := range []nn.Cell{nn.LSTMCell, nn.GRUCell} {
		// Big enough that the pools split the units into several tasks.
		const in, hidden = 301, 600
		l, xs, hs := testLayer(t, cell, in, hidden, 6, 9)
		lt := randomLittle(t, cell, in, hidden, 64, quant.Int8, 3, 5)
		for _, workers := range []int{0, 2, 3} {
			var p *kernels.Pool
			if workers > 0 {
				p = kernels.NewPool(workers)
			}
			d, err := NewLayer(l.Weights(), lt, p)
			if err != nil {
				t.Fatal(err)
			}
			if workers > 0 && hidden < 2*d.denseGrain {
				t.Fatalf("%d units run as one task (grain %d)", hidden, d.denseGrain)
			}
			h, c := slices.Clone(hs[:hidden]), make([]float32, hidden)
			rh, rc := slices.Clone(h), make([]float32, hidden)
			for s := range 5 {
				x := xs[s*in : (s+1)*in]
				d.Dense(h, c, x)
				if cell == nn.LSTMCell {
					l.Step(rh, rc, x)
				} else {
					l.Step(rh, nil, x)
				}
				for j := range h {
					if e := math.Abs(float64(h[j] - rh[j])); e > 1e-5 {
						t.Fatalf("%v workers=%d step %d: h[%d] = %v, Step gives %v", cell, workers, s, j, h[j], rh[j])
					}
					if cell == nn.LSTMCell && math.Abs(float64(c[j]-rc[j])) > 1e-5*(1+math.Abs(float64(rc[j]))) {
						t.Fatalf("%v workers=%d step %d: c[%d] = %v, Step gives %v", cell, workers, s, j, c[j], rc[j])
					}
				}
			}
			// The dual-module step on the pool against the same on the
			// caller: each row is the same dot product however the
			// units are split, so the states agree to rounding.
			serial, err := NewLayer(l.Weights(), lt, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []*Layer{d, serial} {
				if err := m.SetRatio(0.5); err != nil {
					t.Fatal(err)
				}
			}
			h2, c2 := slices.Clone(h), slices.Clone(c)
			for s := range 5 {
				x := xs[s*in : (s+1)*in]
				d.Step(h, c, x)
				serial.Step(h2, c2, x)
			}
			if !near(h, h2, 1e-6) || (cell == nn.LSTMCell && !near(c, c2, 1e-6)) {
				t.Errorf("%v workers=%d: pooled dual-module step %v, serial %v", cell, workers, h[:4], h2[:4])
			}
			p.Close() // a no-op on nil
		}
	}
}

// The layer is a speculate.Step: its little module's unfused Speculate
// gives the outputs the fused one leaves in the layer, and selecting them
// gate by gate with the installed selectors gives the layer's rows.
func TestLayerIsAStep(t *testing.T) {
	for _, cell := range []nn.Cell{nn.LSTMCell, nn.GRUCell} {
		layer, _, xs, hs := fitTestLayer(t, cell, Options{K: 6})
		if err := layer.SetRatio(0.4); err != nil {
			t.Fatal(err)
		}
		const in, hidden = 12, 10
		x, h := xs[:in], hs[:hidden]
		layer.Speculate(h, x)
		fused := slices.Clone(layer.y)
		got := slices.Clone(layer.Sensitive())
		y := make([]float32, len(layer.y))
		xh := append(slices.Clone(x), h...)
		littleModule{layer}.Speculate(y, xh)
		if !slices.Equal(y, fused) {
			t.Fatalf("%v: unfused outputs %v, fused %v", cell, y, fused)
		}
		v := y
		var want []int32
		for g := range cell.Gates() {
			gv := v[g*hidden : (g+1)*hidden]
			if cell == nn.GRUCell && g == 2 {
				gv = make([]float32, hidden)
				for j := range gv {
					gv[j] = y[2*hidden+j] + sigmoid(y[j])*y[3*hidden+j]
				}
			}
			for _, i := range layer.gs.sels[g].Select(nil, gv) {
				want = append(want, int32(g*hidden)+i)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: fused selection %v, gate-by-gate %v", cell, got, want)
		}
	}
}

// denseProjector hides a projection behind another type.
type denseProjector struct{ spec.Projector }
