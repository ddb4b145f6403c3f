package nn

import (
	"fmt"
	"math"
)

// LayerNorm normalises each row of Dim features, y = γ·(x − μ)/√(σ² + Eps) + β
// with μ and σ² the row's mean and biased variance, as PyTorch's
// nn.LayerNorm over the last dimension. Statistics are accumulated in
// float64.
type LayerNorm struct {
	Dim          int
	Eps          float64
	Weight, Bias *Param // γ and β

	xhat   []float32
	invStd []float32
	rows   int
}

// NewLayerNorm returns a layer over dim features with γ = 1, β = 0 and
// PyTorch's Eps 1e-5. It panics if dim is not positive.
func NewLayerNorm(dim int) *LayerNorm {
	if dim <= 0 {
		panic(fmt.Sprintf("nn: NewLayerNorm(%d): size must be positive", dim))
	}
	l := &LayerNorm{Dim: dim, Eps: 1e-5, Weight: NewParam("weight", dim), Bias: NewParam("bias", dim)}
	for i := range l.Weight.Data {
		l.Weight.Data[i] = 1
	}
	return l
}

// Params returns γ and β.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// Forward sets y to the normalised x, both rows×Dim. y may alias x.
func (l *LayerNorm) Forward(y, x []float32, rows int) {
	d := l.Dim
	checkLen("LayerNorm.Forward", "x", len(x), rows*d)
	checkLen("LayerNorm.Forward", "y", len(y), rows*d)
	l.rows = rows
	l.xhat, l.invStd = grow(l.xhat, rows*d), grow(l.invStd, rows)
	g, b := l.Weight.Data, l.Bias.Data
	for r := range rows {
		xr := x[r*d : (r+1)*d]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(d)
		var ss float64
		for _, v := range xr {
			e := float64(v) - mu
			ss += e * e
		}
		inv := 1 / math.Sqrt(ss/float64(d)+l.Eps)
		l.invStd[r] = float32(inv)
		xh, yr := l.xhat[r*d:(r+1)*d], y[r*d:(r+1)*d]
		for i, v := range xr {
			xh[i] = float32((float64(v) - mu) * inv)
			yr[i] = g[i]*xh[i] + b[i]
		}
	}
}

// Backward accumulates the gradients of γ and β for output gradient dy of
// the last Forward and, if dx is not nil, sets dx to the input gradient
// (σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂)) with ĝ = γ⊙dy). dx may alias dy.
func (l *LayerNorm) Backward(dx, dy []float32) {
	d, rows := l.Dim, l.rows
	checkLen("LayerNorm.Backward", "dy", len(dy), rows*d)
	if dx != nil {
		checkLen("LayerNorm.Backward", "dx", len(dx), rows*d)
	}
	g, gg, gb := l.Weight.Data, l.Weight.Grad, l.Bias.Grad
	for r := range rows {
		xh, dyr := l.xhat[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		var m1, m2 float64
		for i, v := range dyr {
			gg[i] += v * xh[i]
			gb[i] += v
			gh := float64(g[i] * v)
			m1 += gh
			m2 += gh * float64(xh[i])
		}
		if dx == nil {
			continue
		}
		m1 /= float64(d)
		m2 /= float64(d)
		inv := float64(l.invStd[r])
		dxr := dx[r*d : (r+1)*d]
		for i, v := range dyr {
			dxr[i] = float32(inv * (float64(g[i]*v) - m1 - float64(xh[i])*m2))
		}
	}
}

// GELU is the Gaussian-error linear unit in its tanh form,
// x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))), as flax's nn.gelu (LRA) and
// PyTorch's GELU(approximate="tanh").
type GELU struct {
	x []float32 // input of the last Forward
}

const geluC = 0.7978845608028654 // √(2/π)

// Forward sets y to GELU(x) and keeps a reference to x for Backward, so y
// must not alias x.
func (a *GELU) Forward(y, x []float32) {
	checkLen("GELU.Forward", "y", len(y), len(x))
	for i, v := range x {
		u := geluC * (float64(v) + 0.044715*float64(v)*float64(v)*float64(v))
		y[i] = float32(0.5 * float64(v) * (1 + math.Tanh(u)))
	}
	a.x = x
}

// Backward sets dx to the input gradient for output gradient dy. dx may
// alias dy.
func (a *GELU) Backward(dx, dy []float32) {
	checkLen("GELU.Backward", "dy", len(dy), len(a.x))
	checkLen("GELU.Backward", "dx", len(dx), len(a.x))
	for i, v := range a.x {
		x := float64(v)
		t := math.Tanh(geluC * (x + 0.044715*x*x*x))
		dg := 0.5*(1+t) + 0.5*x*(1-t*t)*geluC*(1+3*0.044715*x*x)
		dx[i] = float32(dg * float64(dy[i]))
	}
}
