package kernels

// Attention kernels (thesis chapter 7): an exact dense attention that never
// materialises the l×l score matrix, the sparse kernels of dynamic sparse
// attention (SDDMM, sparse row softmax, SpMM, with backward; per-row index
// lists and 1×4 / 1×8 column-vector blocks, sparse_attn.go), the INT8
// predictor with per-row top-k fused (predictor.go), single-query decoding
// against a KV cache (decode.go) and a compute-peak probe (peak.go).
//
// # Dense attention
//
// Attention computes O = softmax(Q·Kᵀ/√d)·V per head with the online
// softmax of FlashAttention: a block of nr queries (the GEMM micro-kernel's
// column count: 32 with AVX-512, 16 with AVX2, 4 in pure Go) keeps a running
// maximum m and sum ℓ per query and an unnormalised output, and sweeps the
// keys in blocks of about 128. Per key block it
//
//  1. computes the score tile Sᵀ = K_blk·Q_blkᵀ (keys × queries) with the
//     GEMM micro-kernel: K is packed once per head as the kernel's A
//     slivers of mr keys, and the query block once as its B sliver;
//  2. runs one online-softmax step over the tile (softmaxTile*, assembly):
//     new maxima, the correction 2^(m_old − m_new), the tile replaced by
//     2^(s − m_new) and its column sums;
//  3. rescales the output by the correction (skipped when no maximum
//     moved, which after the first few blocks is the common case) and adds
//     Oᵀ += Vᵀ_blk·P with the micro-kernel again.
//
// The tile is stored keys-major so that it already is the packed B sliver
// of step 3 (a row of nr queries per key): no transpose of P, and the
// softmax works on whole vectors of queries (column max, column sums), not
// on horizontal reductions. Vᵀ is packed once per head as A slivers of mr
// value dimensions. The scale 1/√d is folded, times log2(e), into the
// packed queries, so the softmax needs only a base-2 exponential: a degree-6
// polynomial on the fraction and an exponent add, with everything below
// 2^−126 flushed to an exact zero so that masked (−Inf) scores weigh
// nothing. Work is split over heads × query blocks on a Pool; K and Vᵀ are
// packed for a group of heads at a time, so memory beyond the inputs stays
// at about two heads' worth of keys and values.
//
// # The DSA path
//
// The predictor (PredictTopK) scores Q̃·K̃ᵀ in INT8 with keys in PackedInt8
// form, 16 keys × 4 columns per VPDPBUSD, so a key of σ·d = 16 predictor
// columns costs a quarter of an instruction per query; eight queries share
// each key load. Each row of eight is then reduced to its exact top k while
// in cache (rowSelector: a sampled pivot, an AVX-512 compress filter and a
// quickselect over the survivors; the same selection as TopK), and the
// n×l matrix of predicted scores never exists. The sparse kernels take the
// resulting SparseRows; SparseAttention fuses SDDMM (the row-gather GEMV),
// the row softmax and SpMM (a gather-axpy holding the output row in
// registers) row by row. Decoding splits a single sequence over runs of
// keys, each keeping a partial softmax that is merged at the end, and the
// DSA decode reads the packed predictor keys and then only the selected
// rows of K and V.

import (
	"fmt"
	"math"
)

// attnKernel is one implementation of the dense attention's inner loops,
// so that tests can run each whatever the dispatcher picks.
type attnKernel struct {
	name    string
	ok      bool // the CPU can run it
	gemm    gemmKernel
	softmax func(s []float32, rows, cols int, m, corr, sum []float32)
	// peak runs iters rounds of peakFlops floating-point operations.
	peak      func(iters int)
	peakFlops int
}

func attnGeneric() attnKernel {
	return attnKernel{name: "generic", ok: true, gemm: gemmGeneric(), softmax: softmaxGeneric,
		peak: peakFMAGeneric, peakFlops: 8 * 2}
}

// attnKernelF32 is the best implementation this CPU runs.
func attnKernelF32() attnKernel {
	return bestImpl(attnImpls(), func(a attnKernel) bool { return a.ok })
}

// bestImpl returns the last implementation in impls (ordered from the
// pure-Go twin up) that ok accepts, or the first.
func bestImpl[T any](impls []T, ok func(T) bool) T {
	for i := len(impls) - 1; i > 0; i-- {
		if ok(impls[i]) {
			return impls[i]
		}
	}
	return impls[0]
}

// attnKeyBlock is the number of keys per step of the online softmax,
// rounded to a multiple of the micro-kernel's mr: a 128×32 score tile is
// 16 KiB, so it stays in L1 between the two products and the softmax.
const attnKeyBlock = 128

// Attention computes, for every head h, out_h = softmax(q_h·k_hᵀ/√dim)·v_h,
// where q, k, v and out hold heads×l×dim values, row-major per head
// ([heads][l][dim]). With causal set, query i attends only to keys j <= i.
// It never forms the l×l matrix of scores (see the comment at the top of
// attention.go). It panics if a dimension is negative or a slice is not
// heads·l·dim long.
func Attention(out, q, k, v []float32, heads, l, dim int, causal bool) {
	checkAttention("Attention", out, q, k, v, heads, l, dim)
	attention(nil, attnKernelF32(), out, q, k, v, heads, l, dim, causal)
}

// Attention is the multithreaded form of Attention, split over heads and
// blocks of query rows.
func (p *Pool) Attention(out, q, k, v []float32, heads, l, dim int, causal bool) {
	if p == nil {
		Attention(out, q, k, v, heads, l, dim, causal)
		return
	}
	checkAttention("Pool.Attention", out, q, k, v, heads, l, dim)
	attention(p, attnKernelF32(), out, q, k, v, heads, l, dim, causal)
}

// AttentionFlops is the number of floating-point operations of dense
// attention counted the usual way: 2·l·l·dim for Q·Kᵀ and as many for P·V
// per head, halved (to l(l+1)/2 pairs) when causal. Softmax is not counted.
func AttentionFlops(heads, l, dim int, causal bool) float64 {
	pairs := float64(l) * float64(l)
	if causal {
		pairs = float64(l) * float64(l+1) / 2
	}
	return 4 * float64(heads) * pairs * float64(dim)
}

func checkAttention(op string, out, q, k, v []float32, heads, l, dim int) {
	if heads < 0 || l < 0 || dim < 0 {
		panic(fmt.Sprintf("kernels: %s: negative dimension heads=%d l=%d dim=%d", op, heads, l, dim))
	}
	n := heads * l * dim
	for _, s := range []struct {
		name string
		len  int
	}{{"out", len(out)}, {"q", len(q)}, {"k", len(k)}, {"v", len(v)}} {
		if s.len != n {
			panic(fmt.Sprintf("kernels: %s: len(%s)=%d, want heads·l·dim=%d", op, s.name, s.len, n))
		}
	}
}

// attnScratch is one worker's buffers for a block of queries.
type attnScratch struct {
	qt, st, ot          []float32
	m, corr, sum, total []float32
}

func newAttnScratch(ak attnKernel, dim int) *attnScratch {
	mr, nr := ak.gemm.mr, ak.gemm.nr
	bk := attnBlock(mr)
	dp := gemmRoundUp(dim, mr)
	buf := make([]float32, dim*nr+bk*nr+dp*nr+4*nr)
	s := &attnScratch{}
	s.qt, buf = buf[:dim*nr], buf[dim*nr:]
	s.st, buf = buf[:bk*nr], buf[bk*nr:]
	s.ot, buf = buf[:dp*nr], buf[dp*nr:]
	s.m, s.corr, s.sum, s.total = buf[:nr], buf[nr:2*nr], buf[2*nr:3*nr], buf[3*nr:4*nr]
	return s
}

func attnBlock(mr int) int { return max(mr, attnKeyBlock/mr*mr) }

// attnHeads holds K and Vᵀ of a group of heads packed for the micro-kernel.
type attnHeads struct {
	lk, dp int // keys and value dimensions rounded up to mr
	kp, vt []float32
}

func attention(p *Pool, ak attnKernel, out, q, k, v []float32, heads, l, dim int, causal bool) {
	if heads == 0 || l == 0 {
		return
	}
	if dim == 0 {
		clear(out)
		return
	}
	mr, nr := ak.gemm.mr, ak.gemm.nr
	workers := p.Workers()
	nq := (l + nr - 1) / nr
	// Pack enough heads at a time to give every worker several query
	// blocks, and no more: one head's K and Vᵀ is all a large l needs.
	group := min(heads, max(1, (4*workers+nq-1)/nq))
	ph := attnHeads{lk: gemmRoundUp(l, mr), dp: gemmRoundUp(dim, mr)}
	ph.kp = make([]float32, group*ph.lk*dim)
	ph.vt = make([]float32, group*ph.dp*ph.lk)
	scratch := make([]*attnScratch, workers)
	for w := range scratch {
		scratch[w] = newAttnScratch(ak, dim)
	}
	hd := l * dim
	for h0 := 0; h0 < heads; h0 += group {
		g := min(group, heads-h0)
		pack := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				ph.pack(ak, i, k[(h0+i)*hd:(h0+i+1)*hd], v[(h0+i)*hd:(h0+i+1)*hd], l, dim)
			}
		}
		block := func(w, lo, hi int) {
			for t := lo; t < hi; t++ {
				i, qb := t/nq, t%nq
				o := (h0 + i) * hd
				ph.queryBlock(ak, scratch[w], i, out[o:o+hd], q[o:o+hd], qb*nr, l, dim, causal)
			}
		}
		p.For(g, 1, pack)
		// Many chunks per worker: causal query blocks differ in cost.
		p.forWorker(g*nq, 1, 16, block)
	}
}

// pack stores head i of the group: K as A slivers of mr keys (kp[j·dim +
// p·mr + r] = K[j+r][p]) and Vᵀ as A slivers of mr dimensions, each lk
// steps long (vt[s·lk·mr + j·mr + r] = V[j][s·mr+r]), zero-padded.
func (ph *attnHeads) pack(ak attnKernel, i int, k, v []float32, l, dim int) {
	mr := ak.gemm.mr
	kp := ph.kp[i*ph.lk*dim : (i+1)*ph.lk*dim]
	vt := ph.vt[i*ph.dp*ph.lk : (i+1)*ph.dp*ph.lk]
	clear(kp[l/mr*mr*dim:])
	for j := range l {
		s := kp[j/mr*mr*dim+j%mr:]
		for p, x := range k[j*dim : (j+1)*dim] {
			s[p*mr] = x
		}
	}
	for s := 0; s < ph.dp; s += mr {
		dst := vt[s*ph.lk : (s+mr)*ph.lk]
		cols := min(mr, dim-s)
		if cols < mr || l < ph.lk {
			clear(dst)
		}
		for j := range l {
			copy(dst[j*mr:j*mr+cols], v[j*dim+s:j*dim+s+cols])
		}
	}
}

// queryBlock computes the output rows [i0, i0+nr) ∩ [0, l) of head i of
// the group; q and out are that head's l×dim matrices.
func (ph *attnHeads) queryBlock(ak attnKernel, sc *attnScratch, i int, out, q []float32, i0, l, dim int, causal bool) {
	mr, nr := ak.gemm.mr, ak.gemm.nr
	bk := attnBlock(mr)
	nv := min(nr, l-i0)
	kp := ph.kp[i*ph.lk*dim : (i+1)*ph.lk*dim]
	vt := ph.vt[i*ph.dp*ph.lk : (i+1)*ph.dp*ph.lk]

	// Qᵀ as the B sliver, scaled so that scores come out in base 2.
	scale := float32(math.Log2E / math.Sqrt(float64(dim)))
	if nv < nr {
		clear(sc.qt)
	}
	for c := range nv {
		for p, x := range q[(i0+c)*dim : (i0+c+1)*dim] {
			sc.qt[p*nr+c] = x * scale
		}
	}
	negInf := float32(math.Inf(-1))
	for c := range sc.m {
		sc.m[c], sc.total[c] = negInf, 0
	}
	clear(sc.ot)

	kend := l
	if causal {
		kend = i0 + nv
	}
	for j0 := 0; j0 < kend; j0 += bk {
		rows := min(bk, gemmRoundUp(kend-j0, mr))
		st := sc.st[:rows*nr]
		clear(st)
		for jj := 0; jj < rows; jj += mr {
			ak.gemm.kern(dim, kp[(j0+jj)*dim:(j0+jj+mr)*dim], sc.qt, st[jj*nr:], nr)
		}
		// Mask padded keys, and keys after a query when causal.
		if j0+rows > l || causal && j0+rows-1 > i0 {
			for jj := range rows {
				j := j0 + jj
				row := st[jj*nr : (jj+1)*nr]
				for c := range row {
					if j >= l || causal && j > i0+c {
						row[c] = negInf
					}
				}
			}
		}
		ak.softmax(st, rows, nr, sc.m, sc.corr, sc.sum)
		moved := false
		for c := range nr {
			sc.total[c] = sc.total[c]*sc.corr[c] + sc.sum[c]
			moved = moved || sc.corr[c] != 1
		}
		if moved {
			for d := 0; d < len(sc.ot); d += nr {
				row := sc.ot[d : d+nr]
				for c, f := range sc.corr[:len(row)] {
					row[c] *= f
				}
			}
		}
		for s := 0; s < ph.dp; s += mr {
			ak.gemm.kern(rows, vt[s*ph.lk+j0*mr:s*ph.lk+(j0+rows)*mr], st, sc.ot[s*nr:], nr)
		}
	}
	for c := range nv {
		inv := 1 / sc.total[c]
		o := out[(i0+c)*dim : (i0+c+1)*dim]
		for d := range o {
			o[d] = sc.ot[d*nr+c] * inv
		}
	}
}

func checkSoftmaxTile(s []float32, rows, cols int, m, corr, sum []float32) {
	if rows < 1 || len(s) < rows*cols || len(m) < cols || len(corr) < cols || len(sum) < cols {
		panic(fmt.Sprintf("kernels: softmax tile: rows=%d cols=%d len(s)=%d", rows, cols, len(s)))
	}
}

// softmaxGeneric is the pure-Go twin of softmaxTile*: one online-softmax
// step on a rows×cols tile whose columns are queries (see attention_amd64.s).
func softmaxGeneric(s []float32, rows, cols int, m, corr, sum []float32) {
	checkSoftmaxTile(s, rows, cols, m, corr, sum)
	m, corr, sum = m[:cols], corr[:cols], sum[:cols]
	s = s[:rows*cols]
	for c := range m {
		old := m[c]
		mx := old
		for r := c; r < len(s); r += cols {
			mx = max(mx, s[r])
		}
		m[c] = mx
		corr[c] = exp2Poly(old - mx)
		var t float32
		for r := c; r < len(s); r += cols {
			e := exp2Poly(s[r] - mx)
			s[r] = e
			t += e
		}
		sum[c] = t
	}
}

// exp2Poly is 2^x by the same steps as the assembly: x = n + f with n the
// nearest integer, 2^f by its degree-6 Taylor polynomial, 2^n put in the
// exponent. Below −126 (and for NaN) it returns 0. It is meant for x <= 0.
func exp2Poly(x float32) float32 {
	if !(x >= -126) {
		return 0
	}
	n := float32(math.RoundToEven(float64(x)))
	f := x - n
	const (
		c1 = float32(0.6931471805599453)
		c2 = float32(0.2402265069591007)
		c3 = float32(0.05550410866482158)
		c4 = float32(0.009618129107628477)
		c5 = float32(0.0013333558146428443)
		c6 = float32(0.00015403530393381608)
	)
	p := ((((((c6*f+c5)*f+c4)*f+c3)*f+c2)*f+c1)*f + 1)
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
