package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refStep is one step of a recurrent layer in float64, written from
// PyTorch's documented equations gate by gate, independently of the
// batched code.
func refStep(w LayerWeights, h, c, x []float64) (hn, cn []float64) {
	H := w.Hidden
	pre := func(wm []float32, cols int, b []float32, v []float64, row int) float64 {
		s := float64(b[row])
		for k := range cols {
			s += float64(wm[row*cols+k]) * v[k]
		}
		return s
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	hn, cn = make([]float64, H), make([]float64, H)
	for u := range H {
		ih := func(gate int) float64 { return pre(w.WIH, w.In, w.BIH, x, gate*H+u) }
		hh := func(gate int) float64 { return pre(w.WHH, H, w.BHH, h, gate*H+u) }
		switch w.Cell {
		case LSTMCell:
			i := sig(ih(0) + hh(0))
			f := sig(ih(1) + hh(1))
			g := math.Tanh(ih(2) + hh(2))
			o := sig(ih(3) + hh(3))
			cn[u] = f*c[u] + i*g
			hn[u] = o * math.Tanh(cn[u])
		case GRUCell:
			r := sig(ih(0) + hh(0))
			z := sig(ih(1) + hh(1))
			n := math.Tanh(ih(2) + r*hh(2))
			hn[u] = (1-z)*n + z*h[u]
		}
	}
	return hn, cn
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func maxDiff(a []float32, b []float64) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-b[i]))
	}
	return d
}

// TestRecurrentForward compares the batched Forward of each cell and its
// batch-1 Step with the float64 reference over several steps.
func TestRecurrentForward(t *testing.T) {
	for _, tc := range []struct {
		cell                     Cell
		steps, batch, in, hidden int
	}{
		{LSTMCell, 5, 3, 7, 6},
		{LSTMCell, 1, 1, 3, 17},
		{GRUCell, 5, 3, 7, 6},
		{GRUCell, 2, 4, 9, 5},
	} {
		t.Run(fmt.Sprintf("%v/%dx%d", tc.cell, tc.steps, tc.batch), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			r := NewRNN(tc.cell, tc.in, tc.hidden, 1, 0, rng)
			layer := r.Layers[0]
			for _, p := range layer.Params() {
				p.Uniform(rng, 0.7)
			}
			w := layer.Weights()
			x := randVec(rng, tc.steps*tc.batch*tc.in, 1)
			st := r.NewState(tc.batch)
			copy(st.H[0], randVec(rng, tc.batch*tc.hidden, 1))
			var c []float32
			if tc.cell == LSTMCell {
				c = st.C[0]
				copy(c, randVec(rng, tc.batch*tc.hidden, 1))
			}
			h0 := append([]float32(nil), st.H[0]...)
			c0 := append([]float32(nil), c...)
			y := append([]float32(nil), layer.Forward(x, tc.steps, tc.batch, st.H[0], c)...)

			const tol = 1e-5
			H := tc.hidden
			for j := range tc.batch {
				h := to64(h0[j*H : (j+1)*H])
				cc := make([]float64, H)
				hs := append([]float32(nil), h0[j*H:(j+1)*H]...)
				cs := make([]float32, H)
				if c != nil {
					cc = to64(c0[j*H : (j+1)*H])
					copy(cs, c0[j*H:(j+1)*H])
				}
				for s := range tc.steps {
					xs := x[(s*tc.batch+j)*tc.in : (s*tc.batch+j+1)*tc.in]
					h, cc = refStep(w, h, cc, to64(xs))
					got := y[(s*tc.batch+j)*H : (s*tc.batch+j+1)*H]
					if d := maxDiff(got, h); d > tol {
						t.Fatalf("Forward step %d column %d: max |Δh| = %.3g", s, j, d)
					}
					layer.Step(hs, cs, xs)
					if d := maxDiff(hs, h); d > tol {
						t.Fatalf("Step %d column %d: max |Δh| = %.3g", s, j, d)
					}
				}
				if d := maxDiff(st.H[0][j*H:(j+1)*H], h); d > tol {
					t.Errorf("final h column %d: max |Δ| = %.3g", j, d)
				}
				if c != nil {
					if d := maxDiff(c[j*H:(j+1)*H], cc); d > tol {
						t.Errorf("final c column %d: max |Δ| = %.3g", j, d)
					}
				}
			}
		})
	}
}

func TestLinearForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n, in, out = 4, 6, 5
	l := NewLinear(in, out, rng)
	x := randVec(rng, n*in, 1)
	y := make([]float32, n*out)
	l.Forward(y, x, n)
	for i := range n {
		for o := range out {
			want := float64(l.Bias.Data[o])
			for k := range in {
				want += float64(x[i*in+k]) * float64(l.Weight.Data[o*in+k])
			}
			if d := math.Abs(float64(y[i*out+o]) - want); d > 1e-5 {
				t.Errorf("y[%d,%d] = %v, want %v", i, o, y[i*out+o], want)
			}
		}
	}
}

func TestCrossEntropyValues(t *testing.T) {
	for _, tc := range []struct {
		name    string
		logits  []float32
		targets []int32
		want    float64
	}{
		{"uniform", []float32{0, 0, 0, 0}, []int32{2}, math.Log(4)},
		{"shift invariant", []float32{1000, 1000, 1000, 1000}, []int32{0}, math.Log(4)},
		{"confident", []float32{-1e4, 50, -1e4}, []int32{1}, 0},
		{"two rows", []float32{1, 2, 3, 3, 2, 1}, []int32{2, 2},
			(math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 3 + math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 1) / 2},
	} {
		got := CrossEntropy(nil, nil, tc.logits, tc.targets, len(tc.logits)/len(tc.targets))
		if math.IsNaN(got) || math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: CrossEntropy = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	for _, tc := range []struct {
		grad     []float32
		maxNorm  float64
		wantNorm float64
		want     []float32
	}{
		{[]float32{3, 4}, 10, 5, []float32{3, 4}},
		{[]float32{3, 4}, 1, 5, []float32{0.6, 0.8}},
		{[]float32{0, 0}, 0.25, 0, []float32{0, 0}},
	} {
		p := NewParam("p", 2)
		copy(p.Grad, tc.grad)
		if n := ClipGradNorm([]*Param{p}, tc.maxNorm); math.Abs(n-tc.wantNorm) > 1e-6 {
			t.Errorf("norm of %v = %v, want %v", tc.grad, n, tc.wantNorm)
		}
		for i := range p.Grad {
			if math.Abs(float64(p.Grad[i]-tc.want[i])) > 1e-6 {
				t.Errorf("clip %v to %v: got %v, want %v", tc.grad, tc.maxNorm, p.Grad, tc.want)
			}
		}
	}
}

func TestDropoutStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n, p = 100000, 0.3
	d := NewDropout(p, rng)
	x := make([]float32, n)
	for i := range x {
		x[i] = 1
	}
	y := make([]float32, n)
	d.Forward(y, x, true)
	var zeros int
	var sum float64
	for _, v := range y {
		if v == 0 {
			zeros++
		} else if math.Abs(float64(v)-1/(1-p)) > 1e-6 {
			t.Fatalf("kept value %v, want %v", v, 1/(1-p))
		}
		sum += float64(v)
	}
	// Binomial standard deviation is √(n·p·(1−p)) ≈ 145; allow 5σ.
	if math.Abs(float64(zeros)-n*p) > 5*math.Sqrt(n*p*(1-p)) {
		t.Errorf("%d of %d dropped, want about %v", zeros, n, n*p)
	}
	if math.Abs(sum/n-1) > 0.02 {
		t.Errorf("mean %v, want 1 (inverted dropout keeps the expectation)", sum/n)
	}
	d.Forward(y, x, false)
	for i, v := range y {
		if v != 1 {
			t.Fatalf("eval y[%d] = %v, want the identity", i, v)
		}
	}
}

func TestCheckFinite(t *testing.T) {
	a, b := NewParam("a", 3), NewParam("b", 2, 2)
	if err := CheckFinite([]*Param{a, b}); err != nil {
		t.Fatal(err)
	}
	b.Data[3] = float32(math.NaN())
	err := CheckFinite([]*Param{a, b})
	if err == nil || !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "parameter b") || !strings.Contains(err.Error(), "index 3") {
		t.Errorf("CheckFinite = %v, want ErrNonFinite naming b and index 3", err)
	}
}

func TestExpNeg(t *testing.T) {
	var worst float64
	for _, x := range []float32{0, -1e-8, -0.1, -0.34657, -0.5, -1, -2.5, -10, -33.3, -80, -86.9} {
		want := math.Exp(float64(x))
		got := float64(expNeg(x))
		rel := math.Abs(got-want) / want
		worst = max(worst, rel)
		if rel > 4e-7 {
			t.Errorf("expNeg(%v) = %v, want %v (rel. error %.2g)", x, got, want, rel)
		}
	}
	if got := expNeg(-200); got != 0 {
		t.Errorf("expNeg(-200) = %v, want 0", got)
	}
	t.Logf("worst relative error %.2g", worst)
}

// TestCrossEntropyAliased checks that writing the gradient over the
// logits gives the same loss and gradient as separate buffers.
func TestCrossEntropyAliased(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const n, classes = 7, 11
	logits := randVec(rng, n*classes, 4)
	targets := []int32{0, 10, 3, 3, 5, 9, 1}
	grad := make([]float32, len(logits))
	want := CrossEntropy(nil, grad, logits, targets, classes)
	got := CrossEntropy(nil, logits, logits, targets, classes)
	if got != want {
		t.Errorf("aliased loss %v, want %v", got, want)
	}
	for i := range grad {
		if grad[i] != logits[i] {
			t.Fatalf("aliased grad[%d] = %v, want %v", i, logits[i], grad[i])
		}
	}
}

// TestUpdateUnits checks that the pointwise updates applied over disjoint
// unit ranges, in any order, give exactly the whole-vector update, and
// that a range outside the layer panics.
func TestUpdateUnits(t *testing.T) {
	const H = 37
	r := rand.New(rand.NewPCG(8, 8))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(3 * r.NormFloat64())
		}
		return v
	}
	h0, c0, pre0, gh0 := vec(H), vec(H), vec(4*H), vec(3*H)
	cuts := [][2]int{{20, 37}, {0, 7}, {7, 20}, {5, 5}}

	h, c, pre := slices.Clone(h0), slices.Clone(c0), slices.Clone(pre0)
	LSTMUpdate(h, c, pre)
	hu, cu, preu := slices.Clone(h0), slices.Clone(c0), slices.Clone(pre0)
	for _, k := range cuts {
		LSTMUpdateUnits(hu, cu, preu, k[0], k[1])
	}
	if !slices.Equal(h, hu) || !slices.Equal(c, cu) || !slices.Equal(pre, preu) {
		t.Error("LSTMUpdateUnits over a partition differs from LSTMUpdate")
	}

	h, gx, gh := slices.Clone(h0), slices.Clone(pre0[:3*H]), slices.Clone(gh0)
	GRUUpdate(h, gx, gh)
	hu, gxu := slices.Clone(h0), slices.Clone(pre0[:3*H])
	for _, k := range cuts {
		GRUUpdateUnits(hu, gxu, gh, k[0], k[1])
	}
	if !slices.Equal(h, hu) || !slices.Equal(gx, gxu) {
		t.Error("GRUUpdateUnits over a partition differs from GRUUpdate")
	}

	for _, k := range [][2]int{{-1, 3}, {4, 3}, {0, H + 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("LSTMUpdateUnits(%d, %d) did not panic", k[0], k[1])
				}
			}()
			LSTMUpdateUnits(h, c, pre, k[0], k[1])
		}()
	}
}
