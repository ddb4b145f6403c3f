package kernels

import (
	"fmt"
	"math"
)

// Int8Rows is a row-major matrix quantized to int8 with one scale per row:
// row r stands for Scales[r]·Q[r*Cols:(r+1)*Cols]. It is the form of the
// DSA predictor's projected queries Q̃ and keys K̃ (thesis eq. 7.5), which
// a KV cache keeps beside the exact keys so that the predictor reads Cols
// bytes per key.
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
// appends them, as a KV cache appends each decoded token's key. It panics
// if len(x) != n·Cols.
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
	if m == nil || m.Rows < 0 || m.Cols < 0 || m.Cols > MaxIntCols || len(m.Q) != m.Rows*m.Cols || len(m.Scales) != m.Rows {
		panic(fmt.Sprintf("kernels: %s: %s is not a well-formed Int8Rows", op, name))
	}
}

// PredictTopK is the DSA prediction path with its selection fused in: for
// every query row i it computes the predicted scores s̃_ij = q̃_i·k̃_j
// against all k.Rows keys with the INT8 GEMV (exact int32 sums, then the
// two row scales), and keeps the topk largest, as a pattern for the sparse
// kernels. With block > 1 the scores are taken in aligned groups of block
// keys ([b·block, (b+1)·block), the last one possibly short), a group
// scoring its largest member, and the topk best groups are kept: the 1×4
// and 1×8 column vectors of thesis §7.5.1. One row of scores is formed at
// a time, so the n×l matrix never exists. idx receives the pattern's
// indices (len >= q.Rows·topk; nil allocates). It panics if the shapes
// disagree, block < 1, or topk exceeds the number of groups.
func PredictTopK(q, k *Int8Rows, topk, block int, idx []int32) SparseRows {
	sp := checkPredict("PredictTopK", q, k, topk, block, idx)
	sc := newPredictScratch(k.Rows, block)
	predictRows(sc, q, k, sp, 0, q.Rows)
	return sp
}

// PredictTopK is the multithreaded form of PredictTopK, split by query
// rows.
func (p *Pool) PredictTopK(q, k *Int8Rows, topk, block int, idx []int32) SparseRows {
	sp := checkPredict("Pool.PredictTopK", q, k, topk, block, idx)
	scs := make([]*predictScratch, p.Workers())
	grain := max(1, (1<<16)/max(1, k.Rows*max(1, k.Cols)/4))
	p.forWorker(q.Rows, grain, chunksPerWorker, func(w, lo, hi int) {
		if scs[w] == nil {
			scs[w] = newPredictScratch(k.Rows, block)
		}
		predictRows(scs[w], q, k, sp, lo, hi)
	})
	return sp
}

func checkPredict(op string, q, k *Int8Rows, topk, block int, idx []int32) SparseRows {
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
	y, g []float32
	work []int32
}

func newPredictScratch(l, block int) *predictScratch {
	sc := &predictScratch{y: make([]float32, l), work: make([]int32, l)}
	if block > 1 {
		sc.g = make([]float32, (l+block-1)/block)
	}
	return sc
}

func predictRows(sc *predictScratch, q, k *Int8Rows, sp SparseRows, lo, hi int) {
	c := q.Cols
	for i := lo; i < hi; i++ {
		gemvInt8(sc.y, k.Q, k.Scales, c, q.Q[i*c:(i+1)*c], q.Scales[i], nil, nil)
		x := sc.y
		if sp.Block > 1 {
			blockMax(sc.g, sc.y, sp.Block)
			x = sc.g
		}
		sel, _ := TopK(sc.work, x, sp.K, false)
		row := sp.Idx[i*sp.K : (i+1)*sp.K]
		for t, b := range sel {
			row[t] = b * int32(sp.Block)
		}
	}
}

// blockMax sets g[b] to the largest of y[b·block : (b+1)·block].
func blockMax(g, y []float32, block int) {
	for b := range g {
		m := float32(math.Inf(-1))
		for _, v := range y[b*block : min((b+1)*block, len(y))] {
			m = max(m, v)
		}
		g[b] = m
	}
}
