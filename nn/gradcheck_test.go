package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// A gradTarget is one float32 vector whose gradient is checked: a
// parameter or a layer input.
type gradTarget struct {
	name       string
	data, grad []float32
}

func paramTargets(ps []*Param) []gradTarget {
	var ts []gradTarget
	for _, p := range ps {
		ts = append(ts, gradTarget{p.Name, p.Data, p.Grad})
	}
	return ts
}

// checkGradients compares the analytic gradients that backward leaves in
// the targets against central differences of loss, element by element.
// The layers compute in float32, so eps is large enough to keep rounding
// noise (≈1e-6 in a loss of order one) well below the tolerance, and small
// enough that the O(eps²) truncation error stays there too; a wrong
// backward formula gives errors of order one.
func checkGradients(t *testing.T, loss func() float64, backward func(), targets []gradTarget) {
	t.Helper()
	const (
		eps  = 1e-2
		atol = 1e-3
		rtol = 1e-2
	)
	for _, tg := range targets {
		clear(tg.grad)
	}
	backward()
	var worst float64
	for _, tg := range targets {
		analytic := append([]float32(nil), tg.grad...)
		var bad int
		for i := range tg.data {
			v := tg.data[i]
			tg.data[i] = v + eps
			lp := loss()
			tg.data[i] = v - eps
			lm := loss()
			tg.data[i] = v
			num := (lp - lm) / (2 * eps)
			a := float64(analytic[i])
			diff := math.Abs(a - num)
			worst = max(worst, diff/(atol+rtol*max(math.Abs(a), math.Abs(num))))
			if diff > atol+rtol*max(math.Abs(a), math.Abs(num)) {
				if bad < 3 {
					t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", tg.name, i, a, num)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d gradient elements wrong", tg.name, bad, len(tg.data))
		}
	}
	t.Logf("worst error / tolerance: %.3g", worst)
}

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((2*rng.Float64() - 1) * scale)
	}
	return v
}

// dotLoss is Σ r⊙y in float64: a loss whose gradient with respect to y
// is r, so every output element is checked with its own weight.
func dotLoss(r, y []float32) float64 {
	var s float64
	for i := range y {
		s += float64(r[i]) * float64(y[i])
	}
	return s
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, in, out = 5, 4, 3
	l := NewLinear(in, out, rng)
	x := randVec(rng, n*in, 1)
	dx := make([]float32, n*in)
	r := randVec(rng, n*out, 1)
	y := make([]float32, n*out)
	loss := func() float64 { l.Forward(y, x, n); return dotLoss(r, y) }
	backward := func() { loss(); l.Backward(dx, r) }
	checkGradients(t, loss, backward, append(paramTargets(l.Params()), gradTarget{"x", x, dx}))
}

func TestGradEmbedding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const num, dim = 6, 3
	e := NewEmbedding(num, dim, 1, rng)
	ids := []int32{0, 5, 2, 5, 5, 1} // repeated ids must accumulate
	r := randVec(rng, len(ids)*dim, 1)
	y := make([]float32, len(ids)*dim)
	loss := func() float64 { e.Forward(y, ids); return dotLoss(r, y) }
	backward := func() { loss(); e.Backward(r) }
	checkGradients(t, loss, backward, paramTargets(e.Params()))
}

func TestGradDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := NewDropout(0.4, rng)
	x := randVec(rng, 50, 1)
	y := make([]float32, len(x))
	dx := make([]float32, len(x))
	r := randVec(rng, len(x), 1)
	d.Forward(y, x, true)
	loss := func() float64 { d.Reapply(y, x); return dotLoss(r, y) }
	backward := func() { d.Backward(dx, r) }
	checkGradients(t, loss, backward, []gradTarget{{"x", x, dx}})
}

func TestGradCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, classes = 6, 5
	logits := randVec(rng, n*classes, 3)
	targets := []int32{0, 4, 2, 2, 1, 3}
	grad := make([]float32, n*classes)
	loss := func() float64 { return CrossEntropy(nil, nil, logits, targets, classes) }
	backward := func() { CrossEntropy(nil, grad, logits, targets, classes) }
	checkGradients(t, loss, backward, []gradTarget{{"logits", logits, grad}})
}

// TestGradRNN checks LSTM and GRU stacks over several steps from a
// non-zero state, so the gradient paths through time, through the cell
// state and between layers (with dropout) are all exercised.
func TestGradRNN(t *testing.T) {
	for _, tc := range []struct {
		cell    Cell
		layers  int
		dropout float64
	}{
		{LSTMCell, 1, 0},
		{LSTMCell, 2, 0},
		{LSTMCell, 2, 0.3},
		{GRUCell, 1, 0},
		{GRUCell, 2, 0},
		{GRUCell, 2, 0.3},
	} {
		t.Run(fmt.Sprintf("%v/%d/p%.1f", tc.cell, tc.layers, tc.dropout), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(tc.layers)))
			const steps, batch, in, hidden = 4, 3, 5, 4
			r := NewRNN(tc.cell, in, hidden, tc.layers, tc.dropout, rng)
			// Larger weights than the default init push the gates away
			// from their linear region, where sign errors would hide.
			for _, p := range r.Params() {
				p.Uniform(rng, 0.8)
			}
			st0 := r.NewState(batch)
			for l := range st0.H {
				copy(st0.H[l], randVec(rng, batch*hidden, 0.9))
				if st0.C != nil {
					copy(st0.C[l], randVec(rng, batch*hidden, 2))
				}
			}
			st := r.NewState(batch)
			reset := func() {
				for l := range st.H {
					copy(st.H[l], st0.H[l])
					if st.C != nil {
						copy(st.C[l], st0.C[l])
					}
				}
			}
			x := randVec(rng, steps*batch*in, 1)
			dx := make([]float32, len(x))
			rw := randVec(rng, steps*batch*hidden, 1)
			// The first Forward draws the dropout masks; later ones
			// reuse them so the loss is a fixed function.
			reset()
			r.Forward(x, steps, batch, st, true)
			loss := func() float64 {
				reset()
				return dotLoss(rw, r.forwardFixedMasks(x, steps, batch, st))
			}
			backward := func() { loss(); r.Backward(dx, rw) }
			checkGradients(t, loss, backward, append(paramTargets(r.Params()), gradTarget{"x", x, dx}))
		})
	}
}

// forwardFixedMasks is RNN.Forward in training mode with the dropout
// masks of the previous call.
func (r *RNN) forwardFixedMasks(x []float32, steps, batch int, st State) []float32 {
	r.n = steps * batch
	in := x
	for l, layer := range r.Layers {
		out := layer.Forward(in, steps, batch, st.H[l], st.stateC(l))
		if l == len(r.Layers)-1 {
			return out
		}
		r.Drops[l].Reapply(r.buf[l], out)
		in = r.buf[l]
	}
	return nil
}
