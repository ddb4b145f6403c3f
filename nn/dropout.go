package nn

import (
	"fmt"
	"math/rand/v2"
)

// Dropout zeroes each element with probability P during training and
// scales the survivors by 1/(1-P) ("inverted" dropout, as PyTorch), so
// evaluation is the identity.
type Dropout struct {
	P float64

	rng    *rand.Rand
	mask   []float32 // 0 or 1/(1-P) per element of the last training Forward
	active bool      // whether the last Forward applied a mask
}

// NewDropout returns a dropout layer drawing its masks from rng. It panics
// unless 0 <= p < 1.
func NewDropout(p float64, rng *rand.Rand) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: NewDropout: p=%v outside [0, 1)", p))
	}
	return &Dropout{P: p, rng: rng}
}

// Forward sets dst to src with a fresh random mask applied when train is
// true and P > 0, and to a copy of src otherwise. dst may alias src.
func (d *Dropout) Forward(dst, src []float32, train bool) {
	checkLen("Dropout.Forward", "dst", len(dst), len(src))
	d.active = train && d.P > 0
	if !d.active {
		copy(dst, src)
		return
	}
	d.mask = grow(d.mask, len(src))
	// One 64-bit draw gives two 32-bit uniforms; comparing integers
	// avoids a float conversion per element.
	thresh := uint64(d.P * (1 << 32))
	keep := float32(1 / (1 - d.P))
	var bits uint64
	for i := range d.mask {
		if i&1 == 0 {
			bits = d.rng.Uint64()
		} else {
			bits >>= 32
		}
		if bits&0xffffffff < thresh {
			d.mask[i] = 0
		} else {
			d.mask[i] = keep
		}
	}
	d.Reapply(dst, src)
}

// Reapply sets dst to src times the mask of the last training Forward,
// drawing nothing; with no mask it copies. Gradient checks use it to hold
// the mask fixed. dst may alias src.
func (d *Dropout) Reapply(dst, src []float32) {
	if !d.active {
		copy(dst, src)
		return
	}
	checkLen("Dropout.Reapply", "src", len(src), len(d.mask))
	checkLen("Dropout.Reapply", "dst", len(dst), len(d.mask))
	for i, m := range d.mask {
		dst[i] = src[i] * m
	}
}

// Backward sets dx to the gradient of the last Forward's input given the
// output gradient dy. dx may alias dy.
func (d *Dropout) Backward(dx, dy []float32) { d.Reapply(dx, dy) }
