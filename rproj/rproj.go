package rproj

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/kernels"
)

// DefaultSparsity is the s used throughout the thesis: two thirds of the
// entries of P are zero.
const DefaultSparsity = 3

// ErrParam is returned, wrapped, for a projection size, sparsity, ε or
// point count outside its valid range.
var ErrParam = errors.New("rproj: invalid parameter")

// pcgStream is the second PCG seed word; fixing it makes the projection a
// function of the caller's seed alone.
const pcgStream = 0x72_70_72_6f_6a // "rproj"

// Projection is a k×d sparse random projection matrix P with entries
// sqrt(s/k)·{+1, 0, −1} drawn with probabilities 1/(2s), 1−1/s, 1/(2s)
// (thesis equations 3.6 and 4.6). It is immutable and safe for concurrent
// use.
type Projection struct {
	t    *kernels.Ternary
	s    float64
	seed uint64
}

// New returns a k×d sparse random projection with sparsity parameter s
// (use DefaultSparsity for the thesis's s = 3), generated from seed. Entries
// are drawn in row-major order, one uniform float64 each from
// rand.NewPCG(seed, const). It returns an error wrapping ErrParam if k < 1,
// d < 1 or s < 1 (s = 1 gives a dense ±1 matrix).
func New(k, d int, s float64, seed uint64) (*Projection, error) {
	switch {
	case k < 1 || d < 1:
		return nil, fmt.Errorf("rproj: projection size %d×%d must be at least 1×1: %w", k, d, ErrParam)
	case !(s >= 1) || math.IsInf(s, 1):
		return nil, fmt.Errorf("rproj: sparsity s=%v must be finite and >= 1: %w", s, ErrParam)
	case k > math.MaxInt32 || d > math.MaxInt32:
		return nil, fmt.Errorf("rproj: projection size %d×%d: each side must fit int32: %w", k, d, ErrParam)
	}
	// One sign byte per entry: refuse a size the process cannot hold
	// before allocating it.
	if err := budget.Check(fmt.Sprintf("rproj: a %d×%d projection", k, d), budget.Mul(k, d)); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrParam)
	}
	r := rand.New(rand.NewPCG(seed, pcgStream))
	half := 1 / (2 * s)
	signs := make([]int8, k*d)
	for i := range signs {
		switch u := r.Float64(); {
		case u < half:
			signs[i] = 1
		case u < 2*half:
			signs[i] = -1
		}
	}
	scale := float32(math.Sqrt(s / float64(k)))
	return &Projection{t: kernels.NewTernary(k, d, scale, signs), s: s, seed: seed}, nil
}

// K returns the projected dimension, the number of rows of P.
func (p *Projection) K() int { return p.t.Rows }

// D returns the original dimension, the number of columns of P.
func (p *Projection) D() int { return p.t.Cols }

// Sparsity returns s.
func (p *Projection) Sparsity() float64 { return p.s }

// Seed returns the seed P was generated from.
func (p *Projection) Seed() uint64 { return p.seed }

// Ternary returns P in the kernel layout, for use with a kernels.Pool. It
// must not be modified.
func (p *Projection) Ternary() *kernels.Ternary { return p.t }

// Apply computes z = P·x. It panics unless len(z) == K() and len(x) == D().
func (p *Projection) Apply(z, x []float32) {
	if len(z) != p.K() || len(x) != p.D() {
		panic(fmt.Sprintf("rproj: Apply with %d×%d projection: len(z)=%d, len(x)=%d", p.K(), p.D(), len(z), len(x)))
	}
	p.t.Apply(z, x)
}

// ApplyBatch computes Z[i] = P·X[i] for n samples stored sample-major: X is
// n×D() and Z is n×K(). It panics unless the lengths match.
func (p *Projection) ApplyBatch(Z, X []float32, n int) {
	if n < 0 || len(Z) != n*p.K() || len(X) != n*p.D() {
		panic(fmt.Sprintf("rproj: ApplyBatch with %d×%d projection: n=%d, len(Z)=%d, len(X)=%d", p.K(), p.D(), n, len(Z), len(X)))
	}
	p.t.ApplyBatch(Z, X, n)
}

// Dense returns P as a newly allocated row-major k×d matrix, for tests and
// for fitting low-dimensional weights (W_LL ≈ W·Pᵀ).
func (p *Projection) Dense() []float32 {
	t := p.t
	m := make([]float32, t.Rows*t.Cols)
	for i := range t.Rows {
		row := m[i*t.Cols : (i+1)*t.Cols]
		for _, j := range t.Plus[t.PlusPtr[i]:t.PlusPtr[i+1]] {
			row[j] = t.Scale
		}
		for _, j := range t.Minus[t.MinusPtr[i]:t.MinusPtr[i+1]] {
			row[j] = -t.Scale
		}
	}
	return m
}
