package wordnet

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

// Adagrad is the Adagrad optimiser (Duchi, Hazan and Singer) with sparse
// row updates: per element, a += g², w −= lr·g/(√a + 1e-10), as PyTorch's
// torch.optim.Adagrad. Rows of an embedding or output layer that a batch
// does not touch are not visited, which is what makes a 117,659-row
// output layer cheap to train with sampled softmax. The accumulators start
// at Init (PyTorch's initial_accumulator_value, 0 there): a large Init
// damps the first steps, which matters little for a summed loss but
// freezes a batch-mean one, whose gradients are small.
type Adagrad struct {
	LR, Init float32
	Pool     *kernels.Pool // splits row updates among workers when not nil

	acc map[*nn.Param][]float32
}

// NewAdagrad returns an optimiser with learning rate lr and initial
// accumulator init.
func NewAdagrad(lr, init float32) *Adagrad {
	return &Adagrad{LR: lr, Init: init, acc: map[*nn.Param][]float32{}}
}

func (a *Adagrad) accumulator(p *nn.Param) []float32 {
	acc, ok := a.acc[p]
	if !ok {
		acc = make([]float32, len(p.Data))
		for i := range acc {
			acc[i] = a.Init
		}
		a.acc[p] = acc
	}
	return acc
}

// Dense updates every element of p from p.Grad and clears p.Grad.
func (a *Adagrad) Dense(p *nn.Param) {
	a.step(p.Data, p.Grad, a.accumulator(p))
	clear(p.Grad)
}

// Rows updates the rows of p (rows of len(p.Data)/p.Shape[0] elements)
// listed in rows, taking row j's gradient from g[j*dim:(j+1)*dim]; with g
// nil it takes it from p.Grad and clears it there. rows must not repeat.
func (a *Adagrad) Rows(p *nn.Param, rows []int32, g []float32) {
	dim := len(p.Data) / p.Shape[0]
	if g != nil && len(g) != len(rows)*dim {
		panic(fmt.Sprintf("wordnet: Adagrad.Rows: len(g)=%d, want %d×%d", len(g), len(rows), dim))
	}
	acc := a.accumulator(p)
	run := func(lo, hi int) {
		for j := lo; j < hi; j++ {
			r := int(rows[j])
			w, s := p.Data[r*dim:(r+1)*dim], acc[r*dim:(r+1)*dim]
			if g != nil {
				a.step(w, g[j*dim:(j+1)*dim], s)
				continue
			}
			gr := p.Grad[r*dim : (r+1)*dim]
			a.step(w, gr, s)
			clear(gr)
		}
	}
	a.Pool.For(len(rows), max(1, 16384/dim), run)
}

func (a *Adagrad) step(w, g, acc []float32) {
	lr := a.LR
	for i, gi := range g {
		s := acc[i] + gi*gi
		acc[i] = s
		w[i] -= lr * gi / (float32(math.Sqrt(float64(s))) + 1e-10)
	}
}
