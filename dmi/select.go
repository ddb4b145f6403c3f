package dmi

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/sel"
)

// Mode names one of the thesis's three ways to choose the threshold of
// eq. 3.17 (§3.3.3).
type Mode int

const (
	// TopK keeps exactly n − round(ratio·n) rows of each gate exact
	// (eq. 3.19); the insensitive ratio is the run-time knob.
	TopK Mode = iota
	// Fixed uses one threshold θ_th on the little module's pre-activation
	// for every gate.
	Fixed
	// Adaptive derives θ_th per gate from a global tolerance θ and the
	// gate's calibration error |δ| (eq. 3.18).
	Adaptive
)

func (m Mode) String() string {
	switch m {
	case TopK:
		return "topk"
	case Fixed:
		return "fixed"
	case Adaptive:
		return "adaptive"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode returns the Mode named "topk", "fixed" or "adaptive".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{TopK, Fixed, Adaptive} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: selector %q (want topk, fixed or adaptive)", ErrParam, s)
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
// off, and returns them. keys and cand are scratch of len(v). It allocates
// nothing.
func (g *gateSelectors) selectGate(gate int, dst []int32, v []float32, off int32, keys, cand []uint32) []int32 {
	if t, ok := g.sels[gate].(*sel.TopK); ok {
		return topKSelect(dst, v, t.K(len(v)), t.Act(), off, keys, cand)
	}
	s := g.sels[gate].Select(dst[:0:len(v)], v)
	for i := range s {
		s[i] += off
	}
	return s
}

// topKSelect selects exactly what sel.TopK.Select does for activation act
// keeping k of len(v) rows, but by radix selection on the rank keys, which
// costs a few sequential passes over v where sel's introselect chases
// indices: at the 1500 rows of an LSTM-1500 gate it is about three times
// faster (BenchmarkTopKSelect), and a dual-module step runs it once per
// gate. The k kept rows
// are those with the smallest |v| for sigmoid and tanh, the largest v for
// ReLU and the largest |v| for Identity, NaN ranking below every number;
// ties at the threshold are split by index as sel does: of the rows tying
// at the boundary, the lower-indexed ones rank higher. The indices, plus
// off, go to dst in ascending order.
func topKSelect(dst []int32, v []float32, k int, act sel.Activation, off int32, keys, cand []uint32) []int32 {
	n := len(v)
	mag := act != sel.ReLU
	// Sigmoid and tanh keep the complement of the n−k highest-ranked rows
	// by magnitude.
	top, flip := k, 0
	if act == sel.Sigmoid || act == sel.Tanh {
		top, flip = n-k, 1
	}
	// The keys and the histogram of their top bytes in one pass; four
	// histograms, because consecutive rows often share a top byte and one
	// counter would serialise their increments.
	keys = keys[:n]
	var h4 [4][256]int32
	i := 0
	for ; i+4 <= n; i += 4 {
		k0, k1 := rankKey(v[i], mag), rankKey(v[i+1], mag)
		k2, k3 := rankKey(v[i+2], mag), rankKey(v[i+3], mag)
		keys[i], keys[i+1], keys[i+2], keys[i+3] = k0, k1, k2, k3
		h4[0][k0>>24]++
		h4[1][k1>>24]++
		h4[2][k2>>24]++
		h4[3][k3>>24]++
	}
	for ; i < n; i++ {
		keys[i] = rankKey(v[i], mag)
		h4[0][keys[i]>>24]++
	}
	if top == 0 {
		if flip == 0 {
			return dst[:0]
		}
		for i := range n {
			dst[i] = int32(i) + off
		}
		return dst[:n]
	}
	var hist [256]int32
	for b := range hist {
		hist[b] = h4[0][b] + h4[1][b] + h4[2][b] + h4[3][b]
	}
	th, ties := kthLargest(keys, top, cand, &hist) // ties: rows at th among the top
	j := 0
	for i, key := range keys {
		eq := b2i(key == th)
		in := b2i(key > th) | eq&b2i(ties > 0)
		ties -= eq
		dst[j] = int32(i) + off
		j += in ^ flip
	}
	return dst[:j]
}

// rankKey maps v to a key whose unsigned order is sel's ranking: NaN
// lowest, then −Inf up to +Inf, both zeros equal; with mag the sign is
// ignored. A magnitude's key is its bits shifted up by one, so that the
// top byte, which the radix selection splits on first, is the whole
// exponent.
func rankKey(v float32, mag bool) uint32 {
	b := math.Float32bits(v)
	if mag {
		a := b &^ (1 << 31)
		k := a<<1 | 1
		if a > 0x7f800000 {
			k = 0
		}
		return k
	}
	if b == 1<<31 {
		b = 0
	}
	// Negatives have all bits flipped, positives only the sign.
	k := b ^ (uint32(int32(b)>>31) | 1<<31)
	if b&^(1<<31) > 0x7f800000 {
		k = 0
	}
	return k
}

// kthLargest returns the top-th largest of keys (1 <= top <= len(keys))
// and how many of the top largest equal it, by most-significant-digit
// radix selection over bytes: each level counts the candidates' digits,
// keeps those in the bucket holding the top-th largest, and narrows top to
// a rank inside that bucket. hist holds the counts of the keys' top bytes
// and is overwritten; cand is scratch of len(keys).
func kthLargest(keys []uint32, top int, cand []uint32, hist *[256]int32) (th uint32, ties int) {
	src := keys
	for shift := 24; ; shift -= 8 {
		if shift < 24 {
			clear(hist[:])
			for _, key := range src {
				hist[byte(key>>shift)]++
			}
		}
		b := 255
		for ; b > 0 && int(hist[b]) < top; b-- {
			top -= int(hist[b])
		}
		th |= uint32(b) << shift
		switch {
		case shift == 0: // every key in the bucket equals th
			return th, top
		case hist[b] == 1: // top is 1 and one key is left: find it
			for _, key := range src {
				if key>>shift == th>>shift {
					return key, 1
				}
			}
		case int(hist[b]) == len(src): // nothing to drop
			continue
		}
		m := 0
		for _, key := range src {
			cand[m] = key
			m += b2i(byte(key>>shift) == byte(b))
		}
		src = cand[:m]
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
