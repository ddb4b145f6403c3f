package svdsoftmax

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// ErrFactorize reports that the eigendecomposition of WᵀW did not converge.
var ErrFactorize = errors.New("svdsoftmax: eigendecomposition failed")

// A Model is a classifier z = W·h + b held in its SVD-softmax form. It is
// immutable after New and safe for concurrent use; queries go through a
// Searcher, which owns the per-query scratch.
type Model struct {
	rows, cols int
	vt         []float32 // cols×cols; row j is the j-th right singular vector
	bm         []float32 // B = W·V, rows×cols
	bias       []float32 // len rows, or nil
	sv         []float64 // singular values, descending
}

// gramBlock is the number of rows of W whose Gram contribution is summed in
// float32 before being added to the float64 total; small blocks keep the
// float32 rounding of WᵀW near that of one row.
const gramBlock = 128

// gramGroups is the fixed number of row ranges whose partial Gram matrices
// are summed in order, so the result does not depend on the thread count.
const gramGroups = 8

// New factors the classifier W (rows×cols, row-major) with bias b (nil for
// none). The computation runs on p, which may be nil for one thread. It
// returns an error wrapping clsmetrics.ErrNaN if W or b holds a NaN or
// infinite value, or ErrFactorize if the eigendecomposition fails; it panics
// if the shapes disagree.
func New(p *kernels.Pool, w, b []float32, rows, cols int) (*Model, error) {
	if rows < 1 || cols < 1 || len(w) != rows*cols || (b != nil && len(b) != rows) {
		panic(fmt.Sprintf("svdsoftmax: New bad shape: len(w)=%d rows=%d cols=%d len(b)=%d", len(w), rows, cols, len(b)))
	}
	if err := clsmetrics.CheckFinite(w); err != nil {
		return nil, fmt.Errorf("svdsoftmax: W: %w", err)
	}
	if err := clsmetrics.CheckFinite(b); err != nil {
		return nil, fmt.Errorf("svdsoftmax: b: %w", err)
	}
	g := gram(p, w, rows, cols)
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(cols, g), true) {
		return nil, ErrFactorize
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	m := &Model{rows: rows, cols: cols, bias: b,
		vt: make([]float32, cols*cols), sv: make([]float64, cols)}
	// EigenSym sorts eigenvalues ascending; SVD-softmax wants the largest
	// singular directions first.
	for j := range cols {
		src := cols - 1 - j
		m.sv[j] = sqrtNonNeg(vals[src])
		for i := range cols {
			m.vt[j*cols+i] = float32(v.At(i, src))
		}
	}
	m.bm = make([]float32, rows*cols)
	p.Gemm(false, true, rows, cols, cols, 1, w, cols, m.vt, cols, 0, m.bm, cols)
	return m, nil
}

// gram returns WᵀW (cols×cols, full storage) in float64.
func gram(p *kernels.Pool, w []float32, rows, cols int) []float64 {
	part := make([][]float64, gramGroups)
	p.For(gramGroups, 1, func(lo, hi int) {
		c := make([]float32, cols*cols)
		for gi := lo; gi < hi; gi++ {
			acc := make([]float64, cols*cols)
			for r0 := gi * rows / gramGroups; r0 < (gi+1)*rows/gramGroups; r0 += gramBlock {
				r1 := min(r0+gramBlock, (gi+1)*rows/gramGroups)
				a := w[r0*cols : r1*cols]
				kernels.Gemm(true, false, cols, cols, r1-r0, 1, a, cols, a, cols, 0, c, cols)
				for i, x := range c {
					acc[i] += float64(x)
				}
			}
			part[gi] = acc
		}
	})
	g := part[0]
	for _, acc := range part[1:] {
		for i, x := range acc {
			g[i] += x
		}
	}
	return g
}

func sqrtNonNeg(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return math.Sqrt(x)
}

// Rows returns the number of classes l.
func (m *Model) Rows() int { return m.rows }

// Cols returns the hidden dimension d.
func (m *Model) Cols() int { return m.cols }

// SingularValues returns a copy of W's singular values in descending order.
func (m *Model) SingularValues() []float64 { return slices.Clone(m.sv) }

// Bytes returns the size of the model's float32 arrays (B, Vᵀ and b),
// excluding any Searcher's preview copy.
func (m *Model) Bytes() int { return 4 * (len(m.bm) + len(m.vt) + len(m.bias)) }
