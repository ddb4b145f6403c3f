package kernels

import "math/bits"

// The vector row selection of rowSelector: three passes that compare
// rank keys 16 (AVX-512) or 8 (AVX2) at a time, never a branch or a store
// per key. On the predictor's rows (k a few per cent of a few thousand
// scores) the scalar quickselect they replace cost four fifths of the
// whole DSA prediction path.

// keyThresholdGeneric returns the largest key t with at least r of keys at
// or above it — the r-th largest key — found bit by bit from the top, one
// counting pass per bit below the highest bit where lo and the largest key
// differ; it stops early at a t with exactly r at or above it, which then
// selects the same r. lo must be at most every real key; keys may be padded
// with zeros (every t tried is ≥ 1, so they never count). It is the twin
// of the vector kernels and returns the same t.
func keyThresholdGeneric(keys []uint32, lo uint32, r int) uint32 {
	var hi uint32
	for _, k := range keys {
		hi = max(hi, k)
	}
	diff := lo ^ hi
	if diff == 0 {
		return hi
	}
	d := bits.Len32(diff) - 1
	prefix := hi &^ (uint32(2)<<d - 1)
	for bit := uint32(1) << d; bit != 0; bit >>= 1 {
		t := prefix | bit
		c := 0
		for _, k := range keys {
			c += b2i(k >= t)
		}
		if c >= r {
			prefix = t
			if c == r {
				break
			}
		}
	}
	return prefix
}

// filterKeysGeneric stores base+j and the rank key of y[j] for every j
// whose key is at or above t (t ≥ 1, so NaNs never pass) in idx and keys,
// in order, and returns how many; idx and keys need len(y) slots.
func filterKeysGeneric(y []float32, t uint32, idx []int32, keys []uint32, base int32) int {
	c := 0
	idx, keys = idx[:len(y)], keys[:len(y)]
	for j, v := range y {
		k := rankKey(v, false)
		idx[c], keys[c] = base+int32(j), k
		c += b2i(k >= t)
	}
	return c
}

// selectGEGeneric stores idx[i] for every keys[i] at or above th in out,
// in order, and returns how many; out needs len(keys) slots.
func selectGEGeneric(keys []uint32, idx []int32, th uint32, out []int32) int {
	c := 0
	out = out[:len(keys)]
	for i, k := range keys {
		out[c] = idx[i]
		c += b2i(k >= th)
	}
	return c
}

// rowVec is the vector form of the three passes for this CPU; lanes is 0
// where there is none.
type rowVec struct {
	lanes     int
	threshold func(keys []uint32, lo uint32, r int) uint32                // len(keys) a multiple of lanes
	filter    func(y []float32, t uint32, idx []int32, keys []uint32) int // whole lanes, then the tail
	selectGE  func(keys []uint32, idx []int32, th uint32, out []int32) int
}
