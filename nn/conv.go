package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// ConvConfig is the geometry of a square-kernel 2-D convolution on
// NHWC images (see Conv2d).
type ConvConfig struct {
	InC, InH, InW int // input channels, height and width
	OutC          int // output channels
	Kernel        int // kernel height and width
	Stride        int // step between windows [1]
	Pad           int // zero padding on every side
}

// OutHW returns the output height and width, PyTorch's
// ⌊(in + 2·pad − kernel)/stride⌋ + 1.
func (c ConvConfig) OutHW() (h, w int) {
	s := max(c.Stride, 1)
	return (c.InH+2*c.Pad-c.Kernel)/s + 1, (c.InW+2*c.Pad-c.Kernel)/s + 1
}

// Validate reports a geometry with a non-positive size, a negative pad, or
// a kernel larger than the padded input.
func (c ConvConfig) Validate() error {
	if c.InC <= 0 || c.InH <= 0 || c.InW <= 0 || c.OutC <= 0 || c.Kernel <= 0 || c.Stride < 0 || c.Pad < 0 {
		return fmt.Errorf("nn: conv %+v: sizes must be positive and the pad not negative", c)
	}
	if c.Kernel > c.InH+2*c.Pad || c.Kernel > c.InW+2*c.Pad {
		return fmt.Errorf("nn: conv %+v: kernel larger than the padded input", c)
	}
	return nil
}

// Conv2d is a 2-D convolution (cross-correlation, as PyTorch's nn.Conv2d)
// on images stored NHWC: sample, row, column, channel, the channel
// fastest. The Weight is OutC × (Kernel·Kernel·InC) in (out, row, column,
// in) order and the Bias has OutC values.
//
// Forward lowers the batch to one matrix by im2col — a row of
// Kernel·Kernel·InC input values per output pixel, zeros where the window
// overhangs the padding — and multiplies it by Weightᵀ in one GEMM whose
// n·OutH·OutW × OutC result is already the NHWC output. Backward takes
// the weight gradient as one GEMM against the same lowered matrix, kept
// from Forward, and the input gradient as one GEMM followed by col2im.
type Conv2d struct {
	ConvConfig
	OutH, OutW   int
	Weight, Bias *Param
	// Pool, when not nil, runs the GEMMs and the lowering on several
	// threads.
	Pool *kernels.Pool

	cols  []float32 // lowered input of the last Forward
	dcols []float32
	n     int
}

// NewConv2d returns a convolution initialised as PyTorch does: weights and
// biases uniform in ±1/√(Kernel²·InC). It panics if c is not valid.
func NewConv2d(c ConvConfig, rng *rand.Rand) *Conv2d {
	c.Stride = max(c.Stride, 1)
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	l := &Conv2d{ConvConfig: c}
	l.OutH, l.OutW = c.OutHW()
	fan := c.Kernel * c.Kernel * c.InC
	l.Weight = NewParam("weight", c.OutC, c.Kernel, c.Kernel, c.InC)
	l.Bias = NewParam("bias", c.OutC)
	bound := 1 / math.Sqrt(float64(fan))
	l.Weight.Uniform(rng, bound)
	l.Bias.Uniform(rng, bound)
	return l
}

// Params returns the weight and the bias.
func (l *Conv2d) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// InSize and OutSize are the values per sample of the input and output.
func (l *Conv2d) InSize() int  { return l.InH * l.InW * l.InC }
func (l *Conv2d) OutSize() int { return l.OutH * l.OutW * l.OutC }

func (l *Conv2d) patch() int { return l.Kernel * l.Kernel * l.InC }

// Forward sets y (n×OutH×OutW×OutC) to the convolution of x
// (n×InH×InW×InC).
func (l *Conv2d) Forward(y, x []float32, n int) {
	checkLen("Conv2d.Forward", "x", len(x), n*l.InSize())
	checkLen("Conv2d.Forward", "y", len(y), n*l.OutSize())
	l.n = n
	m, k := n*l.OutH*l.OutW, l.patch()
	l.cols = grow(l.cols, m*k)
	l.Pool.For(n, 1, func(lo, hi int) { l.im2col(x, lo, hi) })
	l.Pool.Gemm(false, true, m, l.OutC, k, 1, l.cols, k, l.Weight.Data, k, 0, y, l.OutC)
	addRows(y, l.Bias.Data)
}

// Backward accumulates the parameter gradients for output gradient dy of
// the last Forward and, if dx is not nil, sets dx to the input gradient.
func (l *Conv2d) Backward(dx, dy []float32) {
	n := l.n
	checkLen("Conv2d.Backward", "dy", len(dy), n*l.OutSize())
	m, k := n*l.OutH*l.OutW, l.patch()
	l.Pool.Gemm(true, false, l.OutC, k, m, 1, dy, l.OutC, l.cols, k, 1, l.Weight.Grad, k)
	sumRows(l.Bias.Grad, dy)
	if dx == nil {
		return
	}
	checkLen("Conv2d.Backward", "dx", len(dx), n*l.InSize())
	l.dcols = grow(l.dcols, m*k)
	l.Pool.Gemm(false, false, m, k, l.OutC, 1, dy, l.OutC, l.Weight.Data, k, 0, l.dcols, k)
	l.Pool.For(n, 1, func(lo, hi int) { l.col2im(dx, l.dcols, lo, hi) })
}

// im2col writes the lowered rows of samples [lo, hi) of x into l.cols.
func (l *Conv2d) im2col(x []float32, lo, hi int) {
	C, K, k := l.InC, l.Kernel, l.patch()
	for b := lo; b < hi; b++ {
		img := x[b*l.InSize() : (b+1)*l.InSize()]
		for oh := range l.OutH {
			for ow := range l.OutW {
				row := l.cols[((b*l.OutH+oh)*l.OutW+ow)*k:][:k]
				for r := range K {
					ih := oh*l.Stride - l.Pad + r
					seg := row[r*K*C : (r+1)*K*C]
					if ih < 0 || ih >= l.InH {
						clear(seg)
						continue
					}
					for s := range K {
						iw := ow*l.Stride - l.Pad + s
						dst := seg[s*C : (s+1)*C]
						if iw < 0 || iw >= l.InW {
							clear(dst)
							continue
						}
						copy(dst, img[(ih*l.InW+iw)*C:])
					}
				}
			}
		}
	}
}

// col2im sets samples [lo, hi) of dx to the sums of their entries in
// dcols; each sample's windows touch only that sample, so workers on
// different samples never write the same element.
func (l *Conv2d) col2im(dx, dcols []float32, lo, hi int) {
	C, K, k := l.InC, l.Kernel, l.patch()
	for b := lo; b < hi; b++ {
		img := dx[b*l.InSize() : (b+1)*l.InSize()]
		clear(img)
		for oh := range l.OutH {
			for ow := range l.OutW {
				row := dcols[((b*l.OutH+oh)*l.OutW+ow)*k:][:k]
				for r := range K {
					ih := oh*l.Stride - l.Pad + r
					if ih < 0 || ih >= l.InH {
						continue
					}
					for s := range K {
						iw := ow*l.Stride - l.Pad + s
						if iw < 0 || iw >= l.InW {
							continue
						}
						kernels.Axpy(1, row[(r*K+s)*C:(r*K+s+1)*C], img[(ih*l.InW+iw)*C:(ih*l.InW+iw+1)*C])
					}
				}
			}
		}
	}
}
