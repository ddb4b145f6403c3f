package clsmetrics

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/internal/rounds"
	"github.com/elasticml/elastic/kernels"
)

// ErrNaN reports a NaN (or infinite) value where finite numbers are needed.
var ErrNaN = errors.New("clsmetrics: non-finite value")

// RefK is the number of top classes of the full classifier a Task records.
const RefK = 5

// SweepRow is one budget of one method in a quality-versus-speed sweep.
type SweepRow struct {
	Method     string  `json:"method"`       // e.g. "svd-softmax", "hnsw", "screen"
	Budget     string  `json:"budget"`       // the method's knobs, e.g. "window=64 n=256"
	MsPerQuery float64 `json:"ms_per_query"` // median wall time of one query (batch 1)
	Top1       float64 `json:"top1"`         // top-1 agreement with the full classifier
	Top5Recall float64 `json:"top5_recall"`  // mean fraction of the full top-5 in the method's top-5
	Speedup    float64 `json:"speedup"`      // full classification time / method time, paired per round
}

// A Task is an exact classifier z = W·h + b with test inputs and the exact
// classifier's top-RefK classes on them, the reference every approximation
// is scored against.
type Task struct {
	W          []float32 // Rows×Cols, row-major
	B          []float32 // bias of length Rows, or nil
	Rows, Cols int
	H          []float32 // N test inputs, N×Cols row-major
	N          int
	Top1       []int32   // Top1[i] = Top5[i][0]
	Top5       [][]int32 // the exact top-RefK of input i, by descending logit

	// Evict, if not nil, runs before every timed call of Time, untimed.
	// Set to a bench.Evictor's Evict, it times the full classification and
	// every method with cold caches; see Time.
	Evict func()
}

// NewTask computes the full classifier's top-RefK classes for the inputs h
// (a batched GEMM on p, which may be nil for one thread). It returns an error
// if W, b or h hold NaN or infinite values, and panics on inconsistent
// shapes or rows < RefK.
func NewTask(p *kernels.Pool, w, b []float32, rows, cols int, h []float32) (*Task, error) {
	if rows < RefK || cols < 1 || len(w) != rows*cols || (b != nil && len(b) != rows) || len(h)%cols != 0 {
		panic(fmt.Sprintf("clsmetrics: NewTask bad shape: len(w)=%d rows=%d cols=%d len(b)=%d len(h)=%d", len(w), rows, cols, len(b), len(h)))
	}
	for _, a := range []struct {
		name string
		x    []float32
	}{{"W", w}, {"b", b}, {"h", h}} {
		if err := CheckFinite(a.x); err != nil {
			return nil, fmt.Errorf("clsmetrics: NewTask %s: %w", a.name, err)
		}
	}
	t := &Task{W: w, B: b, Rows: rows, Cols: cols, H: h, N: len(h) / cols}
	t.Top1 = make([]int32, t.N)
	t.Top5 = make([][]int32, t.N)
	// Batches of queries keep the logit block near 16 MiB.
	batch := max(1, min(t.N, (16<<20)/(4*rows)))
	z := make([]float32, batch*rows)
	work := make([]int32, rows)
	for q0 := 0; q0 < t.N; q0 += batch {
		m := min(batch, t.N-q0)
		zz := z[:m*rows]
		hq := h[q0*cols : (q0+m)*cols]
		p.Gemm(false, true, m, rows, cols, 1, hq, cols, w, cols, 0, zz, rows)
		for i := range m {
			zi := zz[i*rows : (i+1)*rows]
			if b != nil {
				for r, v := range b {
					zi[r] += v
				}
			}
			t.Top5[q0+i] = append([]int32(nil), TopKIndices(zi, RefK, work)...)
			t.Top1[q0+i] = t.Top5[q0+i][0]
		}
	}
	return t, nil
}

// Query returns test input i modulo N.
func (t *Task) Query(i int) []float32 {
	i %= t.N
	return t.H[i*t.Cols : (i+1)*t.Cols]
}

// Score returns the top-1 agreement of pred1 and the top-5 recall of pred5
// (either may be nil, giving NaN) against the task's reference.
func (t *Task) Score(pred1 []int32, pred5 [][]int32) (top1, top5 float64) {
	top1, top5 = math.NaN(), math.NaN()
	if pred1 != nil {
		top1 = Agreement(pred1, t.Top1)
	}
	if pred5 != nil {
		top5 = TopKRecall(pred5, t.Top5)
	}
	return top1, top5
}

// FullQuery returns the full classification of test input i%N as the
// baseline every method is timed against: the dense GEMV z = W·h + b on p
// (nil for one thread) followed by selecting the top RefK classes.
func (t *Task) FullQuery(p *kernels.Pool) func(i int) {
	z := make([]float32, t.Rows)
	work := make([]int32, t.Rows)
	return func(i int) {
		p.Gemv(z, t.W, t.Cols, t.Query(i), t.B)
		kernels.TopK(work, z, RefK, false)
	}
}

// Time measures method (called with a query number i, answering Query(i))
// interleaved round by round with FullQuery(p), over reps rounds. It returns
// the method's median time per query in ms and its speed-up, the median over
// rounds of full time / method time.
//
// With Evict nil the timing is warm: whatever of W and of the method's
// structures fits in the last-level cache stays there between queries, so a
// classifier smaller than that cache is read at cache speed rather than
// streamed from memory. With Evict set, it runs before each timed call of
// both, and every query starts with its data in memory only, as in a server
// whose other layers displace the classifier between queries.
func (t *Task) Time(p *kernels.Pool, reps int, method func(i int)) (ms, speedup float64) {
	return t.timeOn(time.Now, p, reps, method)
}

// timeOn is Time reading the time from now.
func (t *Task) timeOn(now func() time.Time, p *kernels.Pool, reps int, method func(i int)) (ms, speedup float64) {
	raw := rounds.Measure(now, reps, t.Evict, t.FullQuery(p), method)
	return rounds.Median(raw[1]), bench.PairedRatio(raw[0], raw[1])
}

// CheckFinite returns an error wrapping ErrNaN naming the first NaN or
// infinite element of x.
func CheckFinite(x []float32) error {
	for i, v := range x {
		if v != v || math.IsInf(float64(v), 0) {
			return fmt.Errorf("element %d is %v: %w", i, v, ErrNaN)
		}
	}
	return nil
}
