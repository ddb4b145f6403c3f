package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/speculate"
)

// newSparseAttention returns a layer with sharp softmaxes (weights ±0.8,
// as TestGradMultiHeadAttention, so that a wrong dS shows) and DSA c.
func newSparseAttention(t *testing.T, dim, heads int, seed uint64, c *DSA) *MultiHeadAttention {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	a := NewMultiHeadAttention(dim, heads, rng)
	for _, p := range a.Params() {
		p.Uniform(rng, 0.8)
	}
	if err := a.SetSparse(c); err != nil {
		t.Fatal(err)
	}
	return a
}

// rowCounts returns the number of groups each stored row keeps.
func rowCounts(s *dsaState) []int {
	var c []int
	for g := 1; g < len(s.rowOff); g++ {
		c = append(c, s.rowOff[g]-s.rowOff[g-1])
	}
	return c
}

func TestGradSparseAttention(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    DSA
		lens []int
	}{
		{"oracle/top3", DSA{Mode: DSAOracle, TopK: 3}, []int{5, 9}},
		{"oracle/keep0.3/block4", DSA{Mode: DSAOracle, Keep: 0.3, Block: 4}, []int{6, 11}},
		{"oracle/threshold", DSA{Mode: DSAOracle, Threshold: 0.08}, []int{7, 9}},
		{"predicted/fp32/top4", DSA{Mode: DSAPredicted, TopK: 4, Sigma: 0.5, Seed: 3}, []int{5, 9}},
		{"predicted/int8/block8", DSA{Mode: DSAPredicted, TopK: 9, Block: 8, Sigma: 1, Bits: 8, Seed: 4}, []int{10, 19}},
		{"oracle/two-row-blocks", DSA{Mode: DSAOracle, TopK: 5}, []int{attnRowBlock + 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const dim, heads = 8, 2
			a := newSparseAttention(t, dim, heads, 21, &tc.c)
			rng := rand.New(rand.NewPCG(5, 6))
			n := seqRows("test", tc.lens)
			x := randVec(rng, n*dim, 1)
			dx := make([]float32, len(x))
			r := randVec(rng, len(x), 1)
			y := make([]float32, len(x))
			a.Forward(y, x, tc.lens)
			a.dsa.hold = true // the mask is a step function of x: hold it
			if tc.c.Threshold != 0 && !slices.ContainsFunc(rowCounts(a.dsa), func(c int) bool { return c != rowCounts(a.dsa)[0] }) {
				t.Fatal("threshold masks keep the same count on every row: the per-row path is not exercised")
			}
			loss := func() float64 { a.Forward(y, x, tc.lens); return dotLoss(r, y) }
			backward := func() { loss(); a.Backward(dx, r) }
			checkGradients(t, loss, backward, append(paramTargets(a.Params()), gradTarget{"x", x, dx}))
		})
	}
}

// TestSparseAttentionAllKeys checks that keeping every key gives the dense
// layer's output and gradients.
func TestSparseAttentionAllKeys(t *testing.T) {
	for _, c := range []DSA{
		{Mode: DSAOracle, Keep: 1},
		{Mode: DSAOracle, Keep: 1, Block: 4},
		{Mode: DSAOracle, Threshold: 1e-30},
		{Mode: DSAPredicted, TopK: 1000, Sigma: 0.5, Block: 8, Lambda: 0},
		{Mode: DSAPredicted, TopK: 1000, Sigma: 0.25, Bits: 8},
		{Mode: DSAPredicted, Keep: 1, Sigma: 0.5, Bits: 2},
	} {
		t.Run(fmt.Sprintf("%v/keep%v/top%d/th%v/b%d/bits%d", c.Mode, c.Keep, c.TopK, c.Threshold, c.Block, c.Bits), func(t *testing.T) {
			const dim, heads = 16, 4
			lens := []int{1, 9, 70}
			dense := newSparseAttention(t, dim, heads, 31, nil)
			sparse := newSparseAttention(t, dim, heads, 31, &c)
			rng := rand.New(rand.NewPCG(7, 8))
			n := seqRows("test", lens)
			x := randVec(rng, n*dim, 1)
			r := randVec(rng, len(x), 1)
			var ys, dxs [2][]float32
			for i, a := range []*MultiHeadAttention{dense, sparse} {
				ys[i], dxs[i] = make([]float32, len(x)), make([]float32, len(x))
				a.Forward(ys[i], x, lens)
				ZeroGrad(a.Params())
				a.Backward(dxs[i], r)
			}
			if st := sparse.SparseStats(); st.Kept != st.Total || st.Sparsity() != 0 {
				t.Errorf("kept %d of %d entries, want all", st.Kept, st.Total)
			}
			near := func(what string, got, want []float32) {
				t.Helper()
				var worst float64
				for i := range want {
					worst = max(worst, math.Abs(float64(got[i]-want[i]))/(1e-4+1e-3*math.Abs(float64(want[i]))))
				}
				if worst > 1 {
					t.Errorf("%s: sparse differs from dense, worst error / tolerance %.3g", what, worst)
				}
			}
			near("y", ys[1], ys[0])
			near("dx", dxs[1], dxs[0])
			for i, p := range dense.Params() {
				near(p.Name, sparse.Params()[i].Grad, p.Grad)
			}
		})
	}
}

// TestSparseAttentionExactlyK checks that every row keeps exactly
// min(k, l) keys (in groups of Block), the oracle's being the top-scoring
// ones, and that dropping keys changes the output.
func TestSparseAttentionExactlyK(t *testing.T) {
	const dim, heads = 8, 2
	lens := []int{1, 2, 5, 17, 70}
	for _, tc := range []struct {
		c    DSA
		keys func(l int) int // keys kept per row for a sequence of l
	}{
		{DSA{Mode: DSAOracle, TopK: 3}, func(l int) int { return min(3, l) }},
		{DSA{Mode: DSAOracle, Keep: 0.25}, func(l int) int { return int(math.Ceil(0.25 * float64(l))) }},
		{DSA{Mode: DSAOracle, TopK: 6, Block: 4}, nil},
		{DSA{Mode: DSAPredicted, TopK: 5, Sigma: 0.5}, func(l int) int { return min(5, l) }},
		{DSA{Mode: DSAPredicted, TopK: 9, Sigma: 0.75, Block: 8, Bits: 8}, nil},
		{DSA{Mode: DSAPredicted, TopK: 4, Sigma: 1, Bits: 4}, func(l int) int { return min(4, l) }},
		{DSA{Mode: DSAPredicted, TopK: 8, Sigma: 1, Block: 4, Bits: 2}, nil},
	} {
		c := tc.c
		t.Run(fmt.Sprintf("%v/top%d/keep%v/b%d/bits%d", c.Mode, c.TopK, c.Keep, c.Block, c.Bits), func(t *testing.T) {
			a := newSparseAttention(t, dim, heads, 41, &c)
			dense := newSparseAttention(t, dim, heads, 41, nil)
			rng := rand.New(rand.NewPCG(9, 10))
			n := seqRows("test", lens)
			x := randVec(rng, n*dim, 1)
			y, yd := make([]float32, len(x)), make([]float32, len(x))
			a.Forward(y, x, lens)
			dense.Forward(yd, x, lens)
			s, b := a.dsa, c.block()
			var wantKept, total int64
			off := 0
			for _, l := range lens {
				total += int64(heads * l * l)
				groups := (l + b - 1) / b
				k := min(c.TopK, l)
				if c.Keep != 0 {
					k = tc.keys(l)
				}
				wantGroups := min((k+b-1)/b, groups)
				for h := range heads {
					for i := range l {
						g := off*heads + h*l + i
						row := s.idx[s.rowOff[g]:s.rowOff[g+1]]
						if len(row) != wantGroups {
							t.Fatalf("l=%d head %d row %d keeps %d groups, want %d", l, h, i, len(row), wantGroups)
						}
						keys := 0
						for e, st := range row {
							if st%int32(b) != 0 || int(st) >= l || (e > 0 && st <= row[e-1]) {
								t.Fatalf("l=%d row %d: groups %v not aligned, ascending and inside", l, i, row)
							}
							keys += min(b, l-int(st))
						}
						if tc.keys != nil && keys != tc.keys(l) {
							t.Fatalf("l=%d row %d keeps %d keys, want %d", l, i, keys, tc.keys(l))
						}
						wantKept += int64(keys)
						if c.Mode == DSAOracle && b == 1 {
							checkOracleRow(t, a, off, l, h, i, row)
						}
					}
				}
				off += l
			}
			if st := a.SparseStats(); st.Kept != wantKept || st.Total != total {
				t.Errorf("stats kept %d of %d, want %d of %d", st.Kept, st.Total, wantKept, total)
			}
			var diff float64
			for i := range y {
				diff = max(diff, math.Abs(float64(y[i]-yd[i])))
			}
			if diff < 1e-2 {
				t.Errorf("sparse output within %.3g of dense: the mask is not applied", diff)
			}
		})
	}
}

// checkOracleRow checks that row i of head h keeps keys whose exact scores
// are all at least every dropped key's (ties aside), in float64.
func checkOracleRow(t *testing.T, a *MultiHeadAttention, off, l, h, i int, row []int32) {
	t.Helper()
	d, dh := a.Dim, a.Dim/a.Heads
	score := make([]float64, l)
	for j := range l {
		for c := range dh {
			score[j] += float64(a.q[(off+i)*d+h*dh+c]) * float64(a.k[(off+j)*d+h*dh+c])
		}
	}
	idx := make([]int, l)
	for j := range idx {
		idx[j] = j
	}
	sort.SliceStable(idx, func(x, y int) bool { return score[idx[x]] > score[idx[y]] })
	cut := score[idx[len(row)-1]]
	for _, j := range row {
		if score[j] < cut-1e-4 {
			t.Fatalf("row %d keeps key %d of score %.5g below the %d-th best %.5g", i, j, score[j], len(row), cut)
		}
	}
}

// TestSparseAttentionThresholdKeeps checks the threshold mask against the
// float64 softmax probabilities: a key is kept iff its probability is at
// least θ, or it is the row's most probable.
func TestSparseAttentionThresholdKeeps(t *testing.T) {
	const dim, heads, theta = 8, 2, 0.05
	lens := []int{3, 12, 40}
	a := newSparseAttention(t, dim, heads, 51, &DSA{Mode: DSAOracle, Threshold: theta})
	rng := rand.New(rand.NewPCG(11, 12))
	x := randVec(rng, seqRows("test", lens)*dim, 1)
	y := make([]float32, len(x))
	a.Forward(y, x, lens)
	d, dh := a.Dim, a.Dim/a.Heads
	s := a.dsa
	off := 0
	for _, l := range lens {
		for h := range heads {
			for i := range l {
				p := make([]float64, l)
				var z float64
				for j := range l {
					for c := range dh {
						p[j] += float64(a.q[(off+i)*d+h*dh+c]) * float64(a.k[(off+j)*d+h*dh+c])
					}
					p[j] = math.Exp(p[j] / math.Sqrt(float64(dh)))
					z += p[j]
				}
				g := off*heads + h*l + i
				row := s.idx[s.rowOff[g]:s.rowOff[g+1]]
				best := 0
				for j := range p {
					p[j] /= z
					if p[j] > p[best] {
						best = j
					}
				}
				for j := range l {
					kept := slices.Contains(row, int32(j))
					if math.Abs(p[j]-theta) < 1e-5 {
						continue // too close to call in float32
					}
					if want := p[j] >= theta || j == best; kept != want {
						t.Fatalf("l=%d head %d row %d key %d: probability %.5g, kept %v", l, h, i, j, p[j], kept)
					}
				}
			}
		}
		off += l
	}
}

// TestPredictorMSE checks the reported MSE against a float64 evaluation of
// eq. 7.6 from the layer's weights and the projection, and its gradient
// (λ·∂MSE/∂W̃, the only gradient the MSE term makes) against finite
// differences.
func TestPredictorMSE(t *testing.T) {
	const dim, heads, lambda = 8, 2, 0.7
	lens := []int{4, 9}
	c := DSA{Mode: DSAPredicted, TopK: 3, Sigma: 0.75, Lambda: lambda, Seed: 8}
	a := newSparseAttention(t, dim, heads, 61, &c)
	rng := rand.New(rand.NewPCG(13, 14))
	n := seqRows("test", lens)
	x := randVec(rng, n*dim, 1)
	y := make([]float32, len(x))
	a.Forward(y, x, lens)
	st := a.SparseStats()
	if !st.HasMSE {
		t.Fatal("no MSE with lambda > 0")
	}
	if want := refPredictorMSE(a, x, lens); math.Abs(st.MSE-want) > 1e-4*(1+want) {
		t.Errorf("MSE %.6g, float64 reference %.6g", st.MSE, want)
	}

	a.dsa.hold = true
	zero := make([]float32, len(x))
	dx := make([]float32, len(x))
	loss := func() float64 { a.Forward(y, x, lens); return lambda * a.SparseStats().MSE }
	backward := func() { loss(); a.Backward(dx, zero) }
	checkGradients(t, loss, backward, paramTargets(a.predictorParams()))
	for _, p := range a.Params()[:8] {
		if slices.ContainsFunc(p.Grad, func(g float32) bool { return g != 0 }) {
			t.Errorf("%s has a gradient from the MSE term alone", p.Name)
		}
	}
	if slices.ContainsFunc(dx, func(g float32) bool { return g != 0 }) {
		t.Error("the input has a gradient from the MSE term alone")
	}
}

// refPredictorMSE is eq. 7.6 (as a mean) in float64: S = q·kᵀ/√dₕ per
// head and S̃ = (X·Pᵀ·W̃_Q)(X·Pᵀ·W̃_K)ᵀ with P the layer's projection.
func refPredictorMSE(a *MultiHeadAttention, x []float32, lens []int) float64 {
	s := a.dsa
	d, dh, kp := a.Dim, a.Dim/a.Heads, s.kp
	P := s.proj.Dense() // kp×d
	n := len(x) / d
	xp := make([]float64, n*kp)
	for i := range n {
		for r := range kp {
			for c := range d {
				xp[i*kp+r] += float64(P[r*d+c]) * float64(x[i*d+c])
			}
		}
	}
	tilde := func(w []float32, h, i int) []float64 {
		v := make([]float64, kp)
		for c := range kp {
			for r := range kp {
				v[c] += xp[i*kp+r] * float64(w[h*kp*kp+r*kp+c])
			}
		}
		return v
	}
	var sum float64
	var cnt int
	off := 0
	for _, l := range lens {
		for h := range a.Heads {
			for i := range l {
				qt := tilde(s.wq.Data, h, off+i)
				for j := range l {
					kt := tilde(s.wk.Data, h, off+j)
					var st, se float64
					for c := range kp {
						st += qt[c] * kt[c]
					}
					for c := range dh {
						se += float64(a.q[(off+i)*d+h*dh+c]) * float64(a.k[(off+j)*d+h*dh+c])
					}
					e := st - se/math.Sqrt(float64(dh))
					sum += e * e
					cnt++
				}
			}
		}
		off += l
	}
	return sum / float64(cnt)
}

func TestSparseAttentionDeterministic(t *testing.T) {
	const dim, heads = 8, 2
	lens := []int{6, 13}
	run := func(seed uint64) ([]float32, []float32) {
		c := DSA{Mode: DSAPredicted, Keep: 0.3, Sigma: 0.5, Lambda: 0.1, Seed: seed}
		a := newSparseAttention(t, dim, heads, 71, &c)
		rng := rand.New(rand.NewPCG(15, 16))
		x := randVec(rng, seqRows("test", lens)*dim, 1)
		y := make([]float32, len(x))
		a.Forward(y, x, lens)
		a.Backward(nil, x)
		return y, a.dsa.wq.Grad
	}
	y1, g1 := run(5)
	y2, g2 := run(5)
	if !slices.Equal(y1, y2) || !slices.Equal(g1, g2) {
		t.Error("same seed, different outputs or predictor gradients")
	}
	if _, g3 := run(6); slices.Equal(g1, g3) {
		t.Error("a different seed gives the same predictor gradients")
	}
}

func TestSparseAttentionBadConfig(t *testing.T) {
	for _, c := range []DSA{
		{Mode: 0, TopK: 2},
		{Mode: DSAOracle},
		{Mode: DSAOracle, TopK: -1},
		{Mode: DSAOracle, TopK: 2, Keep: 0.5},
		{Mode: DSAOracle, Keep: 1.5},
		{Mode: DSAOracle, Keep: -0.1},
		{Mode: DSAOracle, Keep: math.NaN()},
		{Mode: DSAOracle, Threshold: 1},
		{Mode: DSAPredicted, Threshold: 0.01, Sigma: 0.5},
		{Mode: DSAOracle, TopK: 2, Block: 2},
		{Mode: DSAOracle, TopK: 2, Block: 16},
		{Mode: DSAPredicted, TopK: 2},
		{Mode: DSAPredicted, TopK: 2, Sigma: 1.5},
		{Mode: DSAPredicted, TopK: 2, Sigma: -1},
		{Mode: DSAPredicted, TopK: 2, Sigma: 0.5, Bits: 16},
		{Mode: DSAPredicted, TopK: 2, Sigma: 0.5, Lambda: -1},
		{Mode: DSAPredicted, TopK: 2, Sigma: 0.5, Lambda: math.Inf(1)},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			a := newSparseAttention(t, 8, 2, 1, nil)
			err := a.SetSparse(&c)
			if !errors.Is(err, ErrDSAConfig) {
				t.Fatalf("SetSparse: %v, want ErrDSAConfig", err)
			}
			if _, on := a.Sparse(); on {
				t.Error("a rejected configuration was set")
			}
			t.Log(err)
		})
	}
	for _, s := range []float64{-0.1, 1, 2, math.NaN()} {
		if _, err := KeepForSparsity(s); !errors.Is(err, ErrDSAConfig) {
			t.Errorf("KeepForSparsity(%v): %v, want ErrDSAConfig", s, err)
		}
	}
	if k, err := KeepForSparsity(0.95); err != nil || math.Abs(k-0.05) > 1e-12 {
		t.Errorf("KeepForSparsity(0.95) = %v, %v", k, err)
	}
	enc, err := NewEncoder(smallConfig(MeanPool), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.SetSparse(&DSA{Mode: DSAOracle, TopK: 0}); !errors.Is(err, ErrDSAConfig) {
		t.Errorf("Encoder.SetSparse: %v, want ErrDSAConfig", err)
	}
}

// TestEncoderSparseParams checks that Predicted mode adds the predictor's
// parameters under the layer's names, that the encoder's layers get
// different projections, and that SetSparse(nil) restores the dense
// parameter list.
func TestEncoderSparseParams(t *testing.T) {
	enc, err := NewEncoder(smallConfig(MeanPool), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	dense := len(enc.Params())
	if err := enc.SetSparse(&DSA{Mode: DSAPredicted, TopK: 2, Sigma: 0.5}); err != nil {
		t.Fatal(err)
	}
	ps := enc.Params()
	if len(ps) != dense+2*len(enc.Blocks) {
		t.Fatalf("%d params with a predictor, %d dense, %d layers", len(ps), dense, len(enc.Blocks))
	}
	names := map[string]bool{}
	for _, p := range ps {
		if names[p.Name] {
			t.Errorf("duplicate name %s", p.Name)
		}
		names[p.Name] = true
	}
	if !names["layers.0.attn.dsa.wq"] || !names["layers.1.attn.dsa.wk"] {
		t.Errorf("predictor names missing: %v", names)
	}
	if len(enc.Blocks) > 1 && slices.Equal(enc.Blocks[0].Attn.dsa.proj.Dense(), enc.Blocks[1].Attn.dsa.proj.Dense()) {
		t.Error("two layers share a projection")
	}
	if err := enc.SetSparse(nil); err != nil || len(enc.Params()) != dense {
		t.Errorf("SetSparse(nil): %v, %d params, want %d", err, len(enc.Params()), dense)
	}
}

// TestGradClassifierJointLoss checks the joint loss of eq. 7.7 end to end
// on a classifier with predicted DSA in both layers, its masks held. The
// MSE term is stopped at the predictor (its gradient reaches W̃ only, not
// q, k or the input the exact S and XP come from), so the predictors'
// gradients are checked against finite differences of CE + λ·Σ MSE and
// every other parameter's against those of CE alone, from the same
// Backward.
func TestGradClassifierJointLoss(t *testing.T) {
	const lambda = 0.3
	rng := rand.New(rand.NewPCG(23, 24))
	c, err := NewClassifier(smallConfig(MeanPool), 9, 3, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Params() {
		p.Uniform(rng, 0.7)
	}
	if err := c.SetSparse(&DSA{Mode: DSAPredicted, TopK: 2, Sigma: 0.5, Lambda: lambda, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	ids := []int32{1, 6, 6, 0, 2, 3, 5, 4, 1, 2}
	lens := []int{5, 1, 4}
	targets := []int32{2, 0, 1}
	logits := make([]float32, 3*3)
	dlogits := make([]float32, len(logits))
	withMSE := true
	loss := func() float64 {
		if err := c.Forward(logits, ids, lens, false); err != nil {
			t.Fatal(err)
		}
		st := c.SparseStats()
		if !st.HasMSE {
			t.Fatal("no MSE")
		}
		l := CrossEntropy(nil, nil, logits, targets, 3)
		if withMSE {
			l += lambda * st.MSE
		}
		return l
	}
	loss()
	c.Enc.holdMasks(true)
	if st := c.SparseStats(); st.Kept >= st.Total {
		t.Fatalf("kept %d of %d: nothing dropped", st.Kept, st.Total)
	}
	backward := func() {
		loss()
		CrossEntropy(nil, dlogits, logits, targets, 3)
		c.Backward(dlogits)
	}
	var model, pred []*Param
	for _, p := range c.Params() {
		if strings.Contains(p.Name, ".dsa.") {
			pred = append(pred, p)
		} else {
			model = append(model, p)
		}
	}
	if len(pred) != 4 {
		t.Fatalf("%d predictor parameters, want 4", len(pred))
	}
	checkGradients(t, loss, backward, paramTargets(pred))
	withMSE = false
	checkGradients(t, loss, backward, paramTargets(model))
}

// softmaxExec is the executor of one DSA query row: the exact
// probabilities softmax(q·k_j·scale) over the selected keys j, written at
// out[j] (the Step drops the rest).
type softmaxExec struct {
	k     []float32 // l×dh
	dh    int
	scale float32
}

func (e softmaxExec) Execute(out, q []float32, idx []int32) {
	var z float64
	mx := math.Inf(-1)
	for _, j := range idx {
		var s float64
		for c := range e.dh {
			s += float64(q[c]) * float64(e.k[int(j)*e.dh+c])
		}
		out[j] = float32(s * float64(e.scale))
		mx = math.Max(mx, float64(out[j]))
	}
	for _, j := range idx {
		v := math.Exp(float64(out[j]) - mx)
		out[j] = float32(v)
		z += v
	}
	for _, j := range idx {
		out[j] = float32(float64(out[j]) / z)
	}
}

// TestDSAAsSpeculateStep expresses a predicted DSA row in the runtime:
// the predictor row q̃_i·K̃ᵀ as the Speculator, sel's top-K (ReLU ranking:
// largest first) as the Selector and the exact softmax over the selected
// keys as the Executor, with Drop. Its selection must be the layer's mask
// row and Σ_j p_j·v_j the layer's output row.
func TestDSAAsSpeculateStep(t *testing.T) {
	const dim, heads, k = 8, 2, 4
	lens := []int{11}
	a := newSparseAttention(t, dim, heads, 81, &DSA{Mode: DSAPredicted, TopK: k, Sigma: 0.75, Seed: 9})
	rng := rand.New(rand.NewPCG(17, 18))
	l := lens[0]
	x := randVec(rng, l*dim, 1)
	y := make([]float32, len(x))
	a.Forward(y, x, lens)
	s, dh, kp := a.dsa, dim/heads, a.dsa.kp
	ratio := float64(l-k) / float64(l)
	for h := range heads {
		kt := s.kt[h*l*kp : (h+1)*l*kp]
		spec := speculate.Func(func(approx, qt []float32) {
			for j := range l {
				var v float32
				for c := range kp {
					v += qt[c] * kt[j*kp+c]
				}
				approx[j] = v
			}
		})
		top, err := sel.NewTopK(sel.ReLU, ratio)
		if err != nil {
			t.Fatal(err)
		}
		kh, vh := a.kh[h*l*dh:(h+1)*l*dh], a.vh[h*l*dh:(h+1)*l*dh]
		exec := softmaxExec{k: kh, dh: dh, scale: float32(1 / math.Sqrt(float64(dh)))}
		// The speculator reads q̃_i and the executor q_i: the step's input
		// is both, q̃_i then q_i.
		step := speculate.NewStep(l, speculate.Func(func(approx, in []float32) { spec(approx, in[:kp]) }), top,
			speculate.Executor(execFunc(func(out, in []float32, idx []int32) { exec.Execute(out, in[kp:], idx) })))
		step.Drop = true
		p := make([]float32, l)
		for i := range l {
			g := h*l + i
			in := append(append([]float32(nil), s.qt[g*kp:(g+1)*kp]...), a.qh[g*dh:(g+1)*dh]...)
			idx := step.Run(p, in)
			if want := s.idx[s.rowOff[g]:s.rowOff[g+1]]; !slices.Equal(idx, want) {
				t.Fatalf("head %d row %d: step selects %v, layer %v", h, i, idx, want)
			}
			for c := range dh {
				var o float64
				for j := range l {
					o += float64(p[j]) * float64(vh[j*dh+c])
				}
				if got := a.oh[g*dh+c]; math.Abs(o-float64(got)) > 1e-5*(1+math.Abs(o)) {
					t.Fatalf("head %d row %d col %d: step output %.6g, layer %.6g", h, i, c, o, got)
				}
			}
		}
	}
}

// execFunc adapts a function to speculate.Executor.
type execFunc func(out, x []float32, idx []int32)

func (f execFunc) Execute(out, x []float32, idx []int32) { f(out, x, idx) }

// TestPredictorLowBits checks INT4 and INT2 selection against a float64
// top-k of the per-row quantized Q̃ and K̃ (quant's codes times scales),
// and that at 2 bits the selection differs from float32's somewhere (the
// quantization is applied).
func TestPredictorLowBits(t *testing.T) {
	const dim, heads, k = 16, 2, 3
	lens := []int{9, 20}
	rng := rand.New(rand.NewPCG(19, 20))
	x := randVec(rng, seqRows("test", lens)*dim, 1)
	y := make([]float32, len(x))
	masks := map[int][]int32{}
	for _, bits := range []int{32, 4, 2} {
		a := newSparseAttention(t, dim, heads, 91, &DSA{Mode: DSAPredicted, TopK: k, Sigma: 1, Bits: bits, Seed: 4})
		a.Forward(y, x, lens)
		s, kp := a.dsa, a.dsa.kp
		masks[bits] = slices.Clone(s.idx)
		if bits == 32 {
			continue
		}
		off := 0
		for _, l := range lens {
			for h := range heads {
				g0 := off*heads + h*l
				qm, err := quant.Quantize(s.qt[g0*kp:(g0+l)*kp], l, kp, quant.Bits(bits), true)
				if err != nil {
					t.Fatal(err)
				}
				km, err := quant.Quantize(s.kt[g0*kp:(g0+l)*kp], l, kp, quant.Bits(bits), true)
				if err != nil {
					t.Fatal(err)
				}
				for i := range l {
					sc := make([]float64, l)
					for j := range l {
						for c := range kp {
							sc[j] += float64(qm.Code(i, c)) * float64(km.Code(j, c)) * float64(qm.Scale(i)) * float64(km.Scale(j))
						}
					}
					row := s.idx[s.rowOff[g0+i]:s.rowOff[g0+i+1]]
					order := make([]int, l)
					for j := range order {
						order[j] = j
					}
					sort.SliceStable(order, func(x, y int) bool { return sc[order[x]] > sc[order[y]] })
					cut := sc[order[k-1]]
					for _, j := range row {
						if sc[j] < cut-1e-5*(1+math.Abs(cut)) {
							t.Fatalf("INT%d l=%d head %d row %d keeps key %d of score %.5g below the %d-th best %.5g", bits, l, h, i, j, sc[j], k, cut)
						}
					}
				}
			}
			off += l
		}
	}
	if slices.Equal(masks[2], masks[32]) {
		t.Error("INT2 selects exactly what float32 does: is it quantizing?")
	}
}

// TestMasksAreTheSelection checks Masks against the layer's own pattern:
// one valid sparse.Pattern per sequence and head, in order, whose rows
// together are the layer's index list; nil without DSA.
func TestMasksAreTheSelection(t *testing.T) {
	const dim, heads = 8, 2
	lens := []int{5, 17}
	for _, c := range []DSA{{Mode: DSAOracle, TopK: 3, Block: 4}, {Mode: DSAPredicted, TopK: 4, Sigma: 0.5, Bits: 8}} {
		a := newSparseAttention(t, dim, heads, 43, &c)
		x := randVec(rand.New(rand.NewPCG(3, 4)), seqRows("test", lens)*dim, 1)
		a.Forward(make([]float32, len(x)), x, lens)
		ms := a.Masks()
		if len(ms) != len(lens)*heads {
			t.Fatalf("%v: %d masks, want %d", c.Mode, len(ms), len(lens)*heads)
		}
		var all []int32
		for i, p := range ms {
			if err := p.Validate(); err != nil {
				t.Fatalf("%v: mask %d: %v", c.Mode, i, err)
			}
			if l := lens[i/heads]; p.Rows != l || p.Block != c.block() {
				t.Errorf("%v: mask %d is %d rows of block %d, want %d of %d", c.Mode, i, p.Rows, p.Block, l, c.block())
			}
			all = append(all, p.Idx...)
		}
		if !slices.Equal(all, a.dsa.idx) {
			t.Errorf("%v: masks hold %v, the layer selected %v", c.Mode, all, a.dsa.idx)
		}
	}
	if m := newSparseAttention(t, dim, heads, 43, nil).Masks(); m != nil {
		t.Errorf("dense layer masks %v", m)
	}
}
