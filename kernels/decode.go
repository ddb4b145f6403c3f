package kernels

import (
	"fmt"
	"math"
)

// Decoding: one new query per sequence against its KV cache of l keys.
// The work is a GEMV over the cache, memory-bound, so a single sequence is
// split over the keys (as flash-decoding does): each task keeps a partial
// softmax (its maximum, sum and unnormalised output) over a run of keys,
// and the partials are merged by rescaling to the largest maximum.

// DecodeAttention computes, for each of batch sequences b, out_b =
// softmax(q_b·K_bᵀ/√dim)·V_b, where q holds batch×dim values, k
// batch×l×dim, v batch×l×dv and out batch×dv, all row-major. It panics if
// a dimension is negative or a slice has the wrong length.
func DecodeAttention(out, q, k, v []float32, batch, l, dim, dv int) {
	checkDecode("DecodeAttention", out, q, k, v, batch, l, dim, dv)
	decode(nil, out, q, k, v, batch, l, dim, dv, nil, 0)
}

// DecodeAttention is the multithreaded form of DecodeAttention, split over
// sequences and runs of keys.
func (p *Pool) DecodeAttention(out, q, k, v []float32, batch, l, dim, dv int) {
	if p == nil {
		DecodeAttention(out, q, k, v, batch, l, dim, dv)
		return
	}
	checkDecode("Pool.DecodeAttention", out, q, k, v, batch, l, dim, dv)
	decode(p, out, q, k, v, batch, l, dim, dv, nil, 0)
}

// SparseDecodeAttention is the DSA form of DecodeAttention. The predictor
// reads only the low-precision projected keys: pk[b] holds sequence b's l
// predictor keys K̃ (a KV cache appends to it as it appends to k and v)
// and row b of pq its new query's q̃, and for each sequence the topk keys
// with the largest predicted scores q̃_b·k̃_j are selected. The exact attention then reads only those rows of
// k and v. sel receives the selected key indices, ascending, topk per
// sequence (len >= batch·topk; nil allocates), and is returned. It panics
// on the shape errors of DecodeAttention, if pq or pk has the wrong number
// of rows or their columns differ, or unless 0 <= topk <= l.
func SparseDecodeAttention(out, q, k, v []float32, batch, l, dim, dv int, pq *Int8Rows, pk []*PackedInt8, topk int, sel []int32) []int32 {
	sel = checkSparseDecode("SparseDecodeAttention", out, q, k, v, batch, l, dim, dv, pq, pk, topk, sel)
	if batch == 0 {
		return sel
	}
	d := newDecodePredictor(pq, pk, batch, l, topk, sel)
	d.score(0, batch*d.groups)
	d.pick(0, batch)
	decode(nil, out, q, k, v, batch, l, dim, dv, sel, topk)
	return sel
}

// SparseDecodeAttention is the multithreaded form of SparseDecodeAttention.
func (p *Pool) SparseDecodeAttention(out, q, k, v []float32, batch, l, dim, dv int, pq *Int8Rows, pk []*PackedInt8, topk int, sel []int32) []int32 {
	if p == nil {
		return SparseDecodeAttention(out, q, k, v, batch, l, dim, dv, pq, pk, topk, sel)
	}
	sel = checkSparseDecode("Pool.SparseDecodeAttention", out, q, k, v, batch, l, dim, dv, pq, pk, topk, sel)
	if batch == 0 {
		return sel
	}
	d := newDecodePredictor(pq, pk, batch, l, topk, sel)
	if batch >= 2*p.Workers() {
		// Enough sequences to share out whole: one hand-off to the
		// workers instead of three, which on a loaded machine (a worker
		// descheduled for a time slice) is what a step costs.
		p.For(batch, 1, func(lo, hi int) {
			d.score(lo*d.groups, hi*d.groups)
			d.pick(lo, hi)
			decode(nil, out[lo*dv:hi*dv], q[lo*dim:hi*dim], k[lo*l*dim:hi*l*dim], v[lo*l*dv:hi*l*dv],
				hi-lo, l, dim, dv, sel[lo*topk:hi*topk], topk)
		})
		return sel
	}
	p.For(batch*d.groups, max(1, decodeRun/16), d.score)
	p.For(batch, 1, d.pick)
	decode(p, out, q, k, v, batch, l, dim, dv, sel, topk)
	return sel
}

func checkDecode(op string, out, q, k, v []float32, batch, l, dim, dv int) {
	if batch < 0 || l < 0 || dim < 0 || dv < 0 {
		panic(fmt.Sprintf("kernels: %s: negative dimension batch=%d l=%d dim=%d dv=%d", op, batch, l, dim, dv))
	}
	if l > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: %s: l=%d does not fit int32 indices", op, l))
	}
	checkLen(op, "q", q, batch*dim)
	checkLen(op, "k", k, batch*l*dim)
	checkLen(op, "v", v, batch*l*dv)
	checkLen(op, "out", out, batch*dv)
}

func checkSparseDecode(op string, out, q, k, v []float32, batch, l, dim, dv int, pq *Int8Rows, pk []*PackedInt8, topk int, sel []int32) []int32 {
	checkDecode(op, out, q, k, v, batch, l, dim, dv)
	pq.check(op, "pq")
	if pq.Rows != batch || len(pk) != batch {
		panic(fmt.Sprintf("kernels: %s: %d predictor queries and %d key caches, want batch=%d", op, pq.Rows, len(pk), batch))
	}
	for b, m := range pk {
		m.check(op, "pk")
		if m.Rows != l || m.Cols != pq.Cols {
			panic(fmt.Sprintf("kernels: %s: pk[%d] is %d×%d, want %d×%d", op, b, m.Rows, m.Cols, l, pq.Cols))
		}
	}
	if topk < 0 || topk > l {
		panic(fmt.Sprintf("kernels: %s: topk=%d outside [0, l=%d]", op, topk, l))
	}
	if sel == nil {
		sel = make([]int32, batch*topk)
	}
	if len(sel) < batch*topk {
		panic(fmt.Sprintf("kernels: %s: len(sel)=%d < batch·topk=%d", op, len(sel), batch*topk))
	}
	return sel[:batch*topk]
}

// decodeRun is the least number of keys a decode task takes: enough that a
// task reads tens of KiB of cache.
const decodeRun = 256

// decodePredictor is the predictor step of SparseDecodeAttention: the
// scores of each sequence's query against its packed keys, then its top
// keys.
type decodePredictor struct {
	pkern      predictImpl
	pq         *Int8Rows
	pk         []*PackedInt8
	l, topk    int
	c4, groups int
	y          []float32 // batch rows of groups·16 scores
	qs         []int8    // queries packed [c4][4]
	corr       []int32
	work       []int32
	sel        []int32
}

func newDecodePredictor(pq *Int8Rows, pk []*PackedInt8, batch, l, topk int, sel []int32) *decodePredictor {
	c, c4, groups := pq.Cols, pk[0].c4, pk[0].groups
	d := &decodePredictor{pkern: predictKernel(), pq: pq, pk: pk, l: l, topk: topk, c4: c4, groups: groups,
		y: make([]float32, batch*groups*16), qs: make([]int8, batch*c4*4), corr: make([]int32, batch),
		work: make([]int32, batch*l), sel: sel}
	for b := range batch {
		for j, v := range pq.Q[b*c : (b+1)*c] {
			d.qs[b*c4*4+j] = v
			d.corr[b] -= 128 * int32(v)
		}
	}
	return d
}

// score computes groups [lo, hi) of 16 keys, numbered across the batch.
func (d *decodePredictor) score(lo, hi int) {
	c4, ld := d.c4, d.groups*16
	for lo < hi {
		b := lo / d.groups
		e := min(hi, (b+1)*d.groups)
		g0, g1 := lo-b*d.groups, e-b*d.groups
		k := d.pk[b]
		d.pkern.run1(k.data[g0*c4*64:g1*c4*64], k.scales[g0*16:g1*16], g1-g0, c4, d.qs[b*c4*4:(b+1)*c4*4],
			d.corr[b], d.pq.Scales[b], d.y[b*ld+g0*16:b*ld+g1*16])
		lo = e
	}
}

// pick selects the top keys of sequences [lo, hi).
func (d *decodePredictor) pick(lo, hi int) {
	l, k, ld := d.l, d.topk, d.groups*16
	rs := newRowSelector(l)
	for b := lo; b < hi; b++ {
		rs.topK(d.sel[b*k:(b+1)*k], d.y[b*ld:b*ld+l], k, d.work[b*l:(b+1)*l])
	}
}

// decode computes the batch outputs over every key (sel nil) or over the
// topk keys per sequence listed in sel.
func decode(p *Pool, out, q, k, v []float32, batch, l, dim, dv int, sel []int32, topk int) {
	n := l // keys per sequence
	if sel != nil {
		n = topk
	}
	workers := p.Workers()
	// Runs per sequence: enough for every worker when the batch is small.
	runs := max(1, min((n+decodeRun-1)/decodeRun, (2*workers+batch-1)/batch))
	size := (n + runs - 1) / max(runs, 1)
	stride := dv + 2
	part := make([]float32, batch*runs*stride)
	ys := make([][]float32, workers)
	task := func(w, lo, hi int) {
		if ys[w] == nil {
			ys[w] = make([]float32, l)
		}
		for t := lo; t < hi; t++ {
			b, r := t/runs, t%runs
			j0, j1 := r*size, min((r+1)*size, n)
			var keys []int32
			if sel != nil {
				keys = sel[b*topk+j0 : b*topk+j1]
			}
			decodePart(part[t*stride:(t+1)*stride], ys[w], q[b*dim:(b+1)*dim], k[b*l*dim:(b+1)*l*dim], v[b*l*dv:(b+1)*l*dv], dim, dv, keys, j0, j1)
		}
	}
	p.forWorker(batch*runs, 1, chunksPerWorker, task)
	for b := range batch {
		mergeParts(out[b*dv:(b+1)*dv], part[b*runs*stride:(b+1)*runs*stride], stride)
	}
}

// decodePart computes one partial softmax into part = [m, sum, o...]: over
// keys [j0, j1) when keys is nil, else over the listed keys. y is scratch
// of l values.
func decodePart(part, y, q, k, v []float32, dim, dv int, keys []int32, j0, j1 int) {
	m, o := float32(math.Inf(-1)), part[2:]
	clear(o)
	part[0], part[1] = m, 0
	if j0 >= j1 {
		return
	}
	scale := float32(1 / math.Sqrt(float64(max(dim, 1))))
	if dim == 0 {
		clear(y)
	} else if keys == nil {
		gemvRowsF32(y[j0:j1], k[j0*dim:j1*dim], dim, q)
	} else {
		gemvGatherF32(y, k, dim, q, keys)
	}
	key := func(t int) int {
		if keys == nil {
			return j0 + t
		}
		return int(keys[t])
	}
	cnt := j1 - j0
	for t := range cnt {
		m = max(m, y[key(t)])
	}
	const log2e = float32(math.Log2E)
	var sum float32
	for t := range cnt {
		j := key(t)
		e := exp2Poly((y[j] - m) * scale * log2e)
		sum += e
		if e != 0 && dv > 0 {
			axpyF32(e, v[j*dv:(j+1)*dv], o)
		}
	}
	part[0], part[1] = m*scale, sum
}

// mergeParts combines partial softmaxes [m, sum, o...] of one sequence.
func mergeParts(out, part []float32, stride int) {
	mx := math.Inf(-1)
	for r := 0; r < len(part); r += stride {
		mx = math.Max(mx, float64(part[r]))
	}
	clear(out)
	if math.IsInf(mx, -1) {
		return
	}
	var sum float64
	for r := 0; r < len(part); r += stride {
		if part[r+1] == 0 {
			continue
		}
		f := math.Exp(float64(part[r]) - mx)
		sum += f * float64(part[r+1])
		axpyF32(float32(f), part[r+2:r+stride], out)
	}
	inv := float32(1 / sum)
	for i := range out {
		out[i] *= inv
	}
}
