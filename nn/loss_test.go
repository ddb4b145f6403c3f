package nn

import (
	"errors"
	"math"
	"testing"
)

// Issue 11: logits that are not finite or so large that float32 cannot
// resolve the loss give NaN, which CheckLoss turns into an error, instead
// of loss 0 (perplexity 1) or an infinite perplexity.
func TestCrossEntropyBadLogits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		logits []float32
	}{
		{"every logit 3e38", []float32{3e38, 3e38, 3e38}},
		{"one logit 3e38", []float32{3e38, 0, 1}},
		{"beyond 2^24", []float32{1 << 25, 0, 0}},
		{"below -2^24", []float32{-(1 << 25), 0, 0}},
		{"+Inf", []float32{float32(math.Inf(1)), 0, 0}},
		{"-Inf", []float32{float32(math.Inf(-1)), 0, 0}},
		{"NaN", []float32{0, float32(math.NaN()), 0}},
	} {
		grad := make([]float32, 3)
		loss := CrossEntropy(nil, grad, tc.logits, []int32{0}, 3)
		if !math.IsNaN(loss) {
			t.Errorf("%s: loss %v, want NaN", tc.name, loss)
		}
		if err := CheckLoss(loss); !errors.Is(err, ErrLoss) {
			t.Errorf("%s: CheckLoss(%v) = %v", tc.name, loss, err)
		}
	}
	// A row at the limit is still computed exactly.
	if loss := CrossEntropy(nil, nil, []float32{MaxLogit, MaxLogit, MaxLogit}, []int32{1}, 3); math.Abs(loss-math.Log(3)) > 1e-6 {
		t.Errorf("logits at MaxLogit: loss %v, want log 3", loss)
	}
	for _, l := range []float64{-1, math.Inf(1), 710, math.NaN()} {
		if err := CheckLoss(l); !errors.Is(err, ErrLoss) {
			t.Errorf("CheckLoss(%v) = %v, want ErrLoss", l, err)
		}
	}
	if err := CheckLoss(math.Log(33278)); err != nil {
		t.Errorf("CheckLoss(log 33278) = %v", err)
	}
}
