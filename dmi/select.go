package dmi

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/sel"
)

// Mode names one of the thesis's three ways to choose the threshold of
// eq. 3.17 (§3.3.3): the runtime's one selection enum (sel.Mode), of
// which dual-module layers take TopK, Fixed and Adaptive.
type Mode = sel.Mode

const (
	// TopK keeps exactly n − round(ratio·n) rows of each gate exact
	// (eq. 3.19); the insensitive ratio is the run-time knob.
	TopK = sel.ModeTopK
	// Fixed uses one threshold θ_th on the little module's pre-activation
	// for every gate.
	Fixed = sel.ModeFixed
	// Adaptive derives θ_th per gate from a global tolerance θ and the
	// gate's calibration error |δ| (eq. 3.18).
	Adaptive = sel.ModeAdaptive
)

// ParseMode returns the Mode named "topk", "fixed" or "adaptive".
func ParseMode(s string) (Mode, error) {
	m, err := sel.ParseMode(s, TopK, Fixed, Adaptive)
	if err != nil {
		return 0, fmt.Errorf("%w: selector: %w", ErrParam, err)
	}
	return m, nil
}

// Selection configures the selector of every gate of a layer.
type Selection struct {
	Mode Mode
	// Ratio is TopK's insensitive ratio, in [0, 1).
	Ratio float64
	// Theta is Fixed's θ_th, or Adaptive's tolerance θ (> 0).
	Theta float64
}

func (s Selection) check() error {
	switch s.Mode {
	case TopK:
		if !(s.Ratio >= 0 && s.Ratio < 1) {
			return fmt.Errorf("dmi: %w: %v", sel.ErrRatio, s.Ratio)
		}
	case Fixed:
		if math.IsNaN(s.Theta) {
			return fmt.Errorf("%w: fixed θ_th is NaN", ErrParam)
		}
	case Adaptive:
		if !(s.Theta > 0) || math.IsInf(s.Theta, 1) {
			return fmt.Errorf("%w: adaptive θ = %v, want > 0", ErrParam, s.Theta)
		}
	default:
		return fmt.Errorf("%w: selection mode %v", ErrParam, s.Mode)
	}
	return nil
}

// gateSelectors holds one selector per gate and the top-K ones, whose
// ratio SetRatio changes without rebuilding.
type gateSelectors struct {
	acts []sel.Activation
	sels []sel.Selector
	topk []*sel.TopK
}

func newGateSelectors(acts []sel.Activation) gateSelectors {
	g := gateSelectors{acts: acts, sels: make([]sel.Selector, len(acts)), topk: make([]*sel.TopK, len(acts))}
	for i, a := range acts {
		t, err := sel.NewTopK(a, 0)
		if err != nil {
			panic(err) // the activations are the package's own
		}
		g.topk[i], g.sels[i] = t, t
	}
	return g
}

// set installs s, with delta[i] the |δ| of gate i for Adaptive.
func (g *gateSelectors) set(s Selection, delta []float64) error {
	if err := s.check(); err != nil {
		return err
	}
	// Build everything first so a failure leaves the old selectors.
	sels := make([]sel.Selector, len(g.acts))
	for i, a := range g.acts {
		switch s.Mode {
		case TopK:
			sels[i] = g.topk[i]
		case Fixed:
			sels[i] = sel.Threshold{Act: a, Theta: float32(s.Theta)}
		case Adaptive:
			if i >= len(delta) {
				return fmt.Errorf("%w: adaptive selection needs |δ| per gate, the little module has %d of %d", ErrParam, len(delta), len(g.acts))
			}
			t, err := sel.Adaptive(a, s.Theta, delta[i])
			if err != nil {
				return fmt.Errorf("dmi: gate %d: %w", i, err)
			}
			sels[i] = t
		}
	}
	if s.Mode == TopK {
		for _, t := range g.topk {
			if err := t.SetRatio(s.Ratio); err != nil {
				return fmt.Errorf("dmi: %w", err)
			}
		}
	}
	g.sels = sels
	return nil
}

// selectGate writes the sensitive rows of the given gate, whose little-module
// outputs are v, to dst (len(dst) >= len(v)) as ascending indices plus
// off, and returns them. It allocates nothing: top-K gates select with
// kernels.TopK or kernels.BottomK within dst. The last two arguments are
// unused; the selection needs no scratch beyond dst.
func (g *gateSelectors) selectGate(gate int, dst []int32, v []float32, off int32) []int32 {
	s := g.sels[gate].Select(dst[:0:len(v)], v)
	for i := range s {
		s[i] += off
	}
	return s
}
