package screen

import (
	"fmt"
	"math"
	"slices"

	"github.com/elasticml/elastic/kernels"
)

// LogSoftmax sets dst to log softmax(z) (eq. 6.2), shifted by the maximum
// so that no exponential overflows. With the mixed logits of Forward it
// gives defined probabilities for every class, exact up to the screener's
// error in the normaliser. It returns an error wrapping ErrNotFinite if z
// holds a NaN or infinity. dst may be z.
func LogSoftmax(dst, z []float32) error {
	if len(dst) != len(z) {
		panic(fmt.Sprintf("screen: LogSoftmax: len(dst)=%d, len(z)=%d", len(dst), len(z)))
	}
	lse, err := logSumExp(z)
	if err != nil {
		return err
	}
	for i, v := range z {
		dst[i] = float32(float64(v) - lse)
	}
	return nil
}

// LogProb returns log softmax(z)[y]. It returns an error wrapping
// ErrNotFinite if z holds a NaN or infinity, and panics if y is out of
// range.
func LogProb(z []float32, y int) (float64, error) {
	if y < 0 || y >= len(z) {
		panic(fmt.Sprintf("screen: LogProb: class %d outside [0, %d)", y, len(z)))
	}
	lse, err := logSumExp(z)
	if err != nil {
		return 0, err
	}
	return float64(z[y]) - lse, nil
}

func logSumExp(z []float32) (float64, error) {
	top := math.Inf(-1)
	for i, v := range z {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%w: logit %d is %v", ErrNotFinite, i, v)
		}
		top = max(top, f)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - top)
	}
	return top + math.Log(s), nil
}

// Top returns the k classes among idx with the largest z, best first
// (ties by lower index), appended to dst[:0].
func Top(dst []int32, z []float32, idx []int32, k int) []int32 {
	dst = dst[:0]
	if k <= 0 {
		return dst
	}
	for _, j := range idx {
		if len(dst) < k {
			dst = append(dst, j)
		} else if better(z, j, dst[k-1]) {
			dst[k-1] = j
		} else {
			continue
		}
		for i := len(dst) - 1; i > 0 && better(z, dst[i], dst[i-1]); i-- {
			dst[i], dst[i-1] = dst[i-1], dst[i]
		}
	}
	return dst
}

func better(z []float32, a, b int32) bool {
	return z[a] > z[b] || (z[a] == z[b] && a < b)
}

// fullTop returns the k best classes of all of z, best first, using work
// (len ≥ len(z)) for the selection.
func fullTop(dst []int32, z []float32, k int, work []int32) []int32 {
	sel, _ := kernels.TopK(work, z, min(k, len(z)), false)
	return Top(dst, z, sel, k)
}

// Quality compares screened classification with the full classifier over
// a set of inputs. Predictions of the screened classifier are the best
// candidates by exact logit.
type Quality struct {
	N int `json:"n"`
	// Top1 is the fraction of inputs whose predicted class is the full
	// classifier's top-1.
	Top1 float64 `json:"top1_agreement"`
	// Top5 is the mean fraction of the full top-5 among the predicted top-5.
	Top5 float64 `json:"top5_recall"`
	// Coverage is the fraction of inputs whose full top-1 is a candidate.
	Coverage float64 `json:"coverage"`
	// Candidates is the mean number of candidates (exact rows) per input.
	Candidates float64 `json:"candidates"`
	// Rounds is the mean number of certified rounds (0 in other modes).
	Rounds float64 `json:"rounds,omitempty"`
	// Loss and FullLoss are the mean −log p(label) of the mixed and the
	// full logits, in nats, when labels are given; PPL = exp(Loss).
	Loss     float64 `json:"loss,omitempty"`
	FullLoss float64 `json:"full_loss,omitempty"`
}

// Evaluate runs every input of hs (n×d) through Forward and Full and
// returns the Quality; labels (n class ids, or nil) add the losses.
// It returns an error wrapping ErrCalib for no inputs and ErrNotFinite for
// a NaN or infinity.
func (c *Classifier) Evaluate(hs []float32, labels []int32) (Quality, error) {
	l, d := c.Lin.N, c.Lin.D
	if len(hs)%d != 0 || (labels != nil && len(labels)*d != len(hs)) {
		panic(fmt.Sprintf("screen: Classifier.Evaluate: len(hs)=%d, %d labels, d=%d", len(hs), len(labels), d))
	}
	n := len(hs) / d
	if n == 0 {
		return Quality{}, fmt.Errorf("%w: no inputs to evaluate", ErrCalib)
	}
	q := Quality{N: n}
	z, zf := make([]float32, l), make([]float32, l)
	work := make([]int32, l)
	var pred, full []int32
	for i := range n {
		h := hs[i*d : (i+1)*d]
		cand, err := c.Forward(z, h)
		if err != nil {
			return Quality{}, err
		}
		q.Candidates += float64(len(cand))
		q.Rounds += float64(c.rounds)
		pred = Top(pred, z, cand, 5)
		c.Full(zf, h)
		full = fullTop(full, zf, 5, work)
		if len(pred) > 0 && pred[0] == full[0] {
			q.Top1++
		}
		if slices.Contains(cand, full[0]) {
			q.Coverage++
		}
		hit := 0
		for _, j := range full {
			if slices.Contains(pred, j) {
				hit++
			}
		}
		q.Top5 += float64(hit) / float64(len(full))
		if labels != nil {
			lp, err := LogProb(z, int(labels[i]))
			if err != nil {
				return Quality{}, err
			}
			lf, err := LogProb(zf, int(labels[i]))
			if err != nil {
				return Quality{}, err
			}
			q.Loss -= lp
			q.FullLoss -= lf
		}
	}
	f := float64(n)
	q.Top1 /= f
	q.Top5 /= f
	q.Coverage /= f
	q.Candidates /= f
	q.Rounds /= f
	q.Loss /= f
	q.FullLoss /= f
	return q, nil
}
