package screen

import (
	"fmt"
	"math"
	"slices"
)

// Conformal is a split-conformal calibration of the candidate count: on
// held-out inputs exchangeable with future ones, a candidate set from
// Gap (or TopM with M) contains the full classifier's top-1 with
// probability at least 1 − Delta, over the draw of calibration and test
// input, without any assumption on the screener.
//
// The scores are, per calibration input with full top-1 y, the gap
// s = max z̃ − z̃_y and the rank r = 1 + #{j : z̃_j > z̃_y}. With n inputs
// the threshold is the ⌈(n+1)(1−δ)⌉-th smallest score, the finite-sample
// conformal quantile (Vovk et al.; Angelopoulos and Bates, "A Gentle
// Introduction to Conformal Prediction", 2021).
type Conformal struct {
	Delta float64 `json:"delta"`
	N     int     `json:"n"`
	// Gap is the gap quantile: Selection{Mode: Gap, Gap: Gap} is valid.
	Gap float32 `json:"gap"`
	// M is the rank quantile: Selection{Mode: TopM, M: M} is valid.
	M int `json:"m"`
}

// GapSelection returns the calibrated per-input (adaptive) selection.
func (c Conformal) GapSelection() Selection { return Selection{Mode: Gap, Gap: c.Gap} }

// TopMSelection returns the calibrated fixed-size selection.
func (c Conformal) TopMSelection() Selection { return Selection{Mode: TopM, M: c.M} }

// MinCalib returns the fewest calibration inputs for which the conformal
// quantile at δ exists: ⌈(n+1)(1−δ)⌉ ≤ n needs n ≥ (1−δ)/δ.
// It saturates at math.MaxInt for a δ so small that no count suffices,
// and is 0 for δ outside (0, 1).
func MinCalib(delta float64) int {
	if !(delta > 0 && delta < 1) {
		return 0
	}
	n := math.Ceil((1 - delta) / delta)
	if n >= math.MaxInt/2 {
		return math.MaxInt
	}
	return int(n)
}

// Calibrate computes the conformal thresholds at miscoverage δ from
// held-out hidden vectors hs (n×d), which must not be the ones the
// screener was fitted to. The full logits are taken in blocks of W by
// GEMM. It returns an error wrapping ErrParam unless 0 < δ < 1, ErrCalib
// for fewer than MinCalib(δ) inputs and ErrNotFinite for a NaN or
// infinity.
func (c *Classifier) Calibrate(hs []float32, delta float64) (Conformal, error) {
	l, d := c.Lin.N, c.Lin.D
	if len(hs)%d != 0 {
		panic(fmt.Sprintf("screen: Classifier.Calibrate: len(hs)=%d is not a multiple of d=%d", len(hs), d))
	}
	if !(delta > 0 && delta < 1) {
		return Conformal{}, fmt.Errorf("%w: δ = %v outside (0, 1)", ErrParam, delta)
	}
	n := len(hs) / d
	if need := MinCalib(delta); n < need {
		return Conformal{}, fmt.Errorf("%w: %d calibration inputs for δ = %v, need at least %d", ErrCalib, n, delta, need)
	}
	if err := checkFinite("calibration vector", hs, d); err != nil {
		return Conformal{}, err
	}
	top := make([]int32, n)
	best := make([]float32, n)
	for i := range best {
		best[i] = float32(math.Inf(-1))
	}
	fullBlocks(c.pool, c.Lin, hs, n, func(lo, hi int, z []float32) {
		w := hi - lo
		for i := range n {
			for j, v := range z[i*w : (i+1)*w] {
				if v > best[i] {
					best[i], top[i] = v, int32(lo+j)
				}
			}
		}
	})
	gaps := make([]float32, n)
	ranks := make([]int, n)
	for i := range n {
		if math.IsNaN(float64(best[i])) || math.IsInf(float64(best[i]), 0) {
			return Conformal{}, fmt.Errorf("%w: full logits of calibration input %d", ErrNotFinite, i)
		}
		c.run.screen(c.pool, c.zt, hs[i*d:(i+1)*d])
		zy, mx, r := c.zt[top[i]], float32(math.Inf(-1)), 1
		for _, v := range c.zt {
			mx = max(mx, v)
			if v > zy {
				r++
			}
		}
		gaps[i], ranks[i] = mx-zy, r
	}
	slices.Sort(gaps)
	slices.Sort(ranks)
	// The small shift keeps a product that is an integer in exact arithmetic
	// from rounding up to the next one.
	q := int(math.Ceil(float64(n+1)*(1-delta)-1e-9)) - 1
	if q < 0 || q >= n {
		// 1−δ rounded to 1, or n is just short of MinCalib(δ) in floating point.
		return Conformal{}, fmt.Errorf("%w: %d calibration inputs for δ = %v: the conformal quantile does not exist", ErrCalib, n, delta)
	}
	return Conformal{Delta: delta, N: n, Gap: gaps[q], M: min(ranks[q], l)}, nil
}
