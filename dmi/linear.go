package dmi

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/spec"
	"github.com/elasticml/elastic/speculate"
)

// Linear is a fully connected layer z = φ(Wx + b) run by dual-module
// inference (the thesis's first example, §3.3): the little module
// ỹ = W̃(Px) + b̃ predicts y = Wx + b, a selector for φ picks the sensitive
// outputs, only those rows of W are multiplied (the others are never
// read), and φ is applied to the assembled y (eq. 3.5).
//
// A Linear is not safe for concurrent use.
type Linear struct {
	W    []float32 // N×D, row-major; aliased, not copied
	B    []float32 // length N, or nil
	N, D int
	Act  sel.Activation

	lt   *Little
	run  littleRun
	pool *kernels.Pool
	gs   gateSelectors
	// step is the runtime's speculate → select → execute pass: the
	// little module, the installed selector, the row-gather GEMV.
	step *speculate.Step
}

// FitLinear fits the little module of the layer φ(Wx + b), W of shape
// n×d, to calibration inputs xs (S×d) and returns the dual-module layer,
// at top-K selection with ratio 0. k follows eq. 3.9 for n outputs
// (capped at d). It returns an error wrapping ErrCalib for fewer than
// 2(k+1) samples, ErrNotFinite for a NaN or infinity in xs and ErrParam
// for bad options; it panics if the shapes disagree.
func FitLinear(w, b []float32, n, d int, act sel.Activation, xs []float32, o Options) (*Linear, error) {
	lin := spec.NewLinear(w, b, n, d)
	if len(xs)%d != 0 {
		panic(fmt.Sprintf("dmi: FitLinear: len(xs)=%d is not a multiple of d=%d", len(xs), d))
	}
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	k, err := o.projDim(n)
	if err != nil {
		return nil, err
	}
	p, err := rproj.New(min(k, d), d, rproj.DefaultSparsity, projSeed(o.Seed, 0, 0))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParam, err)
	}
	if s, need := len(xs)/d, 2*(p.K()+1); s < need {
		return nil, fmt.Errorf("%w: %d samples for k=%d, need at least %d", ErrCalib, s, p.K(), need)
	}
	st := spec.NewLinearStats(lin, p)
	if err := st.Add(xs); err != nil {
		return nil, fmt.Errorf("dmi: calibration: %w: %w", ErrNotFinite, err)
	}
	sp, err := solve(st, p, o.Lambda, xs[:min(len(xs), deltaSamples*d)])
	if err != nil {
		return nil, fmt.Errorf("dmi: fit: %w", err)
	}
	if sp, err = quantizeSpec(sp, o.Bits); err != nil {
		return nil, err
	}
	lt := &Little{X: sp}
	measure(lt, lin, xs[:min(len(xs), deltaSamples*d)], d, 0, 0)
	return NewLinear(w, b, n, d, act, lt, nil)
}

// NewLinear returns the dual-module form of φ(Wx + b) with little module
// lt, running on pool (nil: the caller only). It returns an error wrapping
// ErrMismatch if lt does not fit the shape.
func NewLinear(w, b []float32, n, d int, act sel.Activation, lt *Little, pool *kernels.Pool) (*Linear, error) {
	spec.NewLinear(w, b, n, d) // shape checks
	if lt == nil || lt.X == nil || lt.H != nil || lt.X.N != n || lt.X.P.D() != d {
		return nil, fmt.Errorf("%w: little module does not fit a %d×%d fully connected layer", ErrMismatch, n, d)
	}
	if !isRProj(lt.X) {
		return nil, fmt.Errorf("%w: little module projection is a %T; a layer runs on *rproj.Projection", ErrMismatch, lt.X.P)
	}
	if act > sel.ReLU {
		panic(fmt.Sprintf("dmi: NewLinear: activation %v", act))
	}
	f := &Linear{
		W: w, B: b, N: n, D: d, Act: act,
		lt: lt, run: newLittleRun(lt), pool: pool,
		gs: newGateSelectors([]sel.Activation{act}),
	}
	little := speculate.Func(func(approx, x []float32) { f.run.predict(f.pool, approx, x, nil) })
	f.step = speculate.NewStep(n, little, f.gs.sels[0], f.exact())
	return f, nil
}

// exact is the big module as the runtime's executor, on the current pool.
func (f *Linear) exact() speculate.Rows {
	return speculate.Rows{W: f.W, B: f.B, Cols: f.D, Pool: f.pool}
}

// Little returns the layer's little module.
func (f *Linear) Little() *Little { return f.lt }

// SetPool sets the pool the GEMVs run on (nil: the caller only).
func (f *Linear) SetPool(p *kernels.Pool) {
	f.pool = p
	f.step.Exec = f.exact()
}

// SetRatio selects top-K with the given insensitive ratio. It returns an
// error wrapping sel.ErrRatio unless 0 <= ratio < 1.
func (f *Linear) SetRatio(ratio float64) error {
	return f.SetSelection(Selection{Mode: TopK, Ratio: ratio})
}

// SetSelection installs s. On error the selection is unchanged.
func (f *Linear) SetSelection(s Selection) error {
	if err := f.gs.set(s, f.lt.Delta); err != nil {
		return err
	}
	f.step.Sel = f.gs.sels[0]
	return nil
}

// Forward sets z = φ(y) for the dual-module y of eq. 3.5 — one
// speculate.Step: the little module's outputs into z, the selector's rows
// overwritten by the big module's — and returns the sensitive rows, which
// the next call reuses.
func (f *Linear) Forward(z, x []float32) []int32 {
	f.check("Forward", z, x)
	idx := f.step.Run(z, x)
	activate(f.Act, z)
	return idx
}

// Exact sets z = φ(Wx + b) with a dense GEMV.
func (f *Linear) Exact(z, x []float32) {
	f.check("Exact", z, x)
	f.pool.Gemv(z, f.W, f.D, x, f.B)
	activate(f.Act, z)
}

func (f *Linear) check(op string, z, x []float32) {
	if len(z) != f.N || len(x) != f.D {
		panic(fmt.Sprintf("dmi: Linear.%s: len(z)=%d len(x)=%d, want %d and %d", op, len(z), len(x), f.N, f.D))
	}
}

// activate applies φ in place.
func activate(a sel.Activation, v []float32) {
	switch a {
	case sel.Sigmoid:
		for i, x := range v {
			v[i] = sigmoid(x)
		}
	case sel.Tanh:
		for i, x := range v {
			v[i] = float32(math.Tanh(float64(x)))
		}
	case sel.ReLU:
		for i, x := range v {
			v[i] = max(x, 0)
		}
	}
}
