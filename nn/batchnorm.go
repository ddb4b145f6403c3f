package nn

import (
	"fmt"
	"math"
)

// BatchNorm normalises each of C features over a batch, as PyTorch's
// nn.BatchNorm1d and nn.BatchNorm2d: y = γ·(x − μ)/√(σ² + Eps) + β. Its
// input is a rows×C matrix, so one type serves a fully connected layer
// (rows = batch) and an NHWC convolution (rows = batch·height·width,
// statistics per channel over all of them).
//
// In training μ and σ² are the batch's mean and biased variance, and the
// running averages move towards the batch's mean and unbiased variance by
// Momentum; in evaluation the running averages stand in for them. The
// statistics are accumulated in float64, so a large batch of large values
// loses nothing to cancellation.
type BatchNorm struct {
	C                       int
	Eps, Momentum           float64
	Weight, Bias            *Param // γ and β
	RunningMean, RunningVar *Param // buffers, not trained: Params leaves them out
	xhat                    []float32
	invStd                  []float32
	rows                    int
	train                   bool
}

// NewBatchNorm returns a layer over c features with PyTorch's defaults:
// γ = 1, β = 0, running mean 0 and variance 1, Eps 1e-5, Momentum 0.1. It
// panics if c is not positive.
func NewBatchNorm(c int) *BatchNorm {
	if c <= 0 {
		panic(fmt.Sprintf("nn: NewBatchNorm(%d): size must be positive", c))
	}
	b := &BatchNorm{C: c, Eps: 1e-5, Momentum: 0.1,
		Weight: NewParam("weight", c), Bias: NewParam("bias", c),
		RunningMean: NewParam("running_mean", c), RunningVar: NewParam("running_var", c),
		invStd: make([]float32, c)}
	for i := range c {
		b.Weight.Data[i] = 1
		b.RunningVar.Data[i] = 1
	}
	return b
}

// Params returns γ and β.
func (b *BatchNorm) Params() []*Param { return []*Param{b.Weight, b.Bias} }

// Buffers returns the running mean and variance, which a checkpoint saves
// beside the parameters.
func (b *BatchNorm) Buffers() []*Param { return []*Param{b.RunningMean, b.RunningVar} }

// Forward sets y to the normalised x, both rows×C, using batch statistics
// and updating the running averages when train is set and the running
// averages otherwise. y may alias x. Training needs at least two rows, as
// in PyTorch, since one row has no variance.
func (b *BatchNorm) Forward(y, x []float32, rows int, train bool) {
	C := b.C
	checkLen("BatchNorm.Forward", "x", len(x), rows*C)
	checkLen("BatchNorm.Forward", "y", len(y), rows*C)
	if train && rows < 2 {
		panic(fmt.Sprintf("nn: BatchNorm.Forward: training needs at least 2 rows, got %d", rows))
	}
	b.rows, b.train = rows, train
	b.xhat = grow(b.xhat, rows*C)
	mean := make([]float64, C)
	if train {
		variance := make([]float64, C)
		for r := range rows {
			for c, v := range x[r*C : (r+1)*C] {
				mean[c] += float64(v)
			}
		}
		for c := range mean {
			mean[c] /= float64(rows)
		}
		for r := range rows {
			for c, v := range x[r*C : (r+1)*C] {
				d := float64(v) - mean[c]
				variance[c] += d * d
			}
		}
		mom := b.Momentum
		for c := range C {
			v := variance[c] / float64(rows)
			b.invStd[c] = float32(1 / math.Sqrt(v+b.Eps))
			rm, rv := &b.RunningMean.Data[c], &b.RunningVar.Data[c]
			*rm = float32((1-mom)*float64(*rm) + mom*mean[c])
			*rv = float32((1-mom)*float64(*rv) + mom*variance[c]/float64(rows-1))
		}
	} else {
		for c := range C {
			mean[c] = float64(b.RunningMean.Data[c])
			b.invStd[c] = float32(1 / math.Sqrt(float64(b.RunningVar.Data[c])+b.Eps))
		}
	}
	g, beta := b.Weight.Data, b.Bias.Data
	for r := range rows {
		xr, yr, hr := x[r*C:(r+1)*C], y[r*C:(r+1)*C], b.xhat[r*C:(r+1)*C]
		for c, v := range xr {
			h := float32(float64(v)-mean[c]) * b.invStd[c]
			hr[c] = h
			yr[c] = g[c]*h + beta[c]
		}
	}
}

// Backward accumulates the gradients of γ and β for output gradient dy of
// the last Forward and, if dx is not nil, sets dx to the input gradient:
// through the batch statistics after a training Forward,
// dx = γ/(rows·σ)·(rows·dy − Σdy − x̂·Σ(dy·x̂)), and through fixed
// statistics, dx = γ·dy/σ, after an evaluation one. dx may alias dy.
func (b *BatchNorm) Backward(dx, dy []float32) {
	C, rows := b.C, b.rows
	checkLen("BatchNorm.Backward", "dy", len(dy), rows*C)
	sumDy := make([]float64, C)
	sumDyH := make([]float64, C)
	for r := range rows {
		hr := b.xhat[r*C : (r+1)*C]
		for c, g := range dy[r*C : (r+1)*C] {
			sumDy[c] += float64(g)
			sumDyH[c] += float64(g) * float64(hr[c])
		}
	}
	for c := range C {
		b.Weight.Grad[c] += float32(sumDyH[c])
		b.Bias.Grad[c] += float32(sumDy[c])
	}
	if dx == nil {
		return
	}
	checkLen("BatchNorm.Backward", "dx", len(dx), rows*C)
	scale := make([]float32, C)
	meanDy := make([]float32, C)
	meanDyH := make([]float32, C)
	for c := range C {
		scale[c] = b.Weight.Data[c] * b.invStd[c]
		if b.train {
			meanDy[c] = float32(sumDy[c] / float64(rows))
			meanDyH[c] = float32(sumDyH[c] / float64(rows))
		}
	}
	for r := range rows {
		hr := b.xhat[r*C : (r+1)*C]
		for c, g := range dy[r*C : (r+1)*C] {
			dx[r*C+c] = scale[c] * (g - meanDy[c] - hr[c]*meanDyH[c])
		}
	}
}
