package nn

import (
	"errors"
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
)

// MaxLogit bounds the logits CrossEntropy accepts. Beyond ±2^24 float32
// cannot resolve a difference of one nat between two logits, and the
// log-sum-exp about the maximum loses the loss entirely: a model whose
// every bias is 3e38 came out at loss 0, perplexity 1.
const MaxLogit = 1 << 24

// MaxLoss is the largest mean loss whose perplexity e^loss is finite.
const MaxLoss = 709.78

// ErrLoss is returned, wrapped, by CheckLoss.
var ErrLoss = errors.New("loss undefined: logits not finite or beyond ±2^24, or perplexity overflows")

// CheckLoss returns an error wrapping ErrLoss unless loss is a number
// whose perplexity is finite. Every evaluation that reports a loss or a
// perplexity checks its mean with it, so that NaN (CrossEntropy's answer
// to bad logits) or +Inf never reaches a table or JSON.
func CheckLoss(loss float64) error {
	if !(loss >= 0 && loss <= MaxLoss) {
		return fmt.Errorf("%w: mean loss %v", ErrLoss, loss)
	}
	return nil
}

// CrossEntropy returns the mean over rows of the softmax cross-entropy
// −log softmax(logits[i])[targets[i]], where logits holds len(targets)
// rows of classes values, as PyTorch's nn.CrossEntropyLoss. The
// log-sum-exp is taken about each row's maximum, so large logits do not
// overflow. If grad is not nil it receives the gradient of the mean with
// respect to logits, (softmax − onehot)/rows; grad may alias logits. Rows
// are split among p's workers when p is not nil; the result does not depend
// on the split. A row holding a NaN, an infinity or a logit beyond
// ±MaxLogit has no defined loss, and the mean is then NaN (see CheckLoss).
// It panics if a target is outside [0, classes).
func CrossEntropy(p *kernels.Pool, grad, logits []float32, targets []int32, classes int) float64 {
	n := len(targets)
	checkLen("CrossEntropy", "logits", len(logits), n*classes)
	if grad != nil {
		checkLen("CrossEntropy", "grad", len(grad), n*classes)
	}
	for _, t := range targets {
		if t < 0 || int(t) >= classes {
			panic(fmt.Sprintf("nn: CrossEntropy: target %d outside [0, %d)", t, classes))
		}
	}
	if n == 0 {
		return 0
	}
	rowLoss := make([]float64, n)
	inv := 1 / float64(n)
	run := func(lo, hi int) {
		var scratch []float32
		if grad == nil {
			scratch = make([]float32, classes)
		}
		for i := lo; i < hi; i++ {
			x := logits[i*classes : (i+1)*classes]
			mx, mn := x[0], x[0]
			for _, v := range x {
				mx, mn = max(mx, v), min(mn, v) // NaN propagates
			}
			if !(mx <= MaxLogit && mn >= -MaxLogit) {
				rowLoss[i] = math.NaN()
				if grad != nil {
					clear(grad[i*classes : (i+1)*classes])
				}
				continue
			}
			// One exponential per element: e^(v−max) goes to the gradient
			// row (or a scratch row) and is rescaled once the sum is known.
			e := scratch
			if grad != nil {
				e = grad[i*classes : (i+1)*classes]
			}
			t := targets[i]
			xt := x[t] // read before an aliased grad overwrites it
			var s float64
			for k, v := range x {
				ek := expNeg(v - mx)
				s += float64(ek)
				e[k] = ek
			}
			rowLoss[i] = float64(mx) + math.Log(s) - float64(xt)
			if grad != nil {
				scale(e, float32(inv/s))
				e[t] -= float32(inv)
			}
		}
	}
	p.For(n, max(1, 4096/classes), run)
	var sum float64
	for _, l := range rowLoss {
		sum += l
	}
	return sum * inv
}
