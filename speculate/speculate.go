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
// slice. sel.Selector is this interface, so sel's selectors (threshold,
// adaptive, top-K, top-m, gap, per-row top-k) are Selectors.
type Selector interface {
	Select(dst []int32, approx []float32) []int32
}

// Executor computes exact outputs for the listed indices only: Execute
// sets out[i] = f(x)[i] for every i in idx, leaves the other entries of
// out as they are, and reads no weights of unlisted outputs.
type Executor interface {
	Execute(out, x []float32, idx []int32)
}

// Fused is implemented by speculators that select while they speculate:
// a GEMV that keeps the top m of each block of rows it has just written
// (screening's INT4 kernel), or a recurrent layer's little module that
// selects each gate while its outputs are still in cache. Step calls
// SpeculateSelect in place of Speculate followed by its Selector, which
// may then be nil; the result must be what that pair would give. It stores
// the selected indices, ascending, in dst's backing array as Selector
// does.
type Fused interface {
	Speculator
	SpeculateSelect(approx, x []float32, dst []int32) []int32
}

// Step is one fused speculate → select → execute → assemble pass over
// outputs of length N. Its index buffer is reused, so Run allocates
// nothing once the buffer has grown to the largest selection. Select and
// Execute are Run's two halves, for callers that time or interleave them
// (a recurrent layer applies its update after Execute; the simulators
// record what Select chose). A Step is not safe for concurrent use.
type Step struct {
	N    int
	Spec Speculator
	Sel  Selector // nil when Spec is Fused
	Exec Executor
	// Drop zeroes the unselected outputs (DSG, DSA) instead of keeping
	// their approximations (eq. 3.5: DMI, screening).
	Drop bool

	idx []int32
}

// NewStep returns a Step over n outputs; its index buffer starts with room
// for all n, so no Run allocates. It panics if n < 0, sp or e is nil, or
// s is nil and sp is not Fused.
func NewStep(n int, sp Speculator, s Selector, e Executor) *Step {
	_, fused := sp.(Fused)
	if n < 0 || sp == nil || (s == nil && !fused) || e == nil {
		panic(fmt.Sprintf("speculate: NewStep(%d, %T, %T, %T)", n, sp, s, e))
	}
	return &Step{N: n, Spec: sp, Sel: s, Exec: e, idx: make([]int32, 0, n)}
}

// Run sets y from x: the speculator's outputs everywhere, then the
// executor's exact outputs at the selected indices (or zero elsewhere
// with Drop). It returns the selected indices, valid until the next Run.
// It panics if len(y) < N.
func (s *Step) Run(y, x []float32) []int32 {
	idx := s.Select(y, x)
	s.Execute(y, x)
	return idx
}

// Select is Run's first half: it sets y to the approximate outputs of x
// and returns the selected indices (valid until the next Select). y may be
// longer than N, for speculators whose outputs carry more than the N
// selectable entries (a GRU's little module predicts both sides of its
// candidate gate); the Selector sees y[:N] only.
func (s *Step) Select(y, x []float32) []int32 {
	if len(y) < s.N {
		panic(fmt.Sprintf("speculate: Step: len(y)=%d, want at least %d", len(y), s.N))
	}
	if f, ok := s.Spec.(Fused); ok && s.Sel == nil {
		s.idx = f.SpeculateSelect(y, x, s.idx[:0])
		return s.idx
	}
	s.Spec.Speculate(y, x)
	s.idx = s.Sel.Select(s.idx[:0], y[:s.N])
	return s.idx
}

// Execute is Run's second half: it overwrites the entries of y that the
// last Select chose with the executor's exact outputs for x (zeroing the
// others first with Drop). x must be the input Select was given.
func (s *Step) Execute(y, x []float32) {
	if s.Drop {
		dropUnselected(y[:s.N], s.idx)
	}
	s.Exec.Execute(y, x, s.idx)
}

// Selected returns the indices the last Select chose.
func (s *Step) Selected() []int32 { return s.idx }

// dropUnselected zeroes the entries of y not in the ascending idx.
func dropUnselected(y []float32, idx []int32) {
	prev := 0
	for _, i := range idx {
		clear(y[prev:i])
		prev = int(i) + 1
	}
	clear(y[prev:])
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
