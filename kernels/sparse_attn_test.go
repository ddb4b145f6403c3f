package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomPattern draws k distinct aligned block starts per row, sorted; the
// last aligned block may reach past cols.
func randomPattern(r *rand.Rand, rows, cols, k, block int) SparseRows {
	nb := (cols + block - 1) / block
	sp := SparseRows{Rows: rows, Cols: cols, K: k, Block: block, Idx: make([]int32, rows*k)}
	for i := range rows {
		perm := r.Perm(nb)[:k]
		slices.Sort(perm)
		for t, b := range perm {
			sp.Idx[i*k+t] = int32(b * block)
		}
	}
	return sp
}

// sparseRef is the forward pass in float64: scores, softmax and output on
// the pattern, with entries past Cols left out.
func sparseRef(q, k, v []float32, dim, dv int, sp SparseRows, scale float64) (s, p, out []float64) {
	w := sp.Width()
	s, p, out = make([]float64, sp.Rows*w), make([]float64, sp.Rows*w), make([]float64, sp.Rows*dv)
	for i := range sp.Rows {
		mx := math.Inf(-1)
		for e := range w {
			j := int(sp.Idx[i*sp.K+e/sp.Block]) + e%sp.Block
			s[i*w+e] = math.Inf(-1)
			if j >= sp.Cols {
				continue
			}
			var d float64
			for c := range dim {
				d += float64(q[i*dim+c]) * float64(k[j*dim+c])
			}
			s[i*w+e] = scale * d
			mx = math.Max(mx, s[i*w+e])
		}
		var sum float64
		for e := range w {
			if !math.IsInf(s[i*w+e], -1) {
				p[i*w+e] = math.Exp(s[i*w+e] - mx)
				sum += p[i*w+e]
			}
		}
		for e := range w {
			if sum > 0 {
				p[i*w+e] /= sum
			}
			j := int(sp.Idx[i*sp.K+e/sp.Block]) + e%sp.Block
			if p[i*w+e] == 0 {
				continue
			}
			for c := range dv {
				out[i*dv+c] += p[i*w+e] * float64(v[j*dv+c])
			}
		}
	}
	return s, p, out
}

type sparseCase struct {
	rows, cols, k, block, dim, dv int
}

func (c sparseCase) String() string {
	return fmt.Sprintf("n%d_l%d_k%d_b%d_d%d_dv%d", c.rows, c.cols, c.k, c.block, c.dim, c.dv)
}

var sparseCases = []sparseCase{
	{1, 1, 1, 1, 8, 8},
	{7, 7, 3, 1, 5, 3},
	{63, 63, 9, 1, 64, 64},
	{130, 130, 13, 1, 8, 64},
	{20, 130, 5, 4, 64, 8}, // 130 is not a multiple of 4: partial last block
	{33, 63, 3, 8, 19, 64}, // nor of 8
	{16, 16, 2, 8, 8, 8},
	{1, 300, 38, 8, 64, 64}, // every block, the last partial
}

func TestSparseForwardConformance(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	for _, c := range sparseCases {
		r := rand.New(rand.NewPCG(uint64(c.rows), uint64(c.cols*10+c.block)))
		sp := randomPattern(r, c.rows, c.cols, c.k, c.block)
		const amax = 2.0
		q, k, v := uniformFill(r, c.rows*c.dim, amax), uniformFill(r, c.cols*c.dim, amax), uniformFill(r, c.cols*c.dv, amax)
		scale := float32(1 / math.Sqrt(float64(c.dim)))
		ws, wp, wout := sparseRef(q, k, v, c.dim, c.dv, sp, float64(scale))
		w := sp.Width()
		const eps = 0x1p-24
		sTol := 2 * float64(c.dim) * eps * amax * amax * float64(scale)
		pTol := 4*sTol + 16*eps
		oTol := amax * (4*sTol + 16*eps + 2*float64(w)*eps) * 2
		for _, pl := range []*Pool{nil, pool} {
			name := fmt.Sprintf("%v/pool=%v", c, pl != nil)
			s, p, out, fused := make([]float32, c.rows*w), make([]float32, c.rows*w), make([]float32, c.rows*c.dv), make([]float32, c.rows*c.dv)
			if pl == nil {
				SDDMM(s, q, k, c.dim, sp, scale)
				SparseSoftmax(p, s, sp)
				SpMM(out, p, v, c.dv, sp)
				SparseAttention(fused, q, k, v, c.dim, c.dv, sp, scale)
			} else {
				pl.SDDMM(s, q, k, c.dim, sp, scale)
				pl.SparseSoftmax(p, s, sp)
				pl.SpMM(out, p, v, c.dv, sp)
				pl.SparseAttention(fused, q, k, v, c.dim, c.dv, sp, scale)
			}
			for e := range s {
				if math.IsInf(ws[e], -1) {
					if !math.IsInf(float64(s[e]), -1) || p[e] != 0 {
						t.Fatalf("%s: entry %d past Cols: s=%g p=%g, want -Inf and 0", name, e, s[e], p[e])
					}
					continue
				}
				if d := math.Abs(float64(s[e]) - ws[e]); !(d <= sTol) {
					t.Fatalf("%s: s[%d] = %g, want %g", name, e, s[e], ws[e])
				}
				if d := math.Abs(float64(p[e]) - wp[e]); !(d <= pTol) {
					t.Fatalf("%s: p[%d] = %g, want %g", name, e, p[e], wp[e])
				}
			}
			for e := range out {
				if d := math.Abs(float64(out[e]) - wout[e]); !(d <= oTol) {
					t.Fatalf("%s: out[%d] = %g, want %g", name, e, out[e], wout[e])
				}
				if d := math.Abs(float64(fused[e]) - wout[e]); !(d <= oTol) {
					t.Fatalf("%s: fused out[%d] = %g, want %g", name, e, fused[e], wout[e])
				}
			}
		}
	}
}

// sparseLoss is L = Σ g ⊙ SparseAttention(q, k, v) in float64 via the
// float64 reference, the function the backward kernels differentiate.
func sparseLoss(g []float32, q, k, v []float32, dim, dv int, sp SparseRows, scale float64) float64 {
	_, _, out := sparseRef(q, k, v, dim, dv, sp, scale)
	var L float64
	for i, o := range out {
		L += float64(g[i]) * o
	}
	return L
}

// TestSparseBackwardFiniteDifferences chains SpMMBackward,
// SparseSoftmaxBackward and SDDMMBackward and checks dq, dk and dv
// against central differences of the forward pass.
func TestSparseBackwardFiniteDifferences(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	for _, c := range sparseCases {
		r := rand.New(rand.NewPCG(uint64(c.rows)+5, uint64(c.cols*10+c.block)))
		sp := randomPattern(r, c.rows, c.cols, c.k, c.block)
		q, k, v := uniformFill(r, c.rows*c.dim, 1), uniformFill(r, c.cols*c.dim, 1), uniformFill(r, c.cols*c.dv, 1)
		g := uniformFill(r, c.rows*c.dv, 1)
		scale := float32(1 / math.Sqrt(float64(c.dim)))
		w := sp.Width()
		for _, pl := range []*Pool{nil, pool} {
			name := fmt.Sprintf("%v/pool=%v", c, pl != nil)
			s, p, out := make([]float32, c.rows*w), make([]float32, c.rows*w), make([]float32, c.rows*c.dv)
			dp, ds := make([]float32, c.rows*w), make([]float32, c.rows*w)
			dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
			SDDMM(s, q, k, c.dim, sp, scale)
			SparseSoftmax(p, s, sp)
			SpMM(out, p, v, c.dv, sp)
			if pl == nil {
				SpMMBackward(dp, dv, g, p, v, c.dv, sp)
				SparseSoftmaxBackward(ds, dp, p, sp)
				SDDMMBackward(dq, dk, ds, q, k, c.dim, sp, scale)
			} else {
				pl.SpMMBackward(dp, dv, g, p, v, c.dv, sp)
				pl.SparseSoftmaxBackward(ds, dp, p, sp)
				pl.SDDMMBackward(dq, dk, ds, q, k, c.dim, sp, scale)
			}
			for _, x := range []struct {
				name string
				val  []float32
				grad []float32
			}{{"q", q, dq}, {"k", k, dk}, {"v", v, dv}} {
				// Check a spread of coordinates, all of them when few.
				stride := max(1, len(x.val)/40)
				for e := 0; e < len(x.val); e += stride {
					// The forward is float64 here, so a small step is
					// exact to far below the float32 gradient's error.
					const h = 1e-3
					orig := x.val[e]
					x.val[e] = orig + h
					lp := sparseLoss(g, q, k, v, c.dim, c.dv, sp, float64(scale))
					x.val[e] = orig - h
					lm := sparseLoss(g, q, k, v, c.dim, c.dv, sp, float64(scale))
					x.val[e] = orig
					// Divide by the step float32 actually took.
					num := (lp - lm) / float64(float32(orig+h)-float32(orig-h))
					if d := math.Abs(float64(x.grad[e]) - num); d > 1e-3*(1+math.Abs(num)) {
						t.Fatalf("%s: d%s[%d] = %g, finite difference %g", name, x.name, e, x.grad[e], num)
					}
				}
			}
		}
	}
}

func TestSparseRowsValidate(t *testing.T) {
	ok := SparseRows{Rows: 2, Cols: 10, K: 2, Block: 4, Idx: []int32{0, 4, 4, 8}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid pattern: %v", err)
	}
	for _, c := range []struct {
		name string
		sp   SparseRows
		want string
	}{
		{"overlap", SparseRows{Rows: 1, Cols: 10, K: 2, Block: 4, Idx: []int32{0, 3}}, "overlaps"},
		{"unsorted", SparseRows{Rows: 1, Cols: 10, K: 2, Block: 1, Idx: []int32{5, 2}}, "overlaps"},
		{"duplicate", SparseRows{Rows: 1, Cols: 10, K: 2, Block: 1, Idx: []int32{2, 2}}, "overlaps"},
		{"outside", SparseRows{Rows: 1, Cols: 10, K: 1, Block: 1, Idx: []int32{10}}, "outside"},
		{"negative", SparseRows{Rows: 1, Cols: 10, K: 1, Block: 1, Idx: []int32{-1}}, "outside"},
		{"length", SparseRows{Rows: 2, Cols: 10, K: 1, Block: 1, Idx: []int32{1}}, "len(idx)"},
		{"block", SparseRows{Rows: 1, Cols: 10, K: 1, Block: 0, Idx: []int32{1}}, "block"},
	} {
		err := c.sp.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SDDMM on a malformed pattern did not panic")
		}
	}()
	bad := SparseRows{Rows: 1, Cols: 4, K: 1, Block: 1, Idx: []int32{7}}
	SDDMM(make([]float32, 1), make([]float32, 2), make([]float32, 8), 2, bad, 1)
}

// TestSparseSoftmaxAllMasked checks that a row with no entry in the matrix
// gets zero probabilities, not NaN.
func TestSparseSoftmaxAllMasked(t *testing.T) {
	inf := float32(math.Inf(-1))
	s := []float32{inf, inf, 1, 2}
	sp := SparseRows{Rows: 2, Cols: 4, K: 1, Block: 2, Idx: []int32{0, 2}}
	p := make([]float32, 4)
	SparseSoftmax(p, s, sp)
	if p[0] != 0 || p[1] != 0 || math.Abs(float64(p[2]+p[3])-1) > 1e-6 || !(p[3] > p[2]) {
		t.Errorf("SparseSoftmax = %v", p)
	}
}

// TestSoftmaxGatherKernels checks the row softmax and the gathered axpy of
// this CPU's kernels against float64 on every tail length, with masked
// (−Inf) entries and a row masked whole.
func TestSoftmaxGatherKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	inf := float32(math.Inf(-1))
	for n := 1; n <= 41; n++ {
		for _, masked := range []int{0, 3, n} {
			s := uniformFill(r, n, 4)
			for i := 0; i < min(masked, n); i++ {
				s[(i*5)%n] = inf
			}
			mx := math.Inf(-1)
			for _, x := range s {
				mx = max(mx, float64(x))
			}
			want := make([]float64, n)
			var sum float64
			for i, x := range s {
				if !math.IsInf(mx, -1) {
					want[i] = math.Exp(float64(x) - mx)
					sum += want[i]
				}
			}
			softmaxInPlace(s)
			for i := range s {
				w := 0.0
				if sum > 0 {
					w = want[i] / sum
				}
				if d := math.Abs(float64(s[i]) - w); !(d <= 1e-6) {
					t.Fatalf("n=%d masked=%d: p[%d] = %g, want %g", n, masked, i, s[i], w)
				}
			}
		}
	}
	for _, dv := range []int{8, 16, 24, 40, 64, 72, 7} {
		const rows = 50
		v := uniformFill(r, rows*dv, 1)
		keys := []int32{3, 49, 0, 17, 17, 8}
		p := uniformFill(r, len(keys), 1)
		out := make([]float32, dv)
		gatherAxpy(out, p, v, keys)
		for c := range dv {
			var w float64
			for t, j := range keys {
				w += float64(p[t]) * float64(v[int(j)*dv+c])
			}
			if d := math.Abs(float64(out[c]) - w); !(d <= 1e-5) {
				t.Fatalf("dv=%d: out[%d] = %g, want %g", dv, c, out[c], w)
			}
		}
	}
}
