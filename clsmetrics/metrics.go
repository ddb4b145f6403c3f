package clsmetrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/elasticml/elastic/kernels"
)

// TopKIndices returns the indices of the k largest elements of x, sorted by
// descending value with ties broken by the smaller index, so the result is
// deterministic. work is scratch space of len >= len(x), or nil to allocate;
// the result aliases it. k is clamped to len(x). It panics if k < 0.
func TopKIndices(x []float32, k int, work []int32) []int32 {
	if k < 0 {
		panic(fmt.Sprintf("clsmetrics: TopKIndices negative k=%d", k))
	}
	if len(work) < len(x) {
		work = make([]int32, len(x))
	}
	sel, _ := kernels.TopK(work, x, min(k, len(x)), false)
	SortByScore(sel, x)
	return sel
}

// SortByScore sorts the class indices idx by descending score[idx[i]],
// breaking ties by the smaller index. NaN scores sort last.
func SortByScore(idx []int32, score []float32) {
	slices.SortFunc(idx, func(a, b int32) int {
		sa, sb := score[a], score[b]
		switch an, bn := sa != sa, sb != sb; {
		case an && !bn:
			return 1
		case bn && !an:
			return -1
		case !an && sa != sb:
			return -cmp.Compare(sa, sb)
		}
		return cmp.Compare(a, b)
	})
}

// Agreement returns the fraction of positions where pred equals ref: the
// top-1 agreement when both hold top-1 classes. It returns NaN for empty
// input and panics if the lengths differ.
func Agreement(pred, ref []int32) float64 {
	if len(pred) != len(ref) {
		panic(fmt.Sprintf("clsmetrics: Agreement len(pred)=%d != len(ref)=%d", len(pred), len(ref)))
	}
	if len(ref) == 0 {
		return math.NaN()
	}
	n := 0
	for i, r := range ref {
		if pred[i] == r {
			n++
		}
	}
	return float64(n) / float64(len(ref))
}

// RecallAtK returns the fraction of inputs i whose reference class ref[i]
// is among cands[i], e.g. how often a candidate set contains the full
// classifier's top-1. It returns NaN for empty input and panics if the
// lengths differ.
func RecallAtK(cands [][]int32, ref []int32) float64 {
	if len(cands) != len(ref) {
		panic(fmt.Sprintf("clsmetrics: RecallAtK len(cands)=%d != len(ref)=%d", len(cands), len(ref)))
	}
	if len(ref) == 0 {
		return math.NaN()
	}
	n := 0
	for i, r := range ref {
		if slices.Contains(cands[i], r) {
			n++
		}
	}
	return float64(n) / float64(len(ref))
}

// TopKRecall returns the mean over inputs of |pred[i] ∩ ref[i]| / |ref[i]|:
// with ref the full classifier's top-5 and pred a method's top-5 it is the
// top-5 recall. Inputs with an empty ref[i] count as fully recalled. It
// returns NaN for empty input and panics if the lengths differ.
func TopKRecall(pred, ref [][]int32) float64 {
	if len(pred) != len(ref) {
		panic(fmt.Sprintf("clsmetrics: TopKRecall len(pred)=%d != len(ref)=%d", len(pred), len(ref)))
	}
	if len(ref) == 0 {
		return math.NaN()
	}
	var sum float64
	for i, r := range ref {
		if len(r) == 0 {
			sum++
			continue
		}
		hit := 0
		for _, c := range r {
			if slices.Contains(pred[i], c) {
				hit++
			}
		}
		sum += float64(hit) / float64(len(r))
	}
	return sum / float64(len(ref))
}

// NLL returns −log softmax(logits)[target], computed in float64 with the
// maximum subtracted so large logits do not overflow. Given mixed logits
// (exact for candidates, approximate elsewhere) it is the per-token loss
// whose mean gives the method's perplexity. It returns an error if a logit
// is NaN and panics if target is out of range.
func NLL(logits []float32, target int32) (float64, error) {
	if target < 0 || int(target) >= len(logits) {
		panic(fmt.Sprintf("clsmetrics: NLL target %d out of range [0,%d)", target, len(logits)))
	}
	m := math.Inf(-1)
	for i, v := range logits {
		if v != v {
			return 0, fmt.Errorf("clsmetrics: NLL: logit %d: %w", i, ErrNaN)
		}
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	return math.Log(s) + m - float64(logits[target]), nil
}

// Perplexity returns exp of the mean of nlls, or NaN when nlls is empty.
func Perplexity(nlls []float64) float64 {
	if len(nlls) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range nlls {
		s += v
	}
	return math.Exp(s / float64(len(nlls)))
}
