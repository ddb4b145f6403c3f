package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// Linear is a fully connected layer, y = x·Wᵀ + b, with Weight out×in and
// Bias of length out, as PyTorch's nn.Linear.
type Linear struct {
	In, Out      int
	Weight, Bias *Param
	// Pool, when not nil, runs the GEMMs on several threads.
	Pool *kernels.Pool

	x []float32 // input of the last Forward
	n int
}

// NewLinear returns an in→out layer with parameters "weight" and "bias"
// initialised as PyTorch does: uniform in ±1/√in. It panics if a size is
// not positive.
func NewLinear(in, out int, rng *rand.Rand) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: NewLinear(%d, %d): sizes must be positive", in, out))
	}
	l := &Linear{In: in, Out: out, Weight: NewParam("weight", out, in), Bias: NewParam("bias", out)}
	bound := 1 / math.Sqrt(float64(in))
	l.Weight.Uniform(rng, bound)
	l.Bias.Uniform(rng, bound)
	return l
}

// Params returns the weight and the bias.
func (l *Linear) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// Forward sets y (n×Out) to x (n×In) times Weightᵀ plus Bias. It keeps a
// reference to x for Backward, so x must not change in between.
func (l *Linear) Forward(y, x []float32, n int) {
	checkLen("Linear.Forward", "x", len(x), n*l.In)
	checkLen("Linear.Forward", "y", len(y), n*l.Out)
	l.x, l.n = x, n
	l.Pool.Gemm(false, true, n, l.Out, l.In, 1, x, l.In, l.Weight.Data, l.In, 0, y, l.Out)
	addRows(y, l.Bias.Data)
}

// Backward accumulates the parameter gradients for output gradient dy
// (n×Out) of the last Forward and, if dx is not nil, sets dx (n×In) to the
// input gradient.
func (l *Linear) Backward(dx, dy []float32) {
	n := l.n
	checkLen("Linear.Backward", "dy", len(dy), n*l.Out)
	l.Pool.Gemm(true, false, l.Out, l.In, n, 1, dy, l.Out, l.x, l.In, 1, l.Weight.Grad, l.In)
	sumRows(l.Bias.Grad, dy)
	if dx != nil {
		checkLen("Linear.Backward", "dx", len(dx), n*l.In)
		l.Pool.Gemm(false, false, n, l.In, l.Out, 1, dy, l.Out, l.Weight.Data, l.In, 0, dx, l.In)
	}
}
