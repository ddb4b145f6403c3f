package nn

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
)

// Adagrad is the optimizer of Duchi, Hazan and Singer, per element
// s ← s + g², w ← w − lr·g/(√s + 1e-10), as PyTorch's optim.Adagrad
// without decay. Besides the dense Step of an Optimizer it updates single
// parameters (Dense) and chosen rows of one (Rows): rows of an embedding
// or output layer that a batch does not touch are not visited, which is
// what makes a 117,659-row output layer cheap to train with sampled
// softmax. The sums start at Init (PyTorch's initial_accumulator_value, 0
// there): a large Init damps the first steps, which matters little for a
// summed loss but freezes a batch-mean one, whose gradients are small.
type Adagrad struct {
	Params []*Param
	Init   float32
	Pool   *kernels.Pool // splits row updates among workers; nil runs them on the caller

	sum   []*Param
	index map[*Param]int
}

// NewAdagrad returns Adagrad over ps with initial accumulator init.
func NewAdagrad(ps []*Param, init float32) *Adagrad {
	a := &Adagrad{Params: ps, Init: init, sum: slots(ps, ".sum"), index: make(map[*Param]int, len(ps))}
	for i, p := range ps {
		a.index[p] = i
		for j := range a.sum[i].Data {
			a.sum[i].Data[j] = init
		}
	}
	return a
}

// State returns the accumulated squared gradients.
func (a *Adagrad) State() []*Param { return a.sum }

// Step updates every parameter from its gradient, which it leaves in
// place as Momentum and Adam do.
func (a *Adagrad) Step(lr float64) {
	for i, p := range a.Params {
		adagradStep(float32(lr), p.Data, p.Grad, a.sum[i].Data)
	}
}

// Dense updates every element of p, one of a's parameters, from g; with g
// nil it takes the gradient from p.Grad and clears it there.
func (a *Adagrad) Dense(p *Param, g []float32, lr float64) {
	s := a.accumulator(p, "Dense")
	if g == nil {
		adagradStep(float32(lr), p.Data, p.Grad, s)
		clear(p.Grad)
		return
	}
	if len(g) != len(p.Data) {
		panic(fmt.Sprintf("nn: Adagrad.Dense: %s: len(g)=%d, want %d", p.Name, len(g), len(p.Data)))
	}
	adagradStep(float32(lr), p.Data, g, s)
}

// Rows updates the rows of p (rows of len(p.Data)/p.Shape[0] elements)
// listed in rows, taking row j's gradient from g[j*dim:(j+1)*dim]; with g
// nil it takes it from p.Grad and clears it there. rows must not repeat.
func (a *Adagrad) Rows(p *Param, rows []int32, g []float32, lr float64) {
	dim := len(p.Data) / p.Shape[0]
	if g != nil && len(g) != len(rows)*dim {
		panic(fmt.Sprintf("nn: Adagrad.Rows: %s: len(g)=%d, want %d×%d", p.Name, len(g), len(rows), dim))
	}
	acc := a.accumulator(p, "Rows")
	l := float32(lr)
	run := func(lo, hi int) {
		for j := lo; j < hi; j++ {
			r := int(rows[j])
			w, s := p.Data[r*dim:(r+1)*dim], acc[r*dim:(r+1)*dim]
			if g != nil {
				adagradStep(l, w, g[j*dim:(j+1)*dim], s)
				continue
			}
			gr := p.Grad[r*dim : (r+1)*dim]
			adagradStep(l, w, gr, s)
			clear(gr)
		}
	}
	a.Pool.For(len(rows), max(1, 16384/dim), run) // a nil pool runs on the caller
}

func (a *Adagrad) accumulator(p *Param, op string) []float32 {
	i, ok := a.index[p]
	if !ok {
		panic(fmt.Sprintf("nn: Adagrad.%s: %s is not one of the optimizer's parameters", op, p.Name))
	}
	return a.sum[i].Data
}

func adagradStep(lr float32, w, g, acc []float32) {
	for i, gi := range g {
		s := acc[i] + gi*gi
		acc[i] = s
		w[i] -= lr * gi / (float32(math.Sqrt(float64(s))) + 1e-10)
	}
}
