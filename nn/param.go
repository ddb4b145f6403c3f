package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// Param is a trainable tensor and its gradient, both row-major float32 of
// the same length.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
	Grad  []float32
}

// NewParam returns a zeroed parameter of the given shape. It panics if a
// dimension is not positive.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		if d <= 0 {
			panic(fmt.Sprintf("nn: parameter %q has dimension %d in shape %v", name, d, shape))
		}
		n *= d
	}
	return &Param{
		Name:  name,
		Shape: append([]int(nil), shape...),
		Data:  make([]float32, n),
		Grad:  make([]float32, n),
	}
}

// Uniform fills p.Data with values drawn uniformly from [-bound, bound).
func (p *Param) Uniform(rng *rand.Rand, bound float64) {
	for i := range p.Data {
		p.Data[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

// ZeroGrad clears the gradients of ps.
func ZeroGrad(ps []*Param) {
	for _, p := range ps {
		clear(p.Grad)
	}
}

// GradNorm returns the Euclidean norm of all gradients of ps taken as one
// vector, accumulated in float64. A parameter listed twice counts twice,
// so tied parameters must be listed once.
func GradNorm(ps []*Param) float64 {
	var s float64
	for _, p := range ps {
		var ps float64
		for _, g := range p.Grad {
			ps += float64(g) * float64(g)
		}
		s += ps
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales the gradients of ps so that their total norm is at
// most maxNorm, as torch.nn.utils.clip_grad_norm_ does (the factor is
// maxNorm/(norm+1e-6), applied only when below one). It returns the norm
// before clipping; a NaN or infinite norm leaves the gradients unchanged.
func ClipGradNorm(ps []*Param, maxNorm float64) float64 {
	norm := GradNorm(ps)
	coef := maxNorm / (norm + 1e-6)
	if coef < 1 {
		for _, p := range ps {
			scale(p.Grad, float32(coef))
		}
	}
	return norm
}

// SGD takes one plain gradient-descent step, w -= lr·g, on every
// parameter of ps.
func SGD(ps []*Param, lr float32) {
	for _, p := range ps {
		kernels.Axpy(-lr, p.Grad, p.Data)
	}
}

// CheckFinite returns an error wrapping ErrNonFinite naming the first
// parameter of ps holding a NaN or infinity and its flat index.
func CheckFinite(ps []*Param) error {
	for _, p := range ps {
		for i, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("parameter %s: %w: %v at flat index %d", p.Name, ErrNonFinite, v, i)
			}
		}
	}
	return nil
}

func scale(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}
