package kernels

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// Ternary is a rows×cols matrix with entries in {−Scale, 0, +Scale}, such as
// a sparse random projection. It is stored as two compressed sparse row
// index lists, one for the +1 entries and one for the −1 entries, so that
// applying it needs only additions and subtractions plus one multiply by
// Scale per output element.
//
// For row i, Plus[PlusPtr[i]:PlusPtr[i+1]] are the columns holding +Scale
// and Minus[MinusPtr[i]:MinusPtr[i+1]] the columns holding −Scale, each in
// increasing order. The fields are exported so that other code (hardware
// models, serialisation) can read the layout; they must not be modified
// after construction.
type Ternary struct {
	Rows, Cols int
	Scale      float32

	PlusPtr  []int32 // len Rows+1
	Plus     []int32 // column indices of +1 entries
	MinusPtr []int32 // len Rows+1
	Minus    []int32 // column indices of −1 entries
}

// NewTernary builds a Ternary from a row-major rows×cols matrix of signs,
// each in {−1, 0, +1}; the matrix represented is Scale·signs. It panics if
// the shape is negative, len(signs) != rows*cols, a sign is out of range, or
// the column count or number of nonzeros does not fit an int32.
func NewTernary(rows, cols int, scale float32, signs []int8) *Ternary {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels: NewTernary negative shape %d×%d", rows, cols))
	}
	if len(signs) != rows*cols {
		panic(fmt.Sprintf("kernels: NewTernary len(signs)=%d, want %d×%d=%d", len(signs), rows, cols, rows*cols))
	}
	if cols > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: NewTernary cols=%d does not fit int32 indices", cols))
	}
	var np, nm int
	for i, s := range signs {
		switch s {
		case 1:
			np++
		case -1:
			nm++
		case 0:
		default:
			panic(fmt.Sprintf("kernels: NewTernary sign %d at row %d, col %d is not in {-1, 0, 1}", s, i/cols, i%cols))
		}
	}
	if np > math.MaxInt32 || nm > math.MaxInt32 {
		panic("kernels: NewTernary too many nonzeros for int32 row pointers")
	}
	t := &Ternary{
		Rows:     rows,
		Cols:     cols,
		Scale:    scale,
		PlusPtr:  make([]int32, rows+1),
		Plus:     make([]int32, 0, np),
		MinusPtr: make([]int32, rows+1),
		Minus:    make([]int32, 0, nm),
	}
	for i := range rows {
		for j, s := range signs[i*cols : (i+1)*cols] {
			switch s {
			case 1:
				t.Plus = append(t.Plus, int32(j))
			case -1:
				t.Minus = append(t.Minus, int32(j))
			}
		}
		t.PlusPtr[i+1] = int32(len(t.Plus))
		t.MinusPtr[i+1] = int32(len(t.Minus))
	}
	return t
}

// Apply computes y = T·x. It panics unless len(x) == Cols and len(y) == Rows.
func (t *Ternary) Apply(y, x []float32) {
	if len(x) != t.Cols || len(y) != t.Rows {
		panic(fmt.Sprintf("kernels: Ternary.Apply shape mismatch: T is %d×%d, len(y)=%d, len(x)=%d", t.Rows, t.Cols, len(y), len(x)))
	}
	t.applyRows(y, x, 0, t.Rows)
}

// ApplyBatch computes Y[s] = T·X[s] for n samples stored sample-major: X is
// n×Cols and Y is n×Rows, each sample contiguous. It panics unless
// len(X) == n*Cols and len(Y) == n*Rows.
func (t *Ternary) ApplyBatch(Y, X []float32, n int) {
	t.checkBatch("ApplyBatch", Y, X, n)
	t.applySamples(Y, X, 0, n)
}

// applySamples computes samples [lo, hi) of a batch. Four samples at a
// time share each pass over the index lists, which quarters the index
// traffic that dominates a single Apply.
func (t *Ternary) applySamples(Y, X []float32, lo, hi int) {
	R, C := t.Rows, t.Cols
	s := lo
	for ; s+4 <= hi; s += 4 {
		x0, x1 := X[s*C:(s+1)*C], X[(s+1)*C:(s+2)*C]
		x2, x3 := X[(s+2)*C:(s+3)*C], X[(s+3)*C:(s+4)*C]
		for i := range R {
			var a0, a1, a2, a3 float32
			for _, j := range t.Plus[t.PlusPtr[i]:t.PlusPtr[i+1]] {
				a0 += x0[j]
				a1 += x1[j]
				a2 += x2[j]
				a3 += x3[j]
			}
			var b0, b1, b2, b3 float32
			for _, j := range t.Minus[t.MinusPtr[i]:t.MinusPtr[i+1]] {
				b0 += x0[j]
				b1 += x1[j]
				b2 += x2[j]
				b3 += x3[j]
			}
			Y[s*R+i] = t.Scale * (a0 - b0)
			Y[(s+1)*R+i] = t.Scale * (a1 - b1)
			Y[(s+2)*R+i] = t.Scale * (a2 - b2)
			Y[(s+3)*R+i] = t.Scale * (a3 - b3)
		}
	}
	for ; s < hi; s++ {
		t.applyRows(Y[s*R:(s+1)*R], X[s*C:(s+1)*C], 0, R)
	}
}

// TernaryApplyBatch is Ternary.ApplyBatch split across the pool's workers by
// sample. When there are too few samples to give every worker a block of
// four, each sample's output rows are split instead, so a single vector
// still uses every worker.
func (p *Pool) TernaryApplyBatch(t *Ternary, Y, X []float32, n int) {
	if p == nil {
		t.ApplyBatch(Y, X, n)
		return
	}
	t.checkBatch("TernaryApplyBatch", Y, X, n)
	if n >= 4*p.Workers() || p.Workers() == 1 {
		p.For(n, 4, func(lo, hi int) { t.applySamples(Y, X, lo, hi) })
		return
	}
	for s := range n {
		y, x := Y[s*t.Rows:(s+1)*t.Rows], X[s*t.Cols:(s+1)*t.Cols]
		p.For(t.Rows, 16, func(lo, hi int) { t.applyRows(y, x, lo, hi) })
	}
}

func (t *Ternary) checkBatch(name string, Y, X []float32, n int) {
	if n < 0 || len(X) != n*t.Cols || len(Y) != n*t.Rows {
		panic(fmt.Sprintf("kernels: Ternary.%s shape mismatch: T is %d×%d, n=%d, len(Y)=%d, len(X)=%d", name, t.Rows, t.Cols, n, len(Y), len(X)))
	}
}

// applyRows computes rows [lo, hi) of y = T·x. Indices were validated at
// construction, so the only per-element work is a gather and an add; four
// partial sums break the add dependency chain.
func (t *Ternary) applyRows(y, x []float32, lo, hi int) {
	for i := lo; i < hi; i++ {
		y[i] = t.Scale * (gatherSum(x, t.Plus[t.PlusPtr[i]:t.PlusPtr[i+1]]) -
			gatherSum(x, t.Minus[t.MinusPtr[i]:t.MinusPtr[i+1]]))
	}
}

func gatherSum(x []float32, idx []int32) float32 {
	var s0, s1, s2, s3 float32
	j := 0
	for ; j+4 <= len(idx); j += 4 {
		s0 += x[idx[j]]
		s1 += x[idx[j+1]]
		s2 += x[idx[j+2]]
		s3 += x[idx[j+3]]
	}
	for ; j < len(idx); j++ {
		s0 += x[idx[j]]
	}
	return (s0 + s1) + (s2 + s3)
}

// Hash identifies the matrix's sign pattern and shape (16 hex digits of a
// SHA-256), so that a stored speculator is never paired with a projection
// generated differently.
func (t *Ternary) Hash() string {
	h := sha256.New()
	var b [4]byte
	for _, part := range [][]int32{t.PlusPtr, t.Plus, t.MinusPtr, t.Minus} {
		for _, v := range part {
			binary.LittleEndian.PutUint32(b[:], uint32(v))
			h.Write(b[:])
		}
	}
	binary.LittleEndian.PutUint32(b[:], uint32(t.Rows))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil)[:8])
}
