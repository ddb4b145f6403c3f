package dsg

import (
	"math"
	"math/bits"

	"github.com/elasticml/elastic/kernels"
)

// zvcStash holds a batch of activations zero-value compressed (Figure
// 4.3c): per sample a bitmask of the non-zero positions and the non-zero
// values in order. Samples are compressed on the pool's workers, each
// into its own mask words; values are packed after a prefix sum of the
// per-sample counts.
type zvcStash struct {
	n, size int      // samples and values per sample
	words   int      // mask words per sample
	mask    []uint64 // n×words
	off     []int32  // n+1 value offsets
	vals    []float32
}

// compress stores x, n samples of len(x)/n values.
func (z *zvcStash) compress(pool *kernels.Pool, x []float32, n int) {
	z.n, z.size = n, len(x)/n
	z.words = (z.size + 63) / 64
	if cap(z.mask) < n*z.words {
		z.mask = make([]uint64, n*z.words)
	}
	z.mask = z.mask[:n*z.words]
	z.off = growInt32(z.off, n+1)
	pool.For(n, 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			z.off[s+1] = int32(maskNonZero(z.mask[s*z.words:(s+1)*z.words], x[s*z.size:(s+1)*z.size]))
		}
	})
	z.off[0] = 0
	for s := range n {
		z.off[s+1] += z.off[s]
	}
	// The branch-free packing writes every value and advances only past
	// non-zeros, so it may write one slot past a sample's last non-zero:
	// each worker packs into its own buffer and copies the non-zeros out
	// (packing in place let that spare write race with the next sample's
	// first value on another worker).
	z.vals = grow(z.vals, int(z.off[n]))
	pool.For(n, 1, func(lo, hi int) {
		buf := make([]float32, z.size+1)
		for s := lo; s < hi; s++ {
			k := 0
			for _, a := range x[s*z.size : (s+1)*z.size] {
				buf[k] = a
				k += nonZero(a)
			}
			copy(z.vals[z.off[s]:z.off[s+1]], buf[:k])
		}
	})
	z.vals = z.vals[:z.off[n]]
}

// maskNonZero sets the bits of m at the non-zero entries of x and
// returns their number.
func maskNonZero(m []uint64, x []float32) int {
	cnt := 0
	for w := range m {
		seg := x[w*64 : min((w+1)*64, len(x))]
		var b uint64
		for i, a := range seg {
			b |= uint64(nonZero(a)) << i
		}
		m[w] = b
		cnt += bits.OnesCount64(b)
	}
	return cnt
}

// nonZero is 1 for a value that is not ±0, else 0, without a branch.
func nonZero(a float32) int {
	return int((math.Float32bits(a)<<1 | -(math.Float32bits(a) << 1)) >> 31)
}

// decompress sets dst (n×size) to the stored values, zero elsewhere.
func (z *zvcStash) decompress(pool *kernels.Pool, dst []float32) {
	pool.For(z.n, 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			out := dst[s*z.size : (s+1)*z.size]
			clear(out)
			v := z.vals[z.off[s]:z.off[s+1]]
			k := 0
			for w, m := range z.mask[s*z.words : (s+1)*z.words] {
				for m != 0 {
					out[w*64+bits.TrailingZeros64(m)] = v[k]
					k++
					m &= m - 1
				}
			}
		}
	})
}

// bytes is the stash's size: the masks, the offsets and the non-zeros.
func (z *zvcStash) bytes() int { return 8*len(z.mask) + 4*len(z.off) + 4*len(z.vals) }

// denseBytes is the size of the same activations stored as float32.
func (z *zvcStash) denseBytes() int { return 4 * z.n * z.size }
