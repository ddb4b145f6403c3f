package sel

import (
	"errors"
	"fmt"
	"github.com/elasticml/elastic/speculate"
	"math"
	"slices"
)

// Sentinel errors for run-time parameters, testable with errors.Is.
var (
	// ErrRatio: an insensitive ratio outside [0, 1).
	ErrRatio = errors.New("sel: insensitive ratio outside [0, 1)")
	// ErrParam: an invalid threshold, noise estimate or activation.
	ErrParam = errors.New("sel: invalid parameter")
)

// Activation is the nonlinearity that follows the selected layer; it
// decides where the insensitive region lies (thesis eq. 3.4).
type Activation uint8

const (
	// Identity is a linear output. The thesis gives it no insensitive
	// region; we treat small magnitudes as insensitive, the ranking the
	// top-k searches of chapters 4 and 7 use, so Identity keeps the
	// largest |y| exact.
	Identity Activation = iota
	// Sigmoid saturates for large |y|, which is therefore insensitive.
	Sigmoid
	// Tanh saturates for large |y|, which is therefore insensitive.
	Tanh
	// ReLU is flat for negative inputs, so small y is insensitive.
	ReLU
)

func (a Activation) String() string {
	switch a {
	case Identity:
		return "identity"
	case Sigmoid:
		return "sigmoid"
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

func (a Activation) valid() bool { return a <= ReLU }

// Insensitive reports whether an approximate pre-activation y falls in the
// insensitive region for threshold theta, by eq. 3.17:
//
//	sigmoid/tanh: |y| > θ_th
//	ReLU:          y  < θ_th
//
// and, for Identity, |y| < θ_th. A NaN is never insensitive, so a broken
// approximation is recomputed exactly.
func (a Activation) Insensitive(y, theta float32) bool {
	switch a {
	case Sigmoid, Tanh:
		return abs(y) > theta
	case ReLU:
		return y < theta
	default:
		return abs(y) < theta
	}
}

func abs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// Selector predicts the sensitive outputs of a layer from its approximate
// outputs: the runtime's selector (speculate.Selector), named here too
// because every selector of this package satisfies it.
type Selector = speculate.Selector

// Threshold is the fixed-threshold selector of eq. 3.17: output i is
// sensitive unless Act.Insensitive(approx[i], Theta). The thesis tunes
// Theta on a validation set; Adaptive derives it per layer instead.
type Threshold struct {
	Act   Activation
	Theta float32
}

// Select implements Selector.
func (t Threshold) Select(dst []int32, approx []float32) []int32 {
	return t.appendSelect(dst[:0], approx)
}

// appendSelect appends the sensitive indices of approx to dst.
func (t Threshold) appendSelect(dst []int32, approx []float32) []int32 {
	n0 := len(dst)
	if cap(dst)-n0 < len(approx) {
		dst = slices.Grow(dst, len(approx))
	}
	// Write every index and advance only past the sensitive ones: the
	// sensitive pattern is data-dependent, so a branch would mispredict
	// often. One loop per activation keeps the switch out of the loop, and
	// each test is the negation of Insensitive, written so NaN selects.
	buf := dst[n0 : n0+len(approx)]
	th := t.Theta
	j := 0
	switch t.Act {
	case Sigmoid, Tanh:
		for i, y := range approx {
			buf[j] = int32(i)
			j += b2i(!(abs(y) > th))
		}
	case ReLU:
		for i, y := range approx {
			buf[j] = int32(i)
			j += b2i(!(y < th))
		}
	default:
		for i, y := range approx {
			buf[j] = int32(i)
			j += b2i(!(abs(y) < th))
		}
	}
	return dst[:n0+j]
}

// Adaptive returns the adaptive-filter selector of eq. 3.18, which turns a
// global tolerance θ on the activation's output error into a per-layer
// threshold on the pre-activation, given the layer's approximation error
// |δ| (see Delta and Calibrator):
//
//	θ_th = ½·ln(2|δ|/θ)   for tanh
//	θ_th = ln(|δ|/θ)      for sigmoid
//	θ_th = θ − |δ|        for ReLU
//
// These are the bounds of eq. 3.4, where |f(y+δ) − f(y)| < θ. When |δ| is
// below θ the logarithms are negative and every output is insensitive, as
// the bound says. For Identity, whose error is |δ| everywhere, the same
// definition makes every output insensitive when |δ| < θ and none
// otherwise. theta must be positive and delta non-negative.
func Adaptive(act Activation, theta, delta float64) (Threshold, error) {
	if !(theta > 0) || math.IsInf(theta, 1) {
		return Threshold{}, fmt.Errorf("%w: adaptive θ = %v, want > 0", ErrParam, theta)
	}
	if !(delta >= 0) || math.IsInf(delta, 1) {
		return Threshold{}, fmt.Errorf("%w: |δ| = %v, want finite and >= 0", ErrParam, delta)
	}
	var th float64
	switch act {
	case Tanh:
		th = 0.5 * math.Log(2*delta/theta)
	case Sigmoid:
		th = math.Log(delta / theta)
	case ReLU:
		th = theta - delta
	case Identity:
		th = 0
		if delta < theta {
			th = math.Inf(1)
		}
	default:
		return Threshold{}, fmt.Errorf("%w: activation %v", ErrParam, act)
	}
	return Threshold{Act: act, Theta: float32(th)}, nil
}

// Delta estimates the noise |δ| of eq. 3.18 from one calibration sample as
// the thesis does, (1/n)·‖y_exact − y_approx‖₂ with n = len(approx). Note
// the divisor is n, not √n: this is the thesis's estimator, not an RMS. It
// panics if the lengths differ or are zero.
func Delta(exact, approx []float32) float64 {
	if len(exact) != len(approx) || len(approx) == 0 {
		panic(fmt.Sprintf("sel: Delta: len(exact)=%d, len(approx)=%d", len(exact), len(approx)))
	}
	var s float64
	for i, e := range exact {
		d := float64(e) - float64(approx[i])
		s += d * d
	}
	return math.Sqrt(s) / float64(len(approx))
}

// Calibrator averages Delta over calibration samples of one layer. The
// zero value is ready to use.
type Calibrator struct {
	sum float64
	n   int
}

// Add accumulates the Delta of one sample.
func (c *Calibrator) Add(exact, approx []float32) {
	c.sum += Delta(exact, approx)
	c.n++
}

// N returns the number of samples added.
func (c *Calibrator) N() int { return c.n }

// Delta returns the mean |δ| over the samples, or NaN before any Add.
func (c *Calibrator) Delta() float64 {
	if c.n == 0 {
		return math.NaN()
	}
	return c.sum / float64(c.n)
}
