package kernels

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// A nil *Pool must run every method on the caller with the serial kernel.
// Each case below computes one method's result twice, through the nil pool
// and through the package-level (serial) kernel, and checks both against a
// float64 reference with a tolerance that a wrong row, a skipped key or a
// dropped bias would exceed. TestNilPoolCoversMethods keeps the table in
// step with the method set of *Pool.

// nilRows and nilCols are the size of the problems: odd, so every kernel has a ragged
// tail, and small, so the test is quick.
const (
	nilRows = 37
	nilCols = 29
)

// closeTo fails unless |got[i] − want[i]| <= tol(i) for every i.
func closeTo(t *testing.T, what string, got []float32, want []float64, tol func(i int) float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol(i)) {
			t.Fatalf("%s: [%d] = %v, want %v (|diff| %g > %g)", what, i, got[i], want[i], d, tol(i))
		}
	}
}

func absTol(tol float64) func(int) float64 { return func(int) float64 { return tol } }

// gemvRef64 is y = W·x + b in float64 for the rows listed (all when nil),
// with the magnitude of each row's terms for dotTol; unlisted rows keep y0.
func gemvRef64(w func(r, j int) float64, rows, cols int, x, b, y0 []float32, idx []int32) (y, mag []float64) {
	y, mag = make([]float64, rows), make([]float64, rows)
	for r := range rows {
		y[r] = float64(y0[r])
	}
	list := idx
	if list == nil {
		for r := range rows {
			list = append(list, int32(r))
		}
	}
	for _, r := range list {
		var s, m float64
		for j := range cols {
			p := w(int(r), j) * float64(x[j])
			s += p
			m += math.Abs(p)
		}
		if b != nil {
			s += float64(b[r])
			m += math.Abs(float64(b[r]))
		}
		y[r], mag[r] = s, m
	}
	return y, mag
}

// nilCase is one method of *Pool: run calls it on a nil pool (viaPool) or
// calls its serial twin, and checks the result against float64.
type nilCase struct {
	method string
	run    func(t *testing.T, viaPool bool)
}

func nilPoolCases() []nilCase {
	var p *Pool // the nil pool under test
	r := rand.New(rand.NewPCG(12, 2))
	w := uniformFill(r, nilRows*nilCols, 1)
	x := uniformFill(r, nilCols, 1)
	b := uniformFill(r, nilRows, 1)
	idx := []int32{0, 3, 4, 17, 36}
	poison := func() []float32 {
		y := make([]float32, nilRows)
		for i := range y {
			y[i] = -7 // kept by gathers on unlisted rows
		}
		return y
	}
	w32 := func(r, j int) float64 { return float64(w[r*nilCols+j]) }

	wh := make([]uint16, len(w))
	ToHalf(wh, w)
	w16 := func(r, j int) float64 { return halfValue(wh[r*nilCols+j]) }

	// INT8 and INT4 weights in [-8, 7], so one matrix serves both.
	wi := make([]int8, nilRows*nilCols)
	for i := range wi {
		wi[i] = int8(r.IntN(16) - 8)
	}
	q4 := make([]byte, nilRows*int4RowBytes(nilCols))
	packInt4(q4, wi, nilRows, nilCols)
	scales := make([]float32, nilRows)
	for i := range scales {
		scales[i] = float32(0.01 + r.Float64()/32)
	}
	xq := make([]int8, nilCols)
	xscale := QuantizeInt8(xq, x)
	wint := func(r, j int) float64 { return float64(wi[r*nilCols+j]) * float64(scales[r]) * float64(xscale) }
	xqf := make([]float32, nilCols)
	for j, v := range xq {
		xqf[j] = float32(v)
	}
	intTol := func(mag []float64) func(int) float64 {
		return func(i int) float64 { return 4e-7*mag[i] + 1e-30 }
	}
	dot := func(mag []float64) func(int) float64 {
		return func(i int) float64 { return dotTol(mag[i]) }
	}

	// gemvCase checks a GEMV-like method: pool and serial each set y, whose
	// listed rows (all when list is nil) must be W·x + b for the weights
	// wf and input xs, and whose other rows must keep their values.
	gemvCase := func(name string, wf func(r, j int) float64, xs []float32, list []int32, tol func([]float64) func(int) float64, pool, serial func(y []float32)) nilCase {
		return nilCase{name, func(t *testing.T, viaPool bool) {
			y := poison()
			if viaPool {
				pool(y)
			} else {
				serial(y)
			}
			want, mag := gemvRef64(wf, nilRows, nilCols, xs, b, poison(), list)
			closeTo(t, name, y, want, tol(mag))
		}}
	}
	gemvCases := []nilCase{
		gemvCase("Gemv", w32, x, nil, dot,
			func(y []float32) { p.Gemv(y, w, nilCols, x, b) },
			func(y []float32) { Gemv(y, w, nilCols, x, b) }),
		gemvCase("GemvGather", w32, x, idx, dot,
			func(y []float32) { p.GemvGather(y, w, nilCols, x, b, idx) },
			func(y []float32) { GemvGather(y, w, nilCols, x, b, idx) }),
		gemvCase("GemvHalf", w16, x, nil, dot,
			func(y []float32) { p.GemvHalf(y, wh, nilCols, x, b) },
			func(y []float32) { GemvHalf(y, wh, nilCols, x, b) }),
		gemvCase("GemvHalfGather", w16, x, idx, dot,
			func(y []float32) { p.GemvHalfGather(y, wh, nilCols, x, b, idx) },
			func(y []float32) { GemvHalfGather(y, wh, nilCols, x, b, idx) }),
		gemvCase("GemvInt8", wint, xqf, nil, intTol,
			func(y []float32) { p.GemvInt8(y, wi, scales, nilCols, xq, xscale, b) },
			func(y []float32) { GemvInt8(y, wi, scales, nilCols, xq, xscale, b) }),
		gemvCase("GemvInt8Gather", wint, xqf, idx, intTol,
			func(y []float32) { p.GemvInt8Gather(y, wi, scales, nilCols, xq, xscale, b, idx) },
			func(y []float32) { GemvInt8Gather(y, wi, scales, nilCols, xq, xscale, b, idx) }),
		gemvCase("GemvInt4", wint, xqf, nil, intTol,
			func(y []float32) { p.GemvInt4(y, q4, scales, nilCols, xq, xscale, b) },
			func(y []float32) { GemvInt4(y, q4, scales, nilCols, xq, xscale, b) }),
		gemvCase("GemvInt4Gather", wint, xqf, idx, intTol,
			func(y []float32) { p.GemvInt4Gather(y, q4, scales, nilCols, xq, xscale, b, idx) },
			func(y []float32) { GemvInt4Gather(y, q4, scales, nilCols, xq, xscale, b, idx) }),
	}

	// Gemm operands: C (m×n) = 0.5·A·Bᵀ + 0.25·C with A m×k, B n×k.
	const gm, gn, gk = 9, 13, 11
	ga, gb, gc0 := uniformFill(r, gm*gk, 1), uniformFill(r, gn*gk, 1), uniformFill(r, gm*gn, 1)
	gemmRef := func() (want, mag []float64) {
		want, mag = make([]float64, gm*gn), make([]float64, gm*gn)
		for i := range gm {
			for j := range gn {
				var s, m float64
				for l := range gk {
					v := 0.5 * float64(ga[i*gk+l]) * float64(gb[j*gk+l])
					s += v
					m += math.Abs(v)
				}
				c := 0.25 * float64(gc0[i*gn+j])
				want[i*gn+j], mag[i*gn+j] = s+c, m+math.Abs(c)
			}
		}
		return want, mag
	}

	// Attention operands.
	const heads, al, adim = 2, 21, 8
	aq, ak, av := uniformFill(r, heads*al*adim, 1), uniformFill(r, heads*al*adim, 1), uniformFill(r, heads*al*adim, 1)

	// Decoding operands: batch sequences of dl keys, predictor keys of pc
	// dimensions.
	const batch, dl, ddim, ddv, pc, topk = 3, 40, 8, 5, 4, 7
	dq, dk := uniformFill(r, batch*ddim, 1), uniformFill(r, batch*dl*ddim, 1)
	dvv := uniformFill(r, batch*dl*ddv, 1)
	pqf, pkf := uniformFill(r, batch*pc, 1), uniformFill(r, batch*dl*pc, 1)
	pq := QuantizeRows(pqf, batch, pc)
	pk := make([]*PackedInt8, batch)
	pkRows := make([]*Int8Rows, batch)
	for s := range batch {
		pkRows[s] = QuantizeRows(pkf[s*dl*pc:(s+1)*dl*pc], dl, pc)
		pk[s] = PackInt8(pkRows[s])
	}
	// checkTop fails unless keys (ascending) are k keys whose scores are
	// each at least every other key's, up to float32 rounding.
	checkTop := func(t *testing.T, what string, keys []int32, score []float64) {
		t.Helper()
		if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
			t.Fatalf("%s: keys %v not ascending and distinct", what, keys)
		}
		lo := math.Inf(1)
		for _, j := range keys {
			lo = math.Min(lo, score[j])
		}
		for j, s := range score {
			if _, in := slices.BinarySearch(keys, int32(j)); !in && s > lo+1e-5*(math.Abs(lo)+1) {
				t.Fatalf("%s: key %d (score %g) dropped for one scoring %g", what, j, s, lo)
			}
		}
	}

	// Sparse attention operands on a pattern of blocks of 2, the last one
	// reaching past Cols.
	const sn, sl, sk, sblk, sdim, sdv = 11, 15, 3, 2, 6, 4
	sp := randomPattern(r, sn, sl, sk, sblk)
	sq, skk, sv := uniformFill(r, sn*sdim, 1), uniformFill(r, sl*sdim, 1), uniformFill(r, sl*sdv, 1)
	const sscale = 0.4
	sRef, pRef, outRef := sparseRef(sq, skk, sv, sdim, sdv, sp, sscale)
	sw := sp.Width()
	col := func(i, e int) int { return int(sp.Idx[i*sp.K+e/sp.Block]) + e%sp.Block }
	to32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	p32 := to32(pRef)
	dout := uniformFill(r, sn*sdv, 1)
	dsIn := uniformFill(r, sn*sw, 1)
	const stol = 1e-5

	// Ternary projection.
	const tr, tc, tn = 17, 23, 6
	signs := randSigns(tr, tc, 3, 5)
	tern := NewTernary(tr, tc, 0.75, signs)
	tx := uniformFill(r, tn*tc, 1)

	// Top-k inputs with ties.
	tk := uniformFill(r, 300, 1)
	for i := 0; i < len(tk); i += 7 {
		tk[i] = 0.5
	}

	return append(gemvCases, []nilCase{
		{"Workers", func(t *testing.T, viaPool bool) {
			if got := p.Workers(); got != 1 {
				t.Fatalf("nil pool: Workers() = %d, want 1", got)
			}
		}},
		{"Close", func(t *testing.T, viaPool bool) {
			p.Close()
			p.Close() // twice, as a deferred Close after an explicit one does
		}},
		{"For", func(t *testing.T, viaPool bool) {
			for _, n := range []int{0, 1, 1000} {
				var calls [][2]int
				p.For(n, 3, func(lo, hi int) { calls = append(calls, [2]int{lo, hi}) })
				want := [][2]int{{0, n}}
				if n == 0 {
					want = nil
				}
				if !slices.Equal(calls, want) {
					t.Fatalf("nil pool: For(%d) called fn on %v, want %v", n, calls, want)
				}
			}
		}},
		{"GemvInt4TopK", func(t *testing.T, viaPool bool) {
			y, sel := make([]float32, nilRows), make([]int32, nilRows)
			var th float32
			if viaPool {
				sel, th = p.GemvInt4TopK(y, q4, scales, nilCols, xq, xscale, b, 5, sel)
			} else {
				sel, th = GemvInt4TopK(y, q4, scales, nilCols, xq, xscale, b, 5, sel)
			}
			want, mag := gemvRef64(wint, nilRows, nilCols, xqf, b, make([]float32, nilRows), nil)
			closeTo(t, "GemvInt4TopK y", y, want, intTol(mag))
			checkTop(t, "GemvInt4TopK", sel, want)
			least := float32(math.Inf(1))
			for _, j := range sel {
				least = min(least, y[j])
			}
			if len(sel) != 5 || th != least {
				t.Fatalf("GemvInt4TopK: %d selected, threshold %v, least selected %v", len(sel), th, least)
			}
		}},
		{"Gemm", func(t *testing.T, viaPool bool) {
			c := slices.Clone(gc0)
			if viaPool {
				p.Gemm(false, true, gm, gn, gk, 0.5, ga, gk, gb, gk, 0.25, c, gn)
			} else {
				Gemm(false, true, gm, gn, gk, 0.5, ga, gk, gb, gk, 0.25, c, gn)
			}
			want, mag := gemmRef()
			closeTo(t, "Gemm", c, want, dot(mag))
		}},
		{"PackB", func(t *testing.T, viaPool bool) {
			var pb *PackedB
			if viaPool {
				pb = p.PackB(nil, true, gk, gn, gb, gk)
			} else {
				pb = PackB(nil, true, gk, gn, gb, gk)
			}
			c := slices.Clone(gc0)
			GemmPacked(false, gm, 0.5, ga, gk, pb, 0.25, c, gn)
			want, mag := gemmRef()
			closeTo(t, "PackB", c, want, dot(mag))
		}},
		{"GemmPacked", func(t *testing.T, viaPool bool) {
			pb := PackB(nil, true, gk, gn, gb, gk)
			c := slices.Clone(gc0)
			if viaPool {
				p.GemmPacked(false, gm, 0.5, ga, gk, pb, 0.25, c, gn)
			} else {
				GemmPacked(false, gm, 0.5, ga, gk, pb, 0.25, c, gn)
			}
			want, mag := gemmRef()
			closeTo(t, "GemmPacked", c, want, dot(mag))
		}},
		{"Attention", func(t *testing.T, viaPool bool) {
			out := make([]float32, len(aq))
			if viaPool {
				p.Attention(out, aq, ak, av, heads, al, adim, true)
			} else {
				Attention(out, aq, ak, av, heads, al, adim, true)
			}
			closeTo(t, "Attention", out, attentionRef(aq, ak, av, heads, al, adim, true), absTol(attnTol(al, adim, 1)))
		}},
		{"DecodeAttention", func(t *testing.T, viaPool bool) {
			out := make([]float32, batch*ddv)
			if viaPool {
				p.DecodeAttention(out, dq, dk, dvv, batch, dl, ddim, ddv)
			} else {
				DecodeAttention(out, dq, dk, dvv, batch, dl, ddim, ddv)
			}
			var want []float64
			for s := range batch {
				want = append(want, decodeRef(dq[s*ddim:(s+1)*ddim], dk[s*dl*ddim:(s+1)*dl*ddim], dvv[s*dl*ddv:(s+1)*dl*ddv], dl, ddim, ddv, nil)...)
			}
			closeTo(t, "DecodeAttention", out, want, absTol(attnTol(dl, ddim, 1)))
		}},
		{"SparseDecodeAttention", func(t *testing.T, viaPool bool) {
			out := make([]float32, batch*ddv)
			var sel []int32
			if viaPool {
				sel = p.SparseDecodeAttention(out, dq, dk, dvv, batch, dl, ddim, ddv, pq, pk, topk, nil)
			} else {
				sel = SparseDecodeAttention(out, dq, dk, dvv, batch, dl, ddim, ddv, pq, pk, topk, nil)
			}
			var want []float64
			for s := range batch {
				keys := sel[s*topk : (s+1)*topk]
				qs := &Int8Rows{Rows: 1, Cols: pc, Q: pq.Q[s*pc : (s+1)*pc], Scales: pq.Scales[s : s+1]}
				checkTop(t, "SparseDecodeAttention", keys, predictedScores(qs, pkRows[s]))
				want = append(want, decodeRef(dq[s*ddim:(s+1)*ddim], dk[s*dl*ddim:(s+1)*dl*ddim], dvv[s*dl*ddv:(s+1)*dl*ddv], dl, ddim, ddv, slices.Clone(keys))...)
			}
			closeTo(t, "SparseDecodeAttention", out, want, absTol(attnTol(topk, ddim, 1)))
		}},
		{"PredictTopK", func(t *testing.T, viaPool bool) {
			var got SparseRows
			if viaPool {
				got = p.PredictTopK(pq, pk[0], topk, 1, nil)
			} else {
				got = PredictTopK(pq, pk[0], topk, 1, nil)
			}
			if got.Rows != batch || got.Cols != dl || got.K != topk {
				t.Fatalf("PredictTopK: pattern %+v", got)
			}
			score := predictedScores(pq, pkRows[0])
			for i := range batch {
				checkTop(t, "PredictTopK", got.Idx[i*topk:(i+1)*topk], score[i*dl:(i+1)*dl])
			}
		}},
		{"SDDMM", func(t *testing.T, viaPool bool) {
			s := make([]float32, sn*sw)
			if viaPool {
				p.SDDMM(s, sq, skk, sdim, sp, sscale)
			} else {
				SDDMM(s, sq, skk, sdim, sp, sscale)
			}
			want := slices.Clone(sRef)
			for i, v := range want {
				if math.IsInf(v, -1) != math.IsInf(float64(s[i]), -1) {
					t.Fatalf("SDDMM: s[%d] = %v, want %v", i, s[i], v)
				}
				if math.IsInf(v, -1) {
					want[i], s[i] = 0, 0 // compared above
				}
			}
			closeTo(t, "SDDMM", s, want, absTol(stol))
		}},
		{"SparseSoftmax", func(t *testing.T, viaPool bool) {
			s, out := to32(sRef), make([]float32, sn*sw)
			if viaPool {
				p.SparseSoftmax(out, s, sp)
			} else {
				SparseSoftmax(out, s, sp)
			}
			closeTo(t, "SparseSoftmax", out, pRef, absTol(stol))
		}},
		{"SpMM", func(t *testing.T, viaPool bool) {
			out := make([]float32, sn*sdv)
			if viaPool {
				p.SpMM(out, p32, sv, sdv, sp)
			} else {
				SpMM(out, p32, sv, sdv, sp)
			}
			closeTo(t, "SpMM", out, outRef, absTol(stol))
		}},
		{"SparseAttention", func(t *testing.T, viaPool bool) {
			out := make([]float32, sn*sdv)
			if viaPool {
				p.SparseAttention(out, sq, skk, sv, sdim, sdv, sp, sscale)
			} else {
				SparseAttention(out, sq, skk, sv, sdim, sdv, sp, sscale)
			}
			closeTo(t, "SparseAttention", out, outRef, absTol(stol))
		}},
		{"SpMMBackward", func(t *testing.T, viaPool bool) {
			dp, dv := make([]float32, sn*sw), make([]float32, sl*sdv)
			if viaPool {
				p.SpMMBackward(dp, dv, dout, p32, sv, sdv, sp)
			} else {
				SpMMBackward(dp, dv, dout, p32, sv, sdv, sp)
			}
			wdp, wdv := make([]float64, sn*sw), make([]float64, sl*sdv)
			for i := range sn {
				for e := range sw {
					j := col(i, e)
					if j >= sl {
						continue
					}
					for c := range sdv {
						wdp[i*sw+e] += float64(dout[i*sdv+c]) * float64(sv[j*sdv+c])
						wdv[j*sdv+c] += float64(p32[i*sw+e]) * float64(dout[i*sdv+c])
					}
				}
			}
			closeTo(t, "SpMMBackward dp", dp, wdp, absTol(stol))
			closeTo(t, "SpMMBackward dv", dv, wdv, absTol(stol))
		}},
		{"SparseSoftmaxBackward", func(t *testing.T, viaPool bool) {
			ds := make([]float32, sn*sw)
			if viaPool {
				p.SparseSoftmaxBackward(ds, dsIn, p32, sp)
			} else {
				SparseSoftmaxBackward(ds, dsIn, p32, sp)
			}
			want := make([]float64, sn*sw)
			for i := range sn {
				var d float64
				for e := range sw {
					d += float64(p32[i*sw+e]) * float64(dsIn[i*sw+e])
				}
				for e := range sw {
					want[i*sw+e] = float64(p32[i*sw+e]) * (float64(dsIn[i*sw+e]) - d)
				}
			}
			closeTo(t, "SparseSoftmaxBackward", ds, want, absTol(stol))
		}},
		{"SDDMMBackward", func(t *testing.T, viaPool bool) {
			dq, dk := make([]float32, sn*sdim), make([]float32, sl*sdim)
			if viaPool {
				p.SDDMMBackward(dq, dk, dsIn, sq, skk, sdim, sp, sscale)
			} else {
				SDDMMBackward(dq, dk, dsIn, sq, skk, sdim, sp, sscale)
			}
			wq, wk := make([]float64, sn*sdim), make([]float64, sl*sdim)
			for i := range sn {
				for e := range sw {
					j := col(i, e)
					if j >= sl {
						continue
					}
					g := sscale * float64(dsIn[i*sw+e])
					for c := range sdim {
						wq[i*sdim+c] += g * float64(skk[j*sdim+c])
						wk[j*sdim+c] += g * float64(sq[i*sdim+c])
					}
				}
			}
			closeTo(t, "SDDMMBackward dq", dq, wq, absTol(stol))
			closeTo(t, "SDDMMBackward dk", dk, wk, absTol(stol))
		}},
		{"TernaryApplyBatch", func(t *testing.T, viaPool bool) {
			y := make([]float32, tn*tr)
			if viaPool {
				p.TernaryApplyBatch(tern, y, tx, tn)
			} else {
				tern.ApplyBatch(y, tx, tn)
			}
			var want, tol []float64
			for s := range tn {
				ys, ts := ternaryRef(tr, tc, 0.75, signs, tx[s*tc:(s+1)*tc])
				want, tol = append(want, ys...), append(tol, ts...)
			}
			closeTo(t, "TernaryApplyBatch", y, want, func(i int) float64 { return tol[i] })
		}},
		{"TopK", func(t *testing.T, viaPool bool) {
			for _, mag := range []bool{false, true} {
				idx := make([]int32, len(tk))
				var sel []int32
				var th float32
				if viaPool {
					sel, th = p.TopK(idx, tk, 20, mag)
				} else {
					sel, th = TopK(idx, tk, 20, mag)
				}
				checkTopK(t, "TopK", tk, 20, mag, sel, th)
			}
		}},
		{"TopKRows", func(t *testing.T, viaPool bool) {
			const rows, cols, k = 10, 30, 4
			for _, work := range [][]int32{nil, make([]int32, cols)} {
				dst := make([]int32, rows*k)
				switch {
				case viaPool:
					p.TopKRows(dst, tk, rows, cols, k, false, work)
				case work == nil:
					continue // the serial kernel needs scratch
				default:
					TopKRows(dst, tk, rows, cols, k, false, work)
				}
				for i := range rows {
					want, _ := refTopK(tk[i*cols:(i+1)*cols], k, false)
					if got := dst[i*k : (i+1)*k]; !slices.Equal(got, want) {
						t.Fatalf("TopKRows work=%v: row %d selected %v, want %v", work != nil, i, got, want)
					}
				}
			}
		}},
	}...)
}

func TestNilPool(t *testing.T) {
	for _, c := range nilPoolCases() {
		t.Run(c.method, func(t *testing.T) {
			c.run(t, true)
			c.run(t, false)
		})
	}
}

// TestNilPoolCoversMethods fails when *Pool gains an exported method that
// the nil-pool table does not exercise.
func TestNilPoolCoversMethods(t *testing.T) {
	var have []string
	for _, c := range nilPoolCases() {
		have = append(have, c.method)
	}
	sort.Strings(have)
	typ := reflect.TypeFor[*Pool]()
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; !slices.Contains(have, name) {
			t.Errorf("Pool.%s has no nil-pool case", name)
		}
	}
}
