package screen

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/spec"
)

// The tail correction. Mixed logits are exact on the candidates and
// approximate elsewhere, so the softmax normaliser sums exp(z̃_j) over the
// tail where it should sum exp(z_j). The screener is a least-squares fit,
// z = z̃ + e with e uncorrelated with z̃, and E[exp(z̃ + e)] = exp(z̃)·E[exp(e)]
// > exp(z̃): the approximate tail underestimates the mass it stands for. A
// shift s added to every approximate logit (exp(s) scales the tail mass)
// corrects it; its best value depends on m, since the tail is what the top
// m leave, and is calibrated on labelled vectors by maximum likelihood.

// tailBound bounds a calibrated shift: a larger one means the tail holds
// no label at all in calibration, and the likelihood has no finite optimum.
const tailBound = 20

// TailShift returns the shift added to the approximate logits of
// non-candidates in Forward (0: none).
func (c *Classifier) TailShift() float32 { return c.shift }

// SetTailShift sets the shift Forward adds to the approximate logits of
// the classes it does not compute exactly (top-m and gap selections; the
// certified mode, whose bound is on the unshifted logits, ignores it).
// SetSelection resets it to the screener's calibrated shift for the new
// selection (Screener.TailShifts), or 0. It returns an error wrapping
// ErrParam for a shift that is not finite.
func (c *Classifier) SetTailShift(s float32) error {
	if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
		return fmt.Errorf("%w: tail shift %v", ErrParam, s)
	}
	c.shift = s
	return nil
}

// defaultShift returns the screener's calibrated shift for sel, 0 if it
// has none.
func (c *Classifier) defaultShift(s Selection) float32 {
	if s.Mode != TopM {
		return 0
	}
	return c.S.TailShifts[s.M]
}

// FitTailShift returns the shift that maximises the likelihood of labels
// under the mixed logits of the current selection, over the n inputs hs
// (n×d) and their labels. With A the log-sum-exp of the exact candidate
// logits, B that of the approximate tail and s the shift, an input's loss
// is log(e^A + e^(B+s)) − z_y (+ s if y is not a candidate), convex in s
// with derivative σ(B + s − A) − [y ∉ candidates]: at the optimum the
// tail's mean probability equals the share of labels outside the
// candidates. It is found by bisection within ±20 (the bound when no label
// falls outside). It returns an error wrapping ErrParam for a label out
// of range or a certified selection, and ErrNotFinite for non-finite
// logits.
func (c *Classifier) FitTailShift(hs []float32, labels []int32) (float32, error) {
	d, l := c.Lin.D, c.Lin.N
	if len(hs) != len(labels)*d || len(labels) == 0 {
		return 0, fmt.Errorf("%w: %d values for %d labelled inputs of %d", ErrParam, len(hs), len(labels), d)
	}
	if c.sel.Mode == Certified {
		return 0, fmt.Errorf("%w: the certified mode takes no tail shift", ErrParam)
	}
	saved := c.shift
	defer func() { c.shift = saved }()
	c.shift = 0
	z := make([]float32, l)
	in := make([]bool, l)
	gap := make([]float64, len(labels)) // B − A per input
	out := 0
	for i, y := range labels {
		if y < 0 || int(y) >= l {
			return 0, fmt.Errorf("%w: label %d at %d outside [0, %d)", ErrParam, y, i, l)
		}
		cand, err := c.Forward(z, hs[i*d:(i+1)*d])
		if err != nil {
			return 0, err
		}
		for _, j := range cand {
			in[j] = true
		}
		a, b := math.Inf(-1), math.Inf(-1)
		for j, v := range z {
			if in[j] {
				a = logAddExp(a, float64(v))
			} else {
				b = logAddExp(b, float64(v))
			}
		}
		if !in[y] {
			out++
		}
		for _, j := range cand {
			in[j] = false
		}
		gap[i] = b - a
	}
	share := float64(out) / float64(len(labels))
	grad := func(s float64) float64 {
		var g float64
		for _, x := range gap {
			g += 1 / (1 + math.Exp(-(x + s)))
		}
		return g/float64(len(gap)) - share
	}
	lo, hi := -float64(tailBound), float64(tailBound)
	if grad(lo) >= 0 {
		return float32(lo), nil
	}
	if grad(hi) <= 0 {
		return float32(hi), nil
	}
	for range 60 {
		mid := (lo + hi) / 2
		if grad(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return float32((lo + hi) / 2), nil
}

// logAddExp returns log(e^a + e^b).
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(a, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// formatTailShifts writes shifts as "m:shift,…" in ascending m.
func formatTailShifts(t map[int]float32) string {
	ms := make([]int, 0, len(t))
	for m := range t {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = strconv.Itoa(m) + ":" + strconv.FormatFloat(float64(t[m]), 'g', -1, 32)
	}
	return strings.Join(parts, ",")
}

// parseTailShifts reads formatTailShifts' form for a classifier of l
// classes.
func parseTailShifts(s string, l int) (map[int]float32, error) {
	if s == "" {
		return nil, nil
	}
	t := make(map[int]float32)
	for _, f := range strings.Split(s, ",") {
		ms, vs, ok := strings.Cut(f, ":")
		m, err1 := strconv.Atoi(ms)
		v, err2 := strconv.ParseFloat(vs, 32)
		if !ok || err1 != nil || err2 != nil || m < 1 || m > l || !(math.Abs(v) <= tailBound) {
			return nil, fmt.Errorf("%w: metadata tail_shifts entry %q (want m:shift, m in [1, %d], |shift| ≤ %d)", ErrFormat, f, l, tailBound)
		}
		if _, dup := t[m]; dup {
			return nil, fmt.Errorf("%w: metadata tail_shifts lists m = %d twice", ErrFormat, m)
		}
		t[m] = float32(v)
	}
	return t, nil
}

// CalibrateTails fits the tail shift for each top-m in ms on the labelled
// inputs hs (n×d) of classifier lin and records them in s.TailShifts, so a
// Classifier at one of those top-m applies its shift. The inputs should
// be held out from the screener's fit: on its own calibration vectors the
// screener's residuals are smaller than on new ones, and the shift would
// correct too little. It returns FitTailShift's errors.
func (s *Screener) CalibrateTails(lin *spec.Linear, hs []float32, labels []int32, ms []int, pool *kernels.Pool) error {
	c, err := NewClassifier(lin, s, pool)
	if err != nil {
		return err
	}
	t := make(map[int]float32, len(ms))
	for _, m := range ms {
		if err := c.SetSelection(Selection{Mode: TopM, M: m}); err != nil {
			return err
		}
		if t[m], err = c.FitTailShift(hs, labels); err != nil {
			return fmt.Errorf("screen: tail shift at m = %d: %w", m, err)
		}
	}
	s.TailShifts = t
	return nil
}
