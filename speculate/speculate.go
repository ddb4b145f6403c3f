package speculate

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
)

// Speculator computes approximate outputs: Speculate sets approx ≈ f(x).
// It must not retain approx or x.
type Speculator interface {
	Speculate(approx, x []float32)
}

// Selector picks the outputs that matter: Select stores the ascending
// indices of the selected entries of approx in dst's backing array
// (reallocating only when its capacity is too small) and returns the
// slice. It has the method set of sel.Selector, so sel's selectors are
// Selectors.
type Selector interface {
	Select(dst []int32, approx []float32) []int32
}

// Executor computes exact outputs for the listed indices only: Execute
// sets out[i] = f(x)[i] for every i in idx, leaves the other entries of
// out as they are, and reads no weights of unlisted outputs.
type Executor interface {
	Execute(out, x []float32, idx []int32)
}

// Step is one fused speculate → select → execute → assemble pass over
// outputs of length N. Its index buffer is reused, so Run allocates
// nothing once the buffer has grown to the largest selection. A Step is
// not safe for concurrent use.
type Step struct {
	N    int
	Spec Speculator
	Sel  Selector
	Exec Executor
	// Drop zeroes the unselected outputs (DSG, DSA) instead of keeping
	// their approximations (eq. 3.5: DMI, screening).
	Drop bool

	idx []int32
}

// NewStep returns a Step over n outputs; its index buffer starts with room
// for all n, so no Run allocates. It panics if n < 0 or a part is nil.
func NewStep(n int, sp Speculator, s Selector, e Executor) *Step {
	if n < 0 || sp == nil || s == nil || e == nil {
		panic(fmt.Sprintf("speculate: NewStep(%d, %T, %T, %T)", n, sp, s, e))
	}
	return &Step{N: n, Spec: sp, Sel: s, Exec: e, idx: make([]int32, 0, n)}
}

// Run sets y from x: the speculator's outputs everywhere, then the
// executor's exact outputs at the selected indices (or zero elsewhere
// with Drop). It returns the selected indices, valid until the next Run.
// It panics if len(y) != N.
func (s *Step) Run(y, x []float32) []int32 {
	if len(y) != s.N {
		panic(fmt.Sprintf("speculate: Step.Run: len(y)=%d, want %d", len(y), s.N))
	}
	s.Spec.Speculate(y, x)
	s.idx = s.Sel.Select(s.idx[:0], y)
	if s.Drop {
		clear(y)
	}
	s.Exec.Execute(y, x, s.idx)
	return s.idx
}

// Rows is the exact executor of a dense float32 layer y = W·x + b: it
// computes only the listed rows with the row-gather GEMV (on Pool when it
// is not nil).
type Rows struct {
	W    []float32 // N×Cols row-major
	B    []float32 // length N, or nil
	Cols int
	Pool *kernels.Pool
}

// Execute implements Executor.
func (r Rows) Execute(out, x []float32, idx []int32) {
	r.Pool.GemvGather(out, r.W, r.Cols, x, r.B, idx)
}

// Func adapts a function to Speculator.
type Func func(approx, x []float32)

// Speculate implements Speculator.
func (f Func) Speculate(approx, x []float32) { f(approx, x) }
