package sel

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
)

// TopK is the top-K selector of eq. 3.19. It keeps exactly
// K = n − round(ratio·n) of n outputs exact, where ratio is the insensitive
// ratio: the fraction of outputs taken from the approximate module, the
// run-time knob trading quality for speed (Table 3.2).
//
// The K outputs are the most sensitive ones: those with the smallest
// |y_approx| for sigmoid and tanh (farthest from saturation), the largest
// y_approx for ReLU, and the largest |y_approx| for Identity. The thesis
// writes the threshold as θ_th = topK(|y|) or topK(y); we read topK as
// "the K-th most sensitive value", which with eq. 3.17 leaves exactly those
// K outputs sensitive (see Threshold).
//
// The count is exact even when values tie at the K-th place: the ties are
// split by index as kernels.TopK and kernels.BottomK split them, so the
// result depends only on approx. NaN ranks below every number (as in
// kernels.TopK): it stays sensitive for sigmoid and tanh but may be left
// approximate for ReLU and Identity.
type TopK struct {
	act   Activation
	ratio float64
}

// NewTopK returns a top-K selector for act with the given insensitive
// ratio, which must lie in [0, 1).
func NewTopK(act Activation, ratio float64) (*TopK, error) {
	if !act.valid() {
		return nil, fmt.Errorf("%w: activation %v", ErrParam, act)
	}
	t := &TopK{act: act}
	if err := t.SetRatio(ratio); err != nil {
		return nil, err
	}
	return t, nil
}

// SetRatio changes the insensitive ratio; it must lie in [0, 1).
func (t *TopK) SetRatio(ratio float64) error {
	if !(ratio >= 0 && ratio < 1) {
		return fmt.Errorf("%w: %v", ErrRatio, ratio)
	}
	t.ratio = ratio
	return nil
}

// Ratio returns the insensitive ratio.
func (t *TopK) Ratio() float64 { return t.ratio }

// Act returns the activation the selector ranks for.
func (t *TopK) Act() Activation { return t.act }

// K returns the number of sensitive outputs kept out of n,
// n − round(ratio·n).
func (t *TopK) K(n int) int { return n - int(math.Round(t.ratio*float64(n))) }

// Select implements Selector. It needs len(approx) entries of working
// space, so it allocates nothing when cap(dst) >= len(approx).
func (t *TopK) Select(dst []int32, approx []float32) []int32 {
	n := len(approx)
	if cap(dst) < n {
		dst = make([]int32, n)
	}
	k := t.K(n)
	switch t.act {
	case ReLU, Identity:
		sel, _ := kernels.TopK(dst[:n], approx, k, t.act == Identity)
		return sel
	}
	// Sigmoid and tanh keep the k smallest |y|: the complement of the n−k
	// largest, which are the insensitive ones.
	return kernels.BottomK(dst[:n], approx, k, true)
}

// Threshold returns θ_th of eq. 3.19 for approx: the K-th most sensitive
// value, so that eq. 3.17 with this threshold marks exactly the top-K
// outputs sensitive (more if values tie with it). For sigmoid and tanh it
// is the K-th smallest |y| (−Inf when K = 0); for ReLU the K-th largest y
// and for Identity the K-th largest |y| (+Inf when K = 0). work is scratch
// of len >= len(approx); it panics otherwise.
func (t *TopK) Threshold(work []int32, approx []float32) float32 {
	n := len(approx)
	k := t.K(n)
	switch t.act {
	case ReLU, Identity:
		_, th := kernels.TopK(work, approx, k, t.act == Identity)
		return th
	}
	if k == 0 {
		return float32(math.Inf(-1))
	}
	// The K-th smallest of n is the (n−K+1)-th largest.
	_, th := kernels.TopK(work, approx, n-k+1, true)
	return th
}

// SelectBatch is the threshold sharing of Figure A.1: it runs the top-K
// search on the first sample only and applies the resulting threshold
// (eq. 3.19 then eq. 3.17) to every sample of the batch, so the search
// cost is paid once per batch. x holds len(counts) samples of n outputs,
// row-major. The sensitive indices of all samples are stored one sample
// after another in dst's backing array, sample s contributing counts[s]
// of them, ascending; the first sample gets exactly K unless values tie
// with its threshold, the others as many as pass it.
//
// It allocates nothing when cap(dst) >= len(x). It panics if
// len(x) != len(counts)·n.
func (t *TopK) SelectBatch(dst []int32, counts []int, x []float32, n int) []int32 {
	batch := len(counts)
	if n < 0 || len(x) != batch*n {
		panic(fmt.Sprintf("sel: SelectBatch: len(x)=%d, want %d samples of %d", len(x), batch, n))
	}
	if batch == 0 {
		return dst[:0]
	}
	if cap(dst) < n {
		dst = make([]int32, n, len(x))
	}
	th := Threshold{Act: t.act, Theta: t.Threshold(dst[:n], x[:n])}
	dst = dst[:0]
	for s := range batch {
		before := len(dst)
		dst = th.appendSelect(dst, x[s*n:(s+1)*n])
		counts[s] = len(dst) - before
	}
	return dst
}

// RowTopK selects, in each row of a row-major matrix of Cols columns, the
// K entries with the largest values (or magnitudes, with ByMagnitude): the
// per-row masks of sparse attention (chapter 7), where each query keeps K
// keys, and of DSG's per-sample neuron selection (chapter 4).
type RowTopK struct {
	K, Cols     int
	ByMagnitude bool
}

// Select implements Selector over approx read as rows of Cols: row r's
// column indices go, ascending, to dst[r·K:(r+1)·K] as flat indices
// r·Cols + c, so the result lists selected entries of the matrix as every
// Selector lists selected outputs (sparse.FromRowTopK takes SelectRows'
// column form instead). It allocates nothing when cap(dst) is at least
// rows·K + Cols, the tail serving as scratch. It panics unless Cols > 0
// divides len(approx) and 0 <= K <= Cols.
func (s RowTopK) Select(dst []int32, approx []float32) []int32 {
	if s.Cols <= 0 || len(approx)%s.Cols != 0 {
		panic(fmt.Sprintf("sel: RowTopK.Select: %d values are not rows of %d", len(approx), s.Cols))
	}
	rows := len(approx) / s.Cols
	n := rows * s.K
	if cap(dst) < n+s.Cols {
		dst = make([]int32, n+s.Cols)
	}
	dst = dst[:n+s.Cols]
	s.SelectRows(dst[:n], approx, rows, s.Cols, dst[n:])
	for r := range rows {
		off := int32(r * s.Cols)
		for i := r * s.K; i < (r+1)*s.K; i++ {
			dst[i] += off
		}
	}
	return dst[:n]
}

// SelectRows writes the selected column indices of row r, ascending, to
// dst[r·K:(r+1)·K] and returns dst[:rows·K]. work is scratch of
// len >= cols. It panics unless 0 <= K <= cols, len(x) == rows·cols,
// len(dst) >= rows·K and len(work) >= cols. It ignores s.Cols.
func (s RowTopK) SelectRows(dst []int32, x []float32, rows, cols int, work []int32) []int32 {
	kernels.TopKRows(dst, x, rows, cols, s.K, s.ByMagnitude, work)
	return dst[:rows*s.K]
}

// TopM keeps the M largest approximate outputs: screening's candidates
// (thesis §6.3.2), the classes most likely to hold the full top-1. Ties
// at the M-th place are split by index as kernels.TopK splits them; M
// beyond the length keeps everything.
type TopM struct{ M int }

// Select implements Selector; it allocates nothing when
// cap(dst) >= len(approx).
func (t TopM) Select(dst []int32, approx []float32) []int32 {
	if cap(dst) < len(approx) {
		dst = make([]int32, len(approx))
	}
	s, _ := kernels.TopK(dst[:len(approx)], approx, min(max(t.M, 0), len(approx)), false)
	return s
}

// Gap keeps every output within Gap of the largest: screening's
// thresholding made shift-invariant like the softmax, so one calibrated
// threshold serves every input.
type Gap struct{ Gap float32 }

// Select implements Selector; it allocates nothing when
// cap(dst) >= len(approx). A NaN output is never kept.
func (g Gap) Select(dst []int32, approx []float32) []int32 {
	if cap(dst) < len(approx) {
		dst = make([]int32, len(approx))
	}
	dst = dst[:len(approx)]
	top := float32(math.Inf(-1))
	for _, v := range approx {
		if v > top { // not max: a NaN must not become the top
			top = v
		}
	}
	n := 0
	for i, v := range approx {
		// The conformal score's expression, so a threshold calibrated on
		// scores keeps exactly the classes it should.
		if top-v <= g.Gap {
			dst[n] = int32(i)
			n++
		}
	}
	return dst[:n]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
