package kernels

import (
	"errors"
	"fmt"
	"math"
)

// SparseRows is the pattern of a sparse n×l attention matrix in which every
// row keeps the same number of entries, as a per-row top-k mask does (which
// also balances work across rows). Row i lists K block starts in
// Idx[i*K:(i+1)*K], strictly increasing and non-overlapping; each start s
// covers the Block consecutive columns [s, s+Block) that are below Cols.
// Block is 1 for plain index lists, 4 or 8 for the 1×4 and 1×8 column
// vectors of thesis §7.5.1. Only a row's last block can reach past Cols;
// its columns from Cols on are not part of the matrix.
//
// Values on the pattern (scores, probabilities and their gradients) are
// stored densely per row: row i's entry for column s+b of its t-th block is
// at [i*K*Block + t*Block + b], and entries past Cols hold −Inf as scores
// and 0 as probabilities.
type SparseRows struct {
	Rows, Cols, K, Block int
	Idx                  []int32
}

// Width is the number of stored values per row, K·Block.
func (sp SparseRows) Width() int { return sp.K * sp.Block }

// Validate reports whether sp is a well-formed pattern, with an error
// saying what is wrong if not.
func (sp SparseRows) Validate() error {
	switch {
	case sp.Rows < 0 || sp.Cols < 0 || sp.K < 0:
		return fmt.Errorf("kernels: sparse pattern: negative size rows=%d cols=%d k=%d", sp.Rows, sp.Cols, sp.K)
	case sp.Block < 1:
		return fmt.Errorf("kernels: sparse pattern: block %d < 1", sp.Block)
	case sp.Cols > math.MaxInt32:
		return errors.New("kernels: sparse pattern: cols do not fit int32 indices")
	case len(sp.Idx) != sp.Rows*sp.K:
		return fmt.Errorf("kernels: sparse pattern: len(idx)=%d, want rows·k=%d", len(sp.Idx), sp.Rows*sp.K)
	}
	for i := range sp.Rows {
		prev := int64(math.MinInt64)
		for t, s := range sp.Idx[i*sp.K : (i+1)*sp.K] {
			if s < 0 || int(s) >= sp.Cols {
				return fmt.Errorf("kernels: sparse pattern: row %d entry %d: column %d outside [0, %d)", i, t, s, sp.Cols)
			}
			if int64(s) < prev {
				return fmt.Errorf("kernels: sparse pattern: row %d entry %d: start %d overlaps or precedes the block before", i, t, s)
			}
			prev = int64(s) + int64(sp.Block)
		}
	}
	return nil
}

func (sp SparseRows) mustValidate(op string) {
	if err := sp.Validate(); err != nil {
		panic(fmt.Sprintf("%v (%s)", err, op))
	}
}

// rowKeys returns the columns of row i's stored entries that lie in the
// matrix, in storage order (those past Cols are always a suffix), using buf
// (len >= Width()) when Block > 1.
func (sp SparseRows) rowKeys(i int, buf []int32) []int32 {
	starts := sp.Idx[i*sp.K : (i+1)*sp.K]
	if sp.Block == 1 {
		return starts
	}
	n := 0
	for _, s := range starts {
		for b := range int32(sp.Block) {
			if int(s+b) >= sp.Cols {
				return buf[:n]
			}
			buf[n] = s + b
			n++
		}
	}
	return buf[:n]
}

// sparseScratch is one worker's buffers for the sparse kernels: the
// expanded columns of a row, a gather target of one value per key, and an
// accumulator for scattered gradients (dk or dv) when a call needs one.
type sparseScratch struct {
	keys []int32
	y    []float32
	acc  []float32
}

func newSparseScratch(sp SparseRows, accLen int) *sparseScratch {
	return &sparseScratch{keys: make([]int32, sp.Width()), y: make([]float32, sp.Cols), acc: make([]float32, accLen)}
}

// sparseRun calls f over the rows of sp, on p's workers when p is not nil,
// each with its own scratch (accLen floats of zeroed accumulator), and
// returns the scratches used so that a caller can reduce accumulators.
func sparseRun(p *Pool, sp SparseRows, work, accLen int, f func(sc *sparseScratch, lo, hi int)) []*sparseScratch {
	if p.Workers() == 1 {
		sc := newSparseScratch(sp, accLen)
		f(sc, 0, sp.Rows)
		return []*sparseScratch{sc}
	}
	// A task of about 64K multiply-adds pays for its hand-off.
	grain := max(1, (1<<16)/max(1, sp.Width()*work))
	scs := make([]*sparseScratch, p.Workers())
	p.forWorker(sp.Rows, grain, chunksPerWorker, func(w, lo, hi int) {
		if scs[w] == nil {
			scs[w] = newSparseScratch(sp, accLen)
		}
		f(scs[w], lo, hi)
	})
	return scs
}

// reduceAcc adds every scratch's accumulator to dst.
func reduceAcc(dst []float32, scs []*sparseScratch) {
	for _, sc := range scs {
		if sc != nil {
			axpyF32(1, sc.acc, dst)
		}
	}
}

func checkLen(op, name string, s []float32, want int) {
	if len(s) != want {
		panic(fmt.Sprintf("kernels: %s: len(%s)=%d, want %d", op, name, len(s), want))
	}
}

func checkDim(op string, dim int) {
	if dim < 0 {
		panic(fmt.Sprintf("kernels: %s: negative dimension %d", op, dim))
	}
}

// SDDMM computes the scores on a sparse pattern (sampled dense-dense matrix
// multiplication): for every stored entry of row i at column j,
// s = scale·q_i·k_j, and −Inf for entries past sp.Cols. q holds sp.Rows
// rows and k sp.Cols rows of dim values, row-major; s holds Rows×Width()
// values. It panics on a malformed pattern or wrong lengths.
func SDDMM(s, q, k []float32, dim int, sp SparseRows, scale float32) {
	checkSDDMM("SDDMM", s, q, k, dim, sp)
	sparseRun(nil, sp, dim, 0, func(sc *sparseScratch, lo, hi int) { sddmmRows(sc, s, q, k, dim, sp, scale, lo, hi) })
}

// SDDMM is the multithreaded form of SDDMM, split by rows.
func (p *Pool) SDDMM(s, q, k []float32, dim int, sp SparseRows, scale float32) {
	if p == nil {
		SDDMM(s, q, k, dim, sp, scale)
		return
	}
	checkSDDMM("Pool.SDDMM", s, q, k, dim, sp)
	sparseRun(p, sp, dim, 0, func(sc *sparseScratch, lo, hi int) { sddmmRows(sc, s, q, k, dim, sp, scale, lo, hi) })
}

func checkSDDMM(op string, s, q, k []float32, dim int, sp SparseRows) {
	checkPatternOperands(op, sp, dim, "s", s, "q", q, "k", k)
}

// checkPatternOperands panics unless sp is well formed, d >= 0, onPattern
// holds Rows×Width() values, perRow Rows×d and perCol Cols×d.
func checkPatternOperands(op string, sp SparseRows, d int, nPattern string, onPattern []float32, nRow string, perRow []float32, nCol string, perCol []float32) {
	sp.mustValidate(op)
	checkDim(op, d)
	checkLen(op, nPattern, onPattern, sp.Rows*sp.Width())
	checkLen(op, nRow, perRow, sp.Rows*d)
	checkLen(op, nCol, perCol, sp.Cols*d)
}

func sddmmRows(sc *sparseScratch, s, q, k []float32, dim int, sp SparseRows, scale float32, lo, hi int) {
	w := sp.Width()
	negInf := float32(math.Inf(-1))
	for i := lo; i < hi; i++ {
		keys := sp.rowKeys(i, sc.keys)
		row := s[i*w : (i+1)*w]
		if dim == 0 || len(keys) == 0 {
			clear(row[:len(keys)])
		} else if !gatherDots(row[:len(keys)], q[i*dim:(i+1)*dim], k, keys, dim, scale) {
			// The gather GEMV writes y[j] for each listed key j, four
			// keys per pass sharing each load of q_i.
			gemvGatherF32(sc.y, k, dim, q[i*dim:(i+1)*dim], keys)
			for t, j := range keys {
				row[t] = scale * sc.y[j]
			}
		}
		for t := len(keys); t < w; t++ {
			row[t] = negInf
		}
	}
}

// SparseSoftmax sets p to the row-wise softmax of the scores s on the
// pattern: p[i,e] = exp(s[i,e] − max_e s[i,e]) / Σ_e exp(…). Entries of −Inf
// get 0; a row whose scores are all −Inf (or that has none) gets all 0. p
// may alias s. It panics on a malformed pattern or wrong lengths.
func SparseSoftmax(p, s []float32, sp SparseRows) {
	checkSoftmax("SparseSoftmax", p, s, sp)
	softmaxRows(p, s, sp.Width(), 0, sp.Rows)
}

// SparseSoftmax is the multithreaded form of SparseSoftmax, split by rows.
func (pl *Pool) SparseSoftmax(p, s []float32, sp SparseRows) {
	if pl == nil {
		SparseSoftmax(p, s, sp)
		return
	}
	checkSoftmax("Pool.SparseSoftmax", p, s, sp)
	sparseRun(pl, sp, 8, 0, func(_ *sparseScratch, lo, hi int) { softmaxRows(p, s, sp.Width(), lo, hi) })
}

func checkSoftmax(op string, p, s []float32, sp SparseRows) {
	sp.mustValidate(op)
	checkLen(op, "s", s, sp.Rows*sp.Width())
	checkLen(op, "p", p, sp.Rows*sp.Width())
}

func softmaxRows(p, s []float32, w, lo, hi int) {
	for i := lo; i < hi; i++ {
		softmaxRow(p[i*w:(i+1)*w], s[i*w:(i+1)*w])
	}
}

// softmaxRow is one row of SparseSoftmax.
func softmaxRow(p, s []float32) {
	if len(p) == 0 {
		return
	}
	if &p[0] != &s[0] {
		copy(p, s)
	}
	softmaxInPlace(p)
}

// softmaxInPlaceGeneric is the pure-Go twin of softmaxRowAVX512, computed
// in base 2 with the dense kernel's exponential so that both paths round
// alike.
func softmaxInPlaceGeneric(s []float32) {
	mx := float32(math.Inf(-1))
	for _, x := range s {
		mx = max(mx, x)
	}
	if math.IsInf(float64(mx), -1) {
		clear(s)
		return
	}
	const log2e = float32(math.Log2E)
	var sum float32
	for e, x := range s {
		v := exp2Poly(x*log2e - mx*log2e)
		s[e] = v
		sum += v
	}
	inv := 1 / sum
	for e := range s {
		s[e] *= inv
	}
}

// gatherAxpyGeneric is the pure-Go twin of gatherAxpyAVX512.
func gatherAxpyGeneric(out, p, v []float32, keys []int32) {
	dv := len(out)
	clear(out)
	for t, j := range keys {
		if p[t] != 0 {
			axpyF32(p[t], v[int(j)*dv:(int(j)+1)*dv], out)
		}
	}
}

// SpMM multiplies the sparse probabilities by the values: out_i =
// Σ_e p[i,e]·v_{j(e)} over the stored entries of row i (entries past Cols
// are skipped). v holds sp.Cols rows of dv values, out sp.Rows rows. It
// panics on a malformed pattern or wrong lengths.
func SpMM(out, p, v []float32, dv int, sp SparseRows) {
	checkSpMM("SpMM", out, p, v, dv, sp)
	sparseRun(nil, sp, dv, 0, func(sc *sparseScratch, lo, hi int) { spmmRows(sc, out, p, v, dv, sp, lo, hi) })
}

// SpMM is the multithreaded form of SpMM, split by rows.
func (pl *Pool) SpMM(out, p, v []float32, dv int, sp SparseRows) {
	if pl == nil {
		SpMM(out, p, v, dv, sp)
		return
	}
	checkSpMM("Pool.SpMM", out, p, v, dv, sp)
	sparseRun(pl, sp, dv, 0, func(sc *sparseScratch, lo, hi int) { spmmRows(sc, out, p, v, dv, sp, lo, hi) })
}

func checkSpMM(op string, out, p, v []float32, dv int, sp SparseRows) {
	checkPatternOperands(op, sp, dv, "p", p, "out", out, "v", v)
}

func spmmRows(sc *sparseScratch, out, p, v []float32, dv int, sp SparseRows, lo, hi int) {
	w := sp.Width()
	for i := lo; i < hi; i++ {
		gatherAxpy(out[i*dv:(i+1)*dv], p[i*w:(i+1)*w], v, sp.rowKeys(i, sc.keys))
	}
}

// SparseAttention is SDDMM, SparseSoftmax and SpMM fused row by row, so
// that the scores never leave the cache: out_i = Σ_e softmax(scale·q_i·k_j)
// v_j over the pattern's entries of row i. It panics as the three would.
func SparseAttention(out, q, k, v []float32, dim, dv int, sp SparseRows, scale float32) {
	checkSparseAttention("SparseAttention", out, q, k, v, dim, dv, sp)
	sparseRun(nil, sp, dim+dv, sp.Width(), func(sc *sparseScratch, lo, hi int) {
		sparseAttentionRows(sc, out, q, k, v, dim, dv, sp, scale, lo, hi)
	})
}

// SparseAttention is the multithreaded form of SparseAttention, split by
// rows.
func (p *Pool) SparseAttention(out, q, k, v []float32, dim, dv int, sp SparseRows, scale float32) {
	if p == nil {
		SparseAttention(out, q, k, v, dim, dv, sp, scale)
		return
	}
	checkSparseAttention("Pool.SparseAttention", out, q, k, v, dim, dv, sp)
	sparseRun(p, sp, dim+dv, sp.Width(), func(sc *sparseScratch, lo, hi int) {
		sparseAttentionRows(sc, out, q, k, v, dim, dv, sp, scale, lo, hi)
	})
}

func checkSparseAttention(op string, out, q, k, v []float32, dim, dv int, sp SparseRows) {
	sp.mustValidate(op)
	checkDim(op, dim)
	checkDim(op, dv)
	checkLen(op, "q", q, sp.Rows*dim)
	checkLen(op, "k", k, sp.Cols*dim)
	checkLen(op, "v", v, sp.Cols*dv)
	checkLen(op, "out", out, sp.Rows*dv)
}

func sparseAttentionRows(sc *sparseScratch, out, q, k, v []float32, dim, dv int, sp SparseRows, scale float32, lo, hi int) {
	row := sc.acc // Width() floats
	for i := lo; i < hi; i++ {
		sddmmRows(sc, row, q[i*dim:(i+1)*dim], k, dim, sp.row(i), scale, 0, 1)
		softmaxRow(row, row)
		spmmRows(sc, out[i*dv:(i+1)*dv], row, v, dv, sp.row(i), 0, 1)
	}
}

// row is the one-row pattern of row i.
func (sp SparseRows) row(i int) SparseRows {
	sp.Idx = sp.Idx[i*sp.K : (i+1)*sp.K]
	sp.Rows = 1
	return sp
}

// SpMMBackward is the gradient of SpMM: given dout = ∂L/∂out it sets
// dp[i,e] = dout_i·v_{j(e)} (0 past Cols) and adds Σ_i p[i,e]·dout_i to
// row j(e) of dv. Shapes are as for SpMM, with dp like p and dv like v.
func SpMMBackward(dp, dv, dout, p, v []float32, dvDim int, sp SparseRows) {
	checkSpMMBackward("SpMMBackward", dp, dv, dout, p, v, dvDim, sp)
	sparseRun(nil, sp, dvDim, 0, func(sc *sparseScratch, lo, hi int) {
		spmmBackwardRows(sc, dp, dv, dout, p, v, dvDim, sp, lo, hi)
	})
}

// SpMMBackward is the multithreaded form of SpMMBackward: rows are split
// among the workers, each adding to its own copy of dv, and the copies are
// summed at the end.
func (pl *Pool) SpMMBackward(dp, dv, dout, p, v []float32, dvDim int, sp SparseRows) {
	if pl == nil {
		SpMMBackward(dp, dv, dout, p, v, dvDim, sp)
		return
	}
	checkSpMMBackward("Pool.SpMMBackward", dp, dv, dout, p, v, dvDim, sp)
	scs := sparseRun(pl, sp, dvDim, len(dv), func(sc *sparseScratch, lo, hi int) {
		spmmBackwardRows(sc, dp, sc.acc, dout, p, v, dvDim, sp, lo, hi)
	})
	reduceAcc(dv, scs)
}

func checkSpMMBackward(op string, dp, dv, dout, p, v []float32, dvDim int, sp SparseRows) {
	checkSpMM(op, dout, p, v, dvDim, sp)
	checkLen(op, "dp", dp, len(p))
	checkLen(op, "dv", dv, len(v))
}

func spmmBackwardRows(sc *sparseScratch, dp, dv, dout, p, v []float32, d int, sp SparseRows, lo, hi int) {
	w := sp.Width()
	for i := lo; i < hi; i++ {
		g := dout[i*d : (i+1)*d]
		dpr, pr := dp[i*w:(i+1)*w], p[i*w:(i+1)*w]
		keys := sp.rowKeys(i, sc.keys)
		if d > 0 && len(keys) > 0 {
			gemvGatherF32(sc.y, v, d, g, keys)
		}
		for t, j := range keys {
			dpr[t] = 0
			if d > 0 {
				dpr[t] = sc.y[j]
			}
			if pr[t] != 0 {
				axpyF32(pr[t], g, dv[int(j)*d:(int(j)+1)*d])
			}
		}
		clear(dpr[len(keys):])
	}
}

// SparseSoftmaxBackward is the gradient of SparseSoftmax: given p and
// dp = ∂L/∂p it sets ds[i,e] = p[i,e]·(dp[i,e] − Σ_e' p[i,e']·dp[i,e']).
// ds may alias dp.
func SparseSoftmaxBackward(ds, dp, p []float32, sp SparseRows) {
	checkSoftmaxBackward("SparseSoftmaxBackward", ds, dp, p, sp)
	softmaxBackwardRows(ds, dp, p, sp.Width(), 0, sp.Rows)
}

// SparseSoftmaxBackward is the multithreaded form of SparseSoftmaxBackward.
func (pl *Pool) SparseSoftmaxBackward(ds, dp, p []float32, sp SparseRows) {
	if pl == nil {
		SparseSoftmaxBackward(ds, dp, p, sp)
		return
	}
	checkSoftmaxBackward("Pool.SparseSoftmaxBackward", ds, dp, p, sp)
	sparseRun(pl, sp, 4, 0, func(_ *sparseScratch, lo, hi int) { softmaxBackwardRows(ds, dp, p, sp.Width(), lo, hi) })
}

func checkSoftmaxBackward(op string, ds, dp, p []float32, sp SparseRows) {
	checkSoftmax(op, p, dp, sp)
	checkLen(op, "ds", ds, len(p))
}

func softmaxBackwardRows(ds, dp, p []float32, w, lo, hi int) {
	for i := lo; i < hi; i++ {
		pr, gr, dr := p[i*w:(i+1)*w], dp[i*w:(i+1)*w], ds[i*w:(i+1)*w]
		var dot float32
		for e, x := range pr {
			dot += x * gr[e]
		}
		for e, x := range pr {
			dr[e] = x * (gr[e] - dot)
		}
	}
}

// SDDMMBackward is the gradient of SDDMM: given ds = ∂L/∂s it adds
// scale·Σ_e ds[i,e]·k_{j(e)} to row i of dq and scale·Σ_i ds[i,e]·q_i to
// row j(e) of dk (entries past Cols contribute nothing). Shapes are as for
// SDDMM, with dq like q and dk like k.
func SDDMMBackward(dq, dk, ds, q, k []float32, dim int, sp SparseRows, scale float32) {
	checkSDDMMBackward("SDDMMBackward", dq, dk, ds, q, k, dim, sp)
	sparseRun(nil, sp, dim, 0, func(sc *sparseScratch, lo, hi int) {
		sddmmBackwardRows(sc, dq, dk, ds, q, k, dim, sp, scale, lo, hi)
	})
}

// SDDMMBackward is the multithreaded form of SDDMMBackward, with per-worker
// copies of dk summed at the end.
func (p *Pool) SDDMMBackward(dq, dk, ds, q, k []float32, dim int, sp SparseRows, scale float32) {
	if p == nil {
		SDDMMBackward(dq, dk, ds, q, k, dim, sp, scale)
		return
	}
	checkSDDMMBackward("Pool.SDDMMBackward", dq, dk, ds, q, k, dim, sp)
	scs := sparseRun(p, sp, dim, len(dk), func(sc *sparseScratch, lo, hi int) {
		sddmmBackwardRows(sc, dq, sc.acc, ds, q, k, dim, sp, scale, lo, hi)
	})
	reduceAcc(dk, scs)
}

func checkSDDMMBackward(op string, dq, dk, ds, q, k []float32, dim int, sp SparseRows) {
	checkSDDMM(op, ds, q, k, dim, sp)
	checkLen(op, "dq", dq, len(q))
	checkLen(op, "dk", dk, len(k))
}

func sddmmBackwardRows(sc *sparseScratch, dq, dk, ds, q, k []float32, dim int, sp SparseRows, scale float32, lo, hi int) {
	w := sp.Width()
	for i := lo; i < hi; i++ {
		qi, dqi, dr := q[i*dim:(i+1)*dim], dq[i*dim:(i+1)*dim], ds[i*w:(i+1)*w]
		for t, j := range sp.rowKeys(i, sc.keys) {
			g := scale * dr[t]
			if g == 0 {
				continue
			}
			axpyF32(g, k[int(j)*dim:(int(j)+1)*dim], dqi)
			axpyF32(g, qi, dk[int(j)*dim:(int(j)+1)*dim])
		}
	}
}
