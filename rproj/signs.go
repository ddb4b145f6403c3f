package rproj

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
)

// Signs applies a ternary projection P = scale·S, S ∈ {−1,0,+1}^{k×d}, at
// run time as an integer GEMV of the stored signs with the input quantized
// to int8 — the thesis's x_Q (Algorithm 2), which a speculator may use
// since it only approximates. The VNNI kernels stream the signs several
// times faster than the index-list gather of kernels.Ternary.Apply
// (BenchmarkSigns, one thread, AVX-512: 13 µs against 91 µs at k=417,
// d=1500; 3.1 µs against 22 µs at k=256, d=512), and k·d/2 bytes are fewer than the 4-byte indices of the d/3
// nonzeros per row. A sign fits in four bits, so the signs are packed two
// to a byte for kernels.GemvInt4, which halves what every call reads of P
// at the same exact integer sums; beyond MaxPackedCols columns, where that
// kernel would allocate its split input, they stay INT8.
//
// Little modules (package dmi) and screeners (package screen) project
// with it at batch 1. A Signs holds its input's quantization buffer, so
// it is not safe for concurrent use.
type Signs struct {
	d      int
	signs  []int8    // k×d row-major, or nil when packed
	packed []byte    // k rows of (d+1)/2 bytes, see quant.PackInt4
	scales []float32 // len k, each the projection's scale
	xq     []int8    // len d, the quantized input
	nnz    int       // most nonzeros in a row
	xs     float32   // the last input's quantization scale
}

// MaxPackedCols is the widest input whose signs are packed: the INT4
// kernel splits its input on the stack up to 4096 columns.
const MaxPackedCols = 4096

// SignBytes returns what one Apply reads of a k×d projection's Signs: its
// signs, two to a byte up to MaxPackedCols columns, and k scales.
func SignBytes(k, d int) int {
	if d <= MaxPackedCols {
		return k*((d+1)/2) + 4*k
	}
	return k*d + 4*k
}

// NewSigns returns the run-time form of t with every row scaled by scale
// instead of t.Scale (a caller that folds a constant into the projection
// passes t.Scale/c).
func NewSigns(t *kernels.Ternary, scale float32) *Signs {
	sp := &Signs{d: t.Cols, scales: make([]float32, t.Rows), xq: make([]int8, t.Cols)}
	row := make([]int8, t.Cols)
	stride := (t.Cols + 1) / 2
	if t.Cols <= MaxPackedCols {
		sp.packed = make([]byte, t.Rows*stride)
	} else {
		sp.signs = make([]int8, t.Rows*t.Cols)
	}
	for i := 0; i < t.Rows; i++ {
		clear(row)
		for _, j := range t.Plus[t.PlusPtr[i]:t.PlusPtr[i+1]] {
			row[j] = 1
		}
		for _, j := range t.Minus[t.MinusPtr[i]:t.MinusPtr[i+1]] {
			row[j] = -1
		}
		if sp.packed != nil {
			quant.PackInt4(sp.packed[i*stride:(i+1)*stride], row)
		} else {
			copy(sp.signs[i*t.Cols:], row)
		}
		sp.scales[i] = scale
		sp.nnz = max(sp.nnz, int(t.PlusPtr[i+1]-t.PlusPtr[i]+t.MinusPtr[i+1]-t.MinusPtr[i]))
	}
	return sp
}

// Signs returns P's run-time form (see Signs).
func (p *Projection) Signs() *Signs { return NewSigns(p.t, p.t.Scale) }

// K returns the projected dimension.
func (sp *Signs) K() int { return len(sp.scales) }

// D returns the input dimension.
func (sp *Signs) D() int { return sp.d }

// Apply sets z = P·x_Q on p (nil: the calling goroutine). It panics unless
// len(z) == K() and len(x) == D().
func (sp *Signs) Apply(p *kernels.Pool, z, x []float32) {
	if len(z) != sp.K() || len(x) != sp.d {
		panic(fmt.Sprintf("rproj: Signs.Apply with %d×%d projection: len(z)=%d, len(x)=%d", sp.K(), sp.d, len(z), len(x)))
	}
	s := kernels.QuantizeInt8(sp.xq, x)
	sp.xs = s
	switch {
	case sp.packed != nil:
		p.GemvInt4(z, sp.packed, sp.scales, sp.d, sp.xq, s, nil)
	default:
		p.GemvInt8(z, sp.signs, sp.scales, sp.d, sp.xq, s, nil)
	}
}

// Err returns a bound on |z − P·x|_∞ for the last Apply: each x_Q
// differs from x by at most half its quantization step, and a row adds at
// most its nonzeros' share of that. The integer sums are exact, so only
// the final float32 scaling rounds, which a caller's own relative margin
// covers.
func (sp *Signs) Err() float32 {
	if len(sp.scales) == 0 {
		return 0
	}
	return float32(float64(sp.scales[0]) * float64(sp.nnz) * float64(sp.xs) / 2)
}

// Flush evicts the signs and scales from every cache (kernels.Flush), for
// cold-cache measurements; it reports whether it could.
func (sp *Signs) Flush() bool {
	return kernels.Flush(sp.signs) && kernels.Flush(sp.packed) && kernels.Flush(sp.scales)
}
