package kernels

import (
	"fmt"
	"math"
	"slices"
)

// Int8Rows is a row-major matrix quantized to int8 with one scale per row:
// row r stands for Scales[r]·Q[r*Cols:(r+1)*Cols], values in [−127, 127]
// (QuantizeInt8's range: the AVX2 predictor kernel's products rely on it,
// and the predictor panics on −128). It is the form of the
// DSA predictor's projected queries Q̃ (thesis eq. 7.5), and of its keys K̃
// before PackInt8 lays them out for the predictor kernel.
type Int8Rows struct {
	Rows, Cols int
	Q          []int8
	Scales     []float32
}

// QuantizeRows quantizes the row-major rows×cols matrix x row by row with
// QuantizeInt8. It panics if len(x) != rows·cols, a dimension is negative
// or cols exceeds MaxIntCols.
func QuantizeRows(x []float32, rows, cols int) *Int8Rows {
	if rows < 0 || cols < 0 || cols > MaxIntCols || len(x) != rows*cols {
		panic(fmt.Sprintf("kernels: QuantizeRows: len(x)=%d for %d×%d (cols at most %d)", len(x), rows, cols, MaxIntCols))
	}
	m := &Int8Rows{Cols: cols}
	m.Append(x, rows)
	return m
}

// Append quantizes n more rows of m.Cols values from x (len n·Cols) and
// appends them. It panics if len(x) != n·Cols.
func (m *Int8Rows) Append(x []float32, n int) {
	if n < 0 || len(x) != n*m.Cols {
		panic(fmt.Sprintf("kernels: Int8Rows.Append: len(x)=%d for %d rows of %d", len(x), n, m.Cols))
	}
	o := len(m.Q)
	m.Q = append(m.Q, make([]int8, n*m.Cols)...)
	for r := range n {
		m.Scales = append(m.Scales, QuantizeInt8(m.Q[o+r*m.Cols:o+(r+1)*m.Cols], x[r*m.Cols:(r+1)*m.Cols]))
	}
	m.Rows += n
}

func (m *Int8Rows) check(op, name string) {
	if m == nil || m.Rows < 0 || m.Cols < 0 || m.Cols > MaxIntCols || len(m.Q) != m.Rows*m.Cols || len(m.Scales) != m.Rows || slices.Contains(m.Q, -128) {
		panic(fmt.Sprintf("kernels: %s: %s is not a well-formed Int8Rows (values in [−127, 127])", op, name))
	}
}

// PackedInt8 holds INT8 keys with per-row scales in the layout of the
// predictor kernel: groups of 16 keys, each stored column quad by column
// quad (16 keys × 4 bytes, 64 bytes a quad), bytes flipped to k+128 for
// VPDPBUSD's unsigned operand, padding keys and columns zero. One
// instruction then scores 16 keys on 4 columns, with no horizontal sums, so
// a key with σ·d = 16 predictor columns costs a quarter of an instruction
// per query. It is built from Int8Rows or grown a key at a time, as a KV
// cache grows.
type PackedInt8 struct {
	Rows, Cols int
	groups, c4 int
	data       []uint8
	scales     []float32 // padded to groups·16 with zeros
}

// NewPackedInt8 returns an empty PackedInt8 of cols columns. It panics if
// cols is negative or above MaxIntCols.
func NewPackedInt8(cols int) *PackedInt8 {
	if cols < 0 || cols > MaxIntCols {
		panic(fmt.Sprintf("kernels: NewPackedInt8: cols=%d outside [0, %d]", cols, MaxIntCols))
	}
	return &PackedInt8{Cols: cols, c4: max(1, (cols+3)/4)}
}

// PackInt8 packs m for the predictor.
func PackInt8(m *Int8Rows) *PackedInt8 {
	m.check("PackInt8", "m")
	p := NewPackedInt8(m.Cols)
	p.AppendQuantized(m.Q, m.Scales)
	return p
}

// Append quantizes n rows of Cols values from x with QuantizeInt8 and
// appends them. It panics if len(x) != n·Cols.
func (p *PackedInt8) Append(x []float32, n int) {
	if n < 0 || len(x) != n*p.Cols {
		panic(fmt.Sprintf("kernels: PackedInt8.Append: len(x)=%d for %d rows of %d", len(x), n, p.Cols))
	}
	row := make([]int8, p.Cols)
	for r := range n {
		s := QuantizeInt8(row, x[r*p.Cols:(r+1)*p.Cols])
		p.AppendQuantized(row, []float32{s})
	}
}

// AppendQuantized appends len(scales) rows already quantized, row r being
// scales[r]·q[r*Cols:(r+1)*Cols]. It panics if len(q) != len(scales)·Cols.
func (p *PackedInt8) AppendQuantized(q []int8, scales []float32) {
	if len(q) != len(scales)*p.Cols || slices.Contains(q, -128) {
		panic(fmt.Sprintf("kernels: PackedInt8.AppendQuantized: len(q)=%d for %d rows of %d, values in [−127, 127]", len(q), len(scales), p.Cols))
	}
	for r, sc := range scales {
		j := p.Rows % 16
		if j == 0 {
			p.data = append(p.data, make([]uint8, p.c4*64)...)
			for i := len(p.data) - p.c4*64; i < len(p.data); i++ {
				p.data[i] = 0x80
			}
			p.scales = append(p.scales, make([]float32, 16)...)
			p.groups++
		}
		g := p.data[(p.groups-1)*p.c4*64:]
		for c, v := range q[r*p.Cols : (r+1)*p.Cols] {
			g[(c/4)*64+j*4+c%4] = uint8(v) ^ 0x80
		}
		p.scales[(p.groups-1)*16+j] = sc
		p.Rows++
	}
}

func (p *PackedInt8) check(op, name string) {
	if p == nil || p.c4 < 1 || p.groups != (p.Rows+15)/16 || len(p.data) != p.groups*p.c4*64 || len(p.scales) != p.groups*16 {
		panic(fmt.Sprintf("kernels: %s: %s is not a well-formed PackedInt8 (use NewPackedInt8 or PackInt8)", op, name))
	}
}

// predictImpl is one implementation of the predictor kernel: scores of
// the 8 packed queries qb against groups groups of packed keys (data and
// scales from a group boundary of a PackedInt8 with c4 quads) into y, row r
// of the scores at y[r*ldy:], groups·16 values (padding keys score 0).
type predictImpl struct {
	name string
	ok   bool
	run  func(data []uint8, scales []float32, groups, c4 int, qb *predictQueries, y []float32, ldy int)
	// run1 is run for one query, packed [c4][4], with its correction and
	// scale.
	run1 func(data []uint8, scales []float32, groups, c4 int, q []int8, corr int32, scale float32, y []float32)
}

// runGroups scores qb against groups [g0, g1) of k, into y from column
// 16·g0 on.
func (pk predictImpl) runGroups(k *PackedInt8, g0, g1 int, qb *predictQueries, y []float32, ldy int) {
	if g0 >= g1 {
		return
	}
	_ = y[7*ldy+g1*16-1]
	pk.run(k.data[g0*k.c4*64:g1*k.c4*64], k.scales[g0*16:g1*16], g1-g0, k.c4, qb, y[g0*16:], ldy)
}

func predictKernel() predictImpl {
	return bestImpl(predictImpls(), func(p predictImpl) bool { return p.ok })
}

// predictQueries is a block of 8 query rows packed [c4][8][4] (zero rows
// and columns as padding), with each row's correction −128·Σq for the
// flipped keys and its scale.
type predictQueries struct {
	q     []int8
	corr  [8]int32
	scale [8]float32
}

// load packs rows [i0, i0+n) of q, n <= 8.
func (qb *predictQueries) load(q *Int8Rows, i0, n int) {
	clear(qb.q)
	qb.corr, qb.scale = [8]int32{}, [8]float32{}
	for r := range n {
		var sum int32
		for c, v := range q.Q[(i0+r)*q.Cols : (i0+r+1)*q.Cols] {
			qb.q[(c/4)*32+r*4+c%4] = v
			sum += int32(v)
		}
		qb.corr[r], qb.scale[r] = -128*sum, q.Scales[i0+r]
	}
}

// predictGeneric is the pure-Go twin of predictInt8VNNI.
func predictGeneric(data []uint8, scales []float32, groups, c4 int, qb *predictQueries, y []float32, ldy int) {
	for g := range groups {
		for r := range 8 {
			var acc [16]int32
			for j := range acc {
				acc[j] = qb.corr[r]
			}
			for t := range c4 {
				kq := data[(g*c4+t)*64 : (g*c4+t+1)*64]
				qq := qb.q[t*32+r*4 : t*32+r*4+4]
				for j := range acc {
					kj := kq[j*4 : j*4+4]
					acc[j] += int32(kj[0])*int32(qq[0]) + int32(kj[1])*int32(qq[1]) + int32(kj[2])*int32(qq[2]) + int32(kj[3])*int32(qq[3])
				}
			}
			out := y[r*ldy+g*16 : r*ldy+g*16+16]
			for j, a := range acc {
				out[j] = float32(float32(a) * (scales[g*16+j] * qb.scale[r]))
			}
		}
	}
}

// predictGeneric1 is the pure-Go twin of predictInt8VNNI1.
func predictGeneric1(data []uint8, scales []float32, groups, c4 int, q []int8, corr int32, scale float32, y []float32) {
	for g := range groups {
		var acc [16]int32
		for j := range acc {
			acc[j] = corr
		}
		for t := range c4 {
			kq := data[(g*c4+t)*64 : (g*c4+t+1)*64]
			qq := q[t*4 : t*4+4]
			for j := range acc {
				kj := kq[j*4 : j*4+4]
				acc[j] += int32(kj[0])*int32(qq[0]) + int32(kj[1])*int32(qq[1]) + int32(kj[2])*int32(qq[2]) + int32(kj[3])*int32(qq[3])
			}
		}
		out := y[g*16 : g*16+16]
		for j, a := range acc {
			out[j] = float32(float32(a) * (scales[g*16+j] * scale))
		}
	}
}

// PredictTopK is the DSA prediction path with its selection fused in: for
// every query row i it computes the predicted scores s̃_ij = q̃_i·k̃_j
// against all k.Rows keys (exact int32 sums, then the two row scales),
// eight query rows at a time against the packed keys, and keeps the topk
// largest as a pattern for the sparse kernels. With block > 1 the scores
// are taken in aligned groups of block keys ([b·block, (b+1)·block), the
// last one possibly short), a group scoring its largest member, and the
// topk best groups are kept: the 1×4 and 1×8 column vectors of thesis
// §7.5.1. Eight rows of scores exist at a time, never the n×l matrix. idx
// receives the pattern's indices (len >= q.Rows·topk; nil allocates). It
// panics if the shapes disagree, block < 1, or topk exceeds the number of
// groups.
func PredictTopK(q *Int8Rows, k *PackedInt8, topk, block int, idx []int32) SparseRows {
	sp := checkPredict("PredictTopK", q, k, topk, block, idx)
	pk := predictKernel()
	sc := newPredictScratch(k, block)
	for i0 := 0; i0 < q.Rows; i0 += 8 {
		predictBlock(pk, sc, q, k, sp, i0)
	}
	return sp
}

// PredictTopK is the multithreaded form of PredictTopK, split by blocks of
// eight query rows.
func (p *Pool) PredictTopK(q *Int8Rows, k *PackedInt8, topk, block int, idx []int32) SparseRows {
	if p == nil {
		return PredictTopK(q, k, topk, block, idx)
	}
	sp := checkPredict("Pool.PredictTopK", q, k, topk, block, idx)
	pk := predictKernel()
	scs := make([]*predictScratch, p.Workers())
	p.forWorker((q.Rows+7)/8, 1, chunksPerWorker, func(w, lo, hi int) {
		if scs[w] == nil {
			scs[w] = newPredictScratch(k, block)
		}
		for b := lo; b < hi; b++ {
			predictBlock(pk, scs[w], q, k, sp, 8*b)
		}
	})
	return sp
}

func checkPredict(op string, q *Int8Rows, k *PackedInt8, topk, block int, idx []int32) SparseRows {
	q.check(op, "q")
	k.check(op, "k")
	if q.Cols != k.Cols {
		panic(fmt.Sprintf("kernels: %s: q has %d columns, k %d", op, q.Cols, k.Cols))
	}
	if block < 1 {
		panic(fmt.Sprintf("kernels: %s: block %d < 1", op, block))
	}
	if k.Rows > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: %s: %d keys do not fit int32 indices", op, k.Rows))
	}
	groups := (k.Rows + block - 1) / block
	if topk < 0 || topk > groups {
		panic(fmt.Sprintf("kernels: %s: topk=%d outside [0, %d]", op, topk, groups))
	}
	if idx == nil {
		idx = make([]int32, q.Rows*topk)
	}
	if len(idx) < q.Rows*topk {
		panic(fmt.Sprintf("kernels: %s: len(idx)=%d < rows·topk=%d", op, len(idx), q.Rows*topk))
	}
	return SparseRows{Rows: q.Rows, Cols: k.Rows, K: topk, Block: block, Idx: idx[:q.Rows*topk]}
}

type predictScratch struct {
	qb   predictQueries
	y, g []float32 // 8 rows of scores; group maxima
	work []int32
	sel  rowSelector
}

func newPredictScratch(k *PackedInt8, block int) *predictScratch {
	sc := &predictScratch{y: make([]float32, 8*k.groups*16), work: make([]int32, k.Rows)}
	sc.sel = newRowSelector(k.Rows)
	sc.qb.q = make([]int8, k.c4*32)
	if block > 1 {
		sc.g = make([]float32, (k.Rows+block-1)/block)
	}
	return sc
}

// predictBlock selects the pattern rows [i0, i0+8) ∩ [0, q.Rows).
func predictBlock(pk predictImpl, sc *predictScratch, q *Int8Rows, k *PackedInt8, sp SparseRows, i0 int) {
	n := min(8, q.Rows-i0)
	sc.qb.load(q, i0, n)
	ldy := k.groups * 16
	pk.runGroups(k, 0, k.groups, &sc.qb, sc.y, ldy)
	for r := range n {
		x := sc.y[r*ldy : r*ldy+k.Rows]
		if sp.Block > 1 {
			blockMax(sc.g, x, sp.Block)
			x = sc.g
		}
		row := sp.Idx[(i0+r)*sp.K : (i0+r+1)*sp.K]
		sc.sel.topK(row, x, sp.K, sc.work)
		if sp.Block > 1 {
			for t := range row {
				row[t] *= int32(sp.Block)
			}
		}
	}
}

// blockMax sets g[b] to the largest of y[b·block : (b+1)·block]. The 1×4
// and 1×8 groups are unrolled: a general loop with a slice per group cost
// more than the predictor's GEMM.
func blockMax(g, y []float32, block int) {
	// The vector kernels take the leading whole vectors of groups; the
	// loops below the rest (all of it where they decline).
	lo := blockMaxVec(g, y, block) / block
	full := len(y) / block
	switch block {
	case 4:
		for b := lo; b < full; b++ {
			v := y[4*b : 4*b+4 : 4*b+4]
			g[b] = max(max(v[0], v[1]), max(v[2], v[3]))
		}
	case 8:
		for b := lo; b < full; b++ {
			v := y[8*b : 8*b+8 : 8*b+8]
			g[b] = max(max(max(v[0], v[1]), max(v[2], v[3])), max(max(v[4], v[5]), max(v[6], v[7])))
		}
	default:
		full = 0
	}
	for b := full; b < len(g); b++ {
		m := float32(math.Inf(-1))
		for _, v := range y[b*block : min((b+1)*block, len(y))] {
			m = max(m, v)
		}
		g[b] = m
	}
}

// rowSelector is TopK(·, y, k, false) for rows of predicted scores, the
// same selection found faster where k is a few per cent of a row of a few
// thousand. TopK's radix passes have a fixed cost that, on rows this short,
// came to several times the predictor's GEMM; here the pivot is the r-th
// largest of a strided sample of 128 scores (found by quickselect), with r
// a little above the sample's expected share of the top k so that at
// least k scores pass it with high probability; a vector filter lists the
// scores at or above it, and a quickselect over those few finds the k-th.
// Every score equal to the k-th passes the pivot (it is at most the k-th),
// candidates keep their order, and ties at the k-th are taken lowest index
// first, so the selection is TopK's. When fewer than k pass, or the pivot
// is NaN, it runs TopK on the row; rows of under 256 skip the sample and
// quickselect over all their scores.
type rowSelector struct {
	skeys  []uint32
	cand   []int32 // row length + 16: the vector filter stores 16 at a time
	ckeys  []uint32
	cwork  []uint32
	kwork  []uint32
	kept   []int32
	filter func(y []float32, t float32, out []int32) int
	vec    rowVec // the vector passes, where the CPU has them
}

// rowSampleLen is the size of a rowSelector's sample.
const rowSampleLen = 128

func newRowSelector(n int) rowSelector {
	return rowSelector{
		skeys: make([]uint32, rowSampleLen), cand: make([]int32, n+32),
		ckeys: make([]uint32, n+32), cwork: make([]uint32, n), kwork: make([]uint32, n), kept: make([]int32, n+32), filter: filterGE(),
		vec: rowVecImpl(),
	}
}

// topK writes the k selected indices of y, ascending, to dst[:k]; work
// (len >= len(y)) is TopK's scratch when it falls back.
func (rs *rowSelector) topK(dst []int32, y []float32, k int, work []int32) {
	n := len(y)
	var c int
	switch {
	case k == 0:
		return
	case rs.vec.lanes > 0 && (n < 2*rowSampleLen || 8*k > n && n <= 4*rowSampleLen):
		// The same rows on the vector passes: every score a candidate.
		if !rs.finishVec(dst, y, k, 1) {
			sel, _ := TopK(work, y, k, false)
			copy(dst, sel)
		}
		return
	case n < 2*rowSampleLen || 8*k > n && n <= 4*rowSampleLen:
		// Rows too short for a sample, or with k too large a share for
		// one to pay, go straight to the quickselect; TopK's radix
		// passes cost several times more at this length.
		for j := range n {
			rs.cand[j] = int32(j)
		}
		c = n
	case 8*k > n:
		sel, _ := TopK(work, y, k, false)
		copy(dst, sel)
		return
	case rs.vec.lanes > 0:
		if !rs.topKVec(dst, y, k) {
			sel, _ := TopK(work, y, k, false)
			copy(dst, sel)
		}
		return
	default:
		c = rs.sampleFilter(y, k)
		if c < k {
			sel, _ := TopK(work, y, k, false)
			copy(dst, sel)
			return
		}
	}
	cand, ckeys, cwork := rs.cand[:c], rs.ckeys[:c], rs.cwork[:c]
	for i, j := range cand {
		ckeys[i] = rankKey(y[j], false)
	}
	copy(cwork, ckeys)
	th := kthLargestKey(cwork, k, rs.kwork)
	// Keep every key above th and the first k−above equal to it, without
	// a branch per candidate: each is written, and the count advances
	// only for those kept.
	above := 0
	for _, key := range ckeys {
		above += b2i(key > th)
	}
	ties, o := k-above, 0
	kept := rs.kept[:c+1]
	for i, key := range ckeys {
		eq := b2i(key == th)
		take := b2i(key > th) | eq&b2i(ties > 0)
		ties -= eq & take
		kept[o] = cand[i]
		o += take
	}
	copy(dst[:k], kept[:k])
}

// topKVec is topK's sampled path on the vector passes: the pivot is the
// r-th largest sample key (keyThreshold), the filter keeps the scores at or
// above it with their keys, keyThreshold over those finds a threshold th
// that the k-th largest key meets, and the scores at or above th are
// listed in order; if more than k are (ties at the k-th), the last ties
// are dropped, so that ties go lowest index first as in TopK. It reports
// false, having written nothing, when fewer than k pass the pivot or the
// sample is mostly NaN.
func (rs *rowSelector) topKVec(dst []int32, y []float32, k int) bool {
	n, lanes := len(y), rs.vec.lanes
	stride := (n + rowSampleLen - 1) / rowSampleLen
	m := n / stride
	skeys := rs.skeys[:(m+lanes-1)/lanes*lanes]
	lo := ^uint32(0)
	for i := range m {
		key := rankKey(y[i*stride], false)
		skeys[i] = key
		lo = min(lo, key)
	}
	clear(skeys[m:])
	want := float64(k) * float64(m) / float64(n)
	r := min(m, int(math.Ceil(want+2*math.Sqrt(want)+1)))
	pv := rs.vec.threshold(skeys, lo, r)
	if pv == 0 { // fewer than r sample scores are not NaN
		return false
	}
	return rs.finishVec(dst, y, k, pv)
}

// finishVec lists in dst[:k] the top k of y among the scores whose keys
// are at or above pv (pv ≥ 1; 1 lets every non-NaN score through), as
// topKVec describes; false if fewer than k pass.
func (rs *rowSelector) finishVec(dst []int32, y []float32, k int, pv uint32) bool {
	lanes := rs.vec.lanes
	c := rs.vec.filter(y, pv, rs.cand, rs.ckeys)
	if c < k {
		return false
	}
	pad := (c + lanes - 1) / lanes * lanes
	clear(rs.ckeys[c:pad])
	ckeys, cand := rs.ckeys[:pad], rs.cand[:pad]
	th := rs.vec.threshold(ckeys, pv, k)
	o := rs.vec.selectGE(ckeys, cand, th, rs.kept)
	kept := rs.kept[:o]
	if o > k {
		// Keep every score above th and the first of those equal to it.
		above := 0
		for _, j := range kept {
			above += b2i(rankKey(y[j], false) > th)
		}
		ties, w := k-above, 0
		for _, j := range kept {
			key := rankKey(y[j], false)
			eq := b2i(key == th)
			take := b2i(key > th) | eq&b2i(ties > 0)
			ties -= eq & take
			kept[w] = j
			w += take
		}
	}
	copy(dst[:k], kept[:k])
	return true
}

// sampleFilter lists in rs.cand the indices of y at or above the pivot
// and returns how many (0 if the pivot is NaN).
func (rs *rowSelector) sampleFilter(y []float32, k int) int {
	n := len(y)
	stride := (n + rowSampleLen - 1) / rowSampleLen
	m := n / stride
	skeys := rs.skeys[:m]
	for i := range skeys {
		skeys[i] = rankKey(y[i*stride], false)
	}
	want := float64(k) * float64(m) / float64(n)
	r := min(m, int(math.Ceil(want+2*math.Sqrt(want)+1)))
	th := kthLargestKey(skeys, r, rs.cwork)
	if th == 0 { // NaN's key
		return 0
	}
	return rs.filter(y, keyValue(th, false), rs.cand)
}

// kthLargestKey returns the r-th largest of keys (1 <= r <= len(keys)) by
// quickselect, using keys and buf (len(buf) >= len(keys)) as scratch. Each
// round copies the keys above a median-of-three pivot to the front of the
// other buffer and those below it to the back, with no branch per key
// (both stores happen, the comparisons advance the ends; on random scores
// a branch would mispredict half the time) and no dependence of one key's
// store on the last one's. The pivot is one of the keys, so every round
// shrinks the range; short ranges, and those still long after 64 rounds,
// are sorted.
func kthLargestKey(keys []uint32, r int, buf []uint32) uint32 {
	a, b := keys, buf
	want := r - 1 // position in descending order
	for round := 0; ; round++ {
		m := len(a)
		if m <= 16 || round == 64 {
			slices.Sort(a)
			return a[m-1-want]
		}
		x, y, z := a[0], a[m/2], a[m-1]
		p := max(min(x, y), min(max(x, y), z))
		b = b[:m]
		ng, nl := 0, 0
		for _, v := range a {
			b[ng] = v
			b[m-1-nl] = v
			ng += b2i(v > p)
			nl += b2i(v < p)
		}
		switch {
		case want < ng:
			a, b = b[:ng], a
		case want < m-nl:
			return p
		default:
			want -= m - nl
			a, b = b[m-nl:], a
		}
	}
}

// filterGEGeneric lists base+j for the j with y[j] >= t in out and returns
// how many, without a branch per score.
func filterGEGeneric(y []float32, t float32, out []int32, base int32) int {
	c := 0
	out = out[:len(y)]
	for j, v := range y {
		out[c] = base + int32(j)
		c += b2i(v >= t)
	}
	return c
}

func filterGEAll(y []float32, t float32, out []int32) int { return filterGEGeneric(y, t, out, 0) }
