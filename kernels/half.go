package kernels

import (
	"fmt"

	"github.com/x448/float16"
)

// Float16 weights are held as []uint16 of IEEE 754 binary16 bits. Only
// the exact classifier of a screened model too large for float32 uses them
// (package screen), so there are just the conversions and the two GEMVs it
// needs; arithmetic is float32 throughout, and a row of float16 weights
// times a float32 vector rounds only where the weights were rounded.

// ToHalf sets dst[i] to src[i] rounded to the nearest binary16 (ties to
// even; out-of-range values become ±Inf, as IEEE 754 requires). It panics
// if the lengths differ.
func ToHalf(dst []uint16, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels: ToHalf: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	toHalf(dst, src)
}

// FromHalf sets dst[i] to the float32 value of the binary16 src[i], which
// is exact. It panics if the lengths differ.
func FromHalf(dst []float32, src []uint16) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernels: FromHalf: len(dst)=%d != len(src)=%d", len(dst), len(src)))
	}
	fromHalf(dst, src)
}

// GemvHalf is Gemv with W stored in float16: y = W·x + b with W the
// len(y)×cols row-major binary16 matrix w. It panics on the shape errors of
// Gemv.
func GemvHalf(y []float32, w []uint16, cols int, x, b []float32) {
	checkGemv("GemvHalf", y, w, cols, x, b)
	gemvRange(gemvHalfRows, y, w, cols, x, b, 0, len(y))
}

// GemvHalfGather is GemvGather with W stored in float16: only the rows
// listed in idx are read and written.
func GemvHalfGather(y []float32, w []uint16, cols int, x, b []float32, idx []int32) {
	checkGemv("GemvHalfGather", y, w, cols, x, b)
	checkGatherIndex("GemvHalfGather", idx, len(y))
	gemvGatherRange(gemvHalfGather, y, w, cols, x, b, idx, 0, len(idx))
}

// GemvHalf is the multithreaded form of the package-level GemvHalf.
func (p *Pool) GemvHalf(y []float32, w []uint16, cols int, x, b []float32) {
	if p == nil {
		GemvHalf(y, w, cols, x, b)
		return
	}
	checkGemv("Pool.GemvHalf", y, w, cols, x, b)
	p.For(len(y), gemvGrain(cols, 2), func(lo, hi int) {
		gemvRange(gemvHalfRows, y, w, cols, x, b, lo, hi)
	})
}

// GemvHalfGather is the multithreaded form of the package-level
// GemvHalfGather: the index list is split among the pool's workers.
func (p *Pool) GemvHalfGather(y []float32, w []uint16, cols int, x, b []float32, idx []int32) {
	if p == nil {
		GemvHalfGather(y, w, cols, x, b, idx)
		return
	}
	checkGemv("Pool.GemvHalfGather", y, w, cols, x, b)
	checkGatherIndex("Pool.GemvHalfGather", idx, len(y))
	p.For(len(idx), gemvGrain(cols, 2), func(lo, hi int) {
		gemvGatherRange(gemvHalfGather, y, w, cols, x, b, idx, lo, hi)
	})
}

// The pure-Go twins. Conversions go through x448/float16, which follows
// IEEE 754 (round to nearest even, subnormals, NaN payloads kept where
// binary16 can hold them).

func toHalfGeneric(dst []uint16, src []float32) {
	for i, v := range src {
		dst[i] = float16.Fromfloat32(v).Bits()
	}
}

func fromHalfGeneric(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = float16.Frombits(h).Float32()
	}
}

// dotHalfGeneric returns w·x with w in binary16, four partial sums like
// dotGeneric.
func dotHalfGeneric(w []uint16, x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(w); i += 4 {
		s0 += float16.Frombits(w[i]).Float32() * x[i]
		s1 += float16.Frombits(w[i+1]).Float32() * x[i+1]
		s2 += float16.Frombits(w[i+2]).Float32() * x[i+2]
		s3 += float16.Frombits(w[i+3]).Float32() * x[i+3]
	}
	for ; i < len(w); i++ {
		s0 += float16.Frombits(w[i]).Float32() * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func gemvHalfGeneric(y []float32, w []uint16, cols int, x []float32) {
	for i := range y {
		y[i] = dotHalfGeneric(w[i*cols:(i+1)*cols], x)
	}
}

func gemvHalfGatherGeneric(y []float32, w []uint16, cols int, x []float32, idx []int32) {
	for _, r := range idx {
		o := int(r) * cols
		y[r] = dotHalfGeneric(w[o:o+cols], x)
	}
}
