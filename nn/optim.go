package nn

import (
	"fmt"
	"math"
)

// An Optimizer updates parameters from the gradients left in them.
type Optimizer interface {
	// Step applies one update with learning rate lr.
	Step(lr float64)
	// State returns the optimizer's per-parameter vectors, named after
	// their parameters, so a checkpoint can save and restore them.
	State() []*Param
}

// Momentum is stochastic gradient descent with momentum and L2 weight
// decay, as PyTorch's optim.SGD without dampening or Nesterov:
// v ← μ·v + (g + λ·w), w ← w − lr·v. With μ = 0 it is plain SGD.
type Momentum struct {
	Params    []*Param
	Mu, Decay float64
	velocity  []*Param
}

// NewMomentum returns an optimizer over ps with momentum mu and weight
// decay. It panics unless 0 ≤ mu < 1 and decay ≥ 0.
func NewMomentum(ps []*Param, mu, decay float64) *Momentum {
	if !(mu >= 0 && mu < 1) || !(decay >= 0) {
		panic(fmt.Sprintf("nn: NewMomentum: momentum %v outside [0, 1) or decay %v negative", mu, decay))
	}
	return &Momentum{Params: ps, Mu: mu, Decay: decay, velocity: slots(ps, ".momentum_buffer")}
}

// State returns the velocities.
func (o *Momentum) State() []*Param { return o.velocity }

// Step applies one update.
func (o *Momentum) Step(lr float64) {
	mu, wd, a := float32(o.Mu), float32(o.Decay), float32(lr)
	for i, p := range o.Params {
		v := o.velocity[i].Data
		for j, g := range p.Grad {
			v[j] = mu*v[j] + g + wd*p.Data[j]
			p.Data[j] -= a * v[j]
		}
	}
}

// Adam is the optimizer of Kingma and Ba with bias correction and L2
// weight decay added to the gradient, as PyTorch's optim.Adam:
// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², and
// w ← w − lr/(1−β₁ᵗ) · m/(√v/√(1−β₂ᵗ) + ε).
type Adam struct {
	Params            []*Param
	Beta1, Beta2, Eps float64
	Decay             float64
	// Steps counts the updates taken; a resumed run restores it with the
	// moments.
	Steps int
	m, v  []*Param
}

// NewAdam returns Adam over ps with PyTorch's defaults β₁ = 0.9,
// β₂ = 0.999, ε = 1e-8 and the given weight decay.
func NewAdam(ps []*Param, decay float64) *Adam {
	if !(decay >= 0) {
		panic(fmt.Sprintf("nn: NewAdam: decay %v negative", decay))
	}
	return &Adam{Params: ps, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Decay: decay,
		m: slots(ps, ".exp_avg"), v: slots(ps, ".exp_avg_sq")}
}

// State returns the first moments, then the second ones.
func (o *Adam) State() []*Param { return append(append([]*Param(nil), o.m...), o.v...) }

// Step applies one update.
func (o *Adam) Step(lr float64) {
	o.Steps++
	adamStep(o.Params, o.m, o.v, o.Steps, o.Beta1, o.Beta2, o.Eps, lr, o.Decay, nil)
}

// adamStep applies Adam's bias-corrected update number t to ps with
// moments m and v, adding l2·w to each gradient (Adam's coupled decay),
// after multiplying each parameter's weights by shrink(p) when shrink is
// not nil (AdamW's decoupled decay).
func adamStep(ps, m, v []*Param, t int, beta1, beta2, epsilon, lr, l2 float64, shrink func(*Param) float32) {
	bc1 := 1 - math.Pow(beta1, float64(t))
	bc2 := 1 - math.Pow(beta2, float64(t))
	step := float32(lr / bc1)
	rs := float32(1 / math.Sqrt(bc2))
	b1, b2, eps, wd := float32(beta1), float32(beta2), float32(epsilon), float32(l2)
	for i, p := range ps {
		sh := float32(1)
		if shrink != nil {
			sh = shrink(p)
		}
		m, v := m[i].Data, v[i].Data
		for j, g := range p.Grad {
			g += wd * p.Data[j]
			m[j] = b1*m[j] + (1-b1)*g
			v[j] = b2*v[j] + (1-b2)*g*g
			p.Data[j] = p.Data[j]*sh - step*m[j]/(float32(math.Sqrt(float64(v[j])))*rs+eps)
		}
	}
}

// slots returns a zeroed vector per parameter, named after it.
func slots(ps []*Param, suffix string) []*Param {
	s := make([]*Param, len(ps))
	for i, p := range ps {
		s[i] = &Param{Name: p.Name + suffix, Shape: p.Shape, Data: make([]float32, len(p.Data))}
	}
	return s
}

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter), as
// PyTorch's optim.AdamW: each step first shrinks the weights,
// w ← w·(1 − lr·λ), then takes Adam's step without decay in the gradient:
// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
// w ← w − lr/(1−β₁ᵗ) · m/(√v/√(1−β₂ᵗ) + ε). Unlike Adam's L2 term, the
// decay then does not pass through the adaptive scaling, so every weight
// decays at the same relative rate.
type AdamW struct {
	Params            []*Param
	Beta1, Beta2, Eps float64
	Decay             float64
	// NoDecay, when set, exempts parameters from the decay (biases,
	// LayerNorm gains and embeddings are often exempt); it is asked once
	// per parameter per step.
	NoDecay func(*Param) bool
	// Steps counts the updates taken; a resumed run restores it with the
	// moments.
	Steps int
	m, v  []*Param
}

// NewAdamW returns AdamW over ps with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and
// decoupled weight decay decay. It panics if decay is negative.
func NewAdamW(ps []*Param, decay float64) *AdamW {
	if !(decay >= 0) {
		panic(fmt.Sprintf("nn: NewAdamW: decay %v negative", decay))
	}
	return &AdamW{Params: ps, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Decay: decay,
		m: slots(ps, ".exp_avg"), v: slots(ps, ".exp_avg_sq")}
}

// State returns the first moments, then the second ones.
func (o *AdamW) State() []*Param { return append(append([]*Param(nil), o.m...), o.v...) }

// Step applies one update with learning rate lr.
func (o *AdamW) Step(lr float64) {
	o.Steps++
	adamStep(o.Params, o.m, o.v, o.Steps, o.Beta1, o.Beta2, o.Eps, lr, 0, func(p *Param) float32 {
		if o.NoDecay != nil && o.NoDecay(p) {
			return 1
		}
		return float32(1 - lr*o.Decay)
	})
}

// Warmup is a learning-rate schedule: a linear warm-up from Base/Warmup
// to Base over the first Warmup steps, then, when RsqrtDecay is set, decay
// as Base·√(Warmup/t) (LRA's "linear_warmup * rsqrt_decay"), else Base.
type Warmup struct {
	Base       float64
	Warmup     int
	RsqrtDecay bool
}

// Rate returns the learning rate of step t, counted from 1.
func (w Warmup) Rate(t int) float64 {
	t = max(t, 1)
	if t <= w.Warmup {
		return w.Base * float64(t) / float64(w.Warmup)
	}
	if w.RsqrtDecay && w.Warmup > 0 {
		return w.Base * math.Sqrt(float64(w.Warmup)/float64(t))
	}
	return w.Base
}
