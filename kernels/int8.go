package kernels

import (
	"fmt"
	"math"
)

// MaxIntCols is the largest number of columns the integer GEMVs accept. The
// kernels accumulate in int32; with |w|, |x| <= 128 a row of MaxIntCols
// products is at most 2^30 in magnitude, and the biased sums of the assembly
// kernels (at most 255·128 per product) stay below 2^31, so no sum can
// overflow.
const MaxIntCols = 1 << 16

// QuantizeInt8 quantizes x symmetrically to int8, the run-time input
// quantization x_Q the integer GEMVs take: with s = max|x|/127 it sets
// xq[j] = round(x[j]/s), clamped to [-127, 127], and returns s. All-zero x
// gives s = 0 and xq all zero. If x holds a NaN or an infinity, xq is set to
// zero and s is NaN, so every output of a GEMV using s is NaN rather than a
// silently wrong number. While s is a normal float32 (max|x| above about
// 1.5e-36), |x[j] - s·xq[j]| <= s/2 for every j. It panics if
// len(xq) != len(x).
func QuantizeInt8(xq []int8, x []float32) (scale float32) {
	if len(xq) != len(x) {
		panic(fmt.Sprintf("kernels: QuantizeInt8: len(xq)=%d != len(x)=%d", len(xq), len(x)))
	}
	// The bits of |v| order like the values, and every NaN or infinity has
	// all exponent bits set, so one integer maximum finds both max|x| and
	// any non-finite value.
	const expMask = 0x7f800000
	var amax uint32
	for _, v := range x {
		amax = max(amax, math.Float32bits(v)&^(1<<31))
	}
	if amax >= expMask {
		clear(xq)
		return float32(math.NaN())
	}
	s := math.Float32frombits(amax) / 127
	if s == 0 { // all zero, or so small that s underflows
		clear(xq)
		return 0
	}
	// Scale in float64, which is exact enough that rounding follows the
	// definition; the clamp only matters when s is subnormal and coarse.
	inv := 1 / float64(s)
	xq = xq[:len(x)]
	for j, v := range x {
		xq[j] = int8(min(max(roundHalfAway(float64(v)*inv), -127), 127))
	}
	return s
}

// roundHalfAway is int32(math.Round(f)) for |f| < 2^31, which it computes
// by truncating, a single instruction, where math.Round is a call: f minus
// its truncation is exact, and a fraction of at least one half moves away
// from zero. The comparisons become flags, not branches, which the random
// signs of activations would mispredict.
func roundHalfAway(f float64) int32 {
	t := int32(f)
	d := f - float64(t)
	return t + int32(b2i(d >= 0.5)-b2i(d <= -0.5))
}

// GemvInt8 computes y = diag(scales)·Q·x·xscale + b for an INT8 matrix: for
// every row i,
//
//	y[i] = scales[i]·xscale·Σ_j q[i*cols+j]·xq[j] + b[i],
//
// where q holds the len(y)×cols matrix row-major, scales its per-row scales,
// xq and xscale the quantized input (see QuantizeInt8), and b the bias (nil
// for none). The integer sums are exact. xq may hold any int8 value, though
// QuantizeInt8 never produces -128, and the AVX2 kernel runs its slower
// pure-Go twin on such input.
//
// It panics if cols is negative or above MaxIntCols, len(q) != len(y)*cols,
// len(scales) != len(y), len(xq) != cols, or b is neither nil nor of length
// len(y).
func GemvInt8(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32) {
	checkInt8("GemvInt8", y, q, scales, cols, xq, b)
	gemvInt8(y, q, scales, cols, xq, xscale, b, nil)
}

// GemvInt8Gather computes y[r] as GemvInt8 does for every row r listed in
// idx. Other entries of y keep their values, and other rows of q and scales
// (and b) are never read. It panics on the shape errors of GemvInt8 and if
// an index lies outside [0, len(y)).
func GemvInt8Gather(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	checkInt8("GemvInt8Gather", y, q, scales, cols, xq, b)
	checkGatherIndex("GemvInt8Gather", idx, len(y))
	if len(idx) > 0 {
		gemvInt8(y, q, scales, cols, xq, xscale, b, idx)
	}
}

// GemvInt8 is the multithreaded form of the package-level GemvInt8: the rows
// are split among the pool's workers.
func (p *Pool) GemvInt8(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32) {
	if p == nil {
		GemvInt8(y, q, scales, cols, xq, xscale, b)
		return
	}
	checkInt8("Pool.GemvInt8", y, q, scales, cols, xq, b)
	p.For(len(y), intGrain(cols), func(lo, hi int) {
		gemvInt8(y[lo:hi], q[lo*cols:hi*cols], scales[lo:hi], cols, xq, xscale, subBias(b, lo, hi), nil)
	})
}

// GemvInt8Gather is the multithreaded form of the package-level
// GemvInt8Gather: the index list is split among the pool's workers. The
// indices must be distinct, or two workers may write the same y[r].
func (p *Pool) GemvInt8Gather(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	if p == nil {
		GemvInt8Gather(y, q, scales, cols, xq, xscale, b, idx)
		return
	}
	checkInt8("Pool.GemvInt8Gather", y, q, scales, cols, xq, b)
	checkGatherIndex("Pool.GemvInt8Gather", idx, len(y))
	p.For(len(idx), intGrain(cols), func(lo, hi int) {
		gemvInt8(y, q, scales, cols, xq, xscale, b, idx[lo:hi])
	})
}

// gemvInt8Kernel is the signature shared by every INT8 implementation: the
// checked arguments of GemvInt8, and idx listing the rows to compute, all of
// them when nil.
type gemvInt8Kernel func(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32)

// gemvInt8Generic is the pure-Go twin of the assembly INT8 kernels.
func gemvInt8Generic(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	n := numRows(y, idx)
	for k := range n {
		r := rowAt(idx, k)
		s := dotInt8(q[r*cols:r*cols+cols], xq)
		y[r] = intEpilogue(s, r, scales, xscale, b)
	}
}

// dotInt8 returns Σ w[j]·x[j] over the len(w) elements of w.
func dotInt8(w, x []int8) int32 {
	x = x[:len(w)]
	var s0, s1, s2, s3 int32
	j := 0
	for ; j+4 <= len(w); j += 4 {
		s0 += int32(w[j]) * int32(x[j])
		s1 += int32(w[j+1]) * int32(x[j+1])
		s2 += int32(w[j+2]) * int32(x[j+2])
		s3 += int32(w[j+3]) * int32(x[j+3])
	}
	for ; j < len(w); j++ {
		s0 += int32(w[j]) * int32(x[j])
	}
	return s0 + s1 + s2 + s3
}

// intEpilogue turns the integer dot product s of row r into its output.
// The assembly kernels do the same float32 operations in the same order,
// so every implementation agrees bit for bit. The explicit conversion
// rounds the product before the bias is added, which keeps the compiler
// from fusing the two into an FMA the vector epilogues do not use.
func intEpilogue(s int32, r int, scales []float32, xscale float32, b []float32) float32 {
	v := float32(float32(s) * (scales[r] * xscale))
	if b != nil {
		v += b[r]
	}
	return v
}

// numRows is the number of rows a kernel computes: those listed in idx, or
// all len(y) when idx is nil.
func numRows(y []float32, idx []int32) int {
	if idx == nil {
		return len(y)
	}
	return len(idx)
}

// rowAt returns the k-th row a kernel computes.
func rowAt(idx []int32, k int) int {
	if idx == nil {
		return k
	}
	return int(idx[k])
}

// intGrain is the number of rows (or indices) each Pool task takes at least,
// so that a task reads around 256 KiB of weights; it is a multiple of
// eight, the rows the VNNI kernels take per step.
func intGrain(rowBytes int) int {
	const bytesPerTask = 256 << 10
	return max(8, bytesPerTask/max(rowBytes, 1)) &^ 7
}

func subBias(b []float32, lo, hi int) []float32 {
	if b == nil {
		return nil
	}
	return b[lo:hi]
}

func checkInt8(op string, y []float32, q []int8, scales []float32, cols int, xq []int8, b []float32) {
	checkIntShape(op, y, len(q), len(y)*cols, scales, cols, xq, b)
}

func checkIntShape(op string, y []float32, lenQ, wantQ int, scales []float32, cols int, xq []int8, b []float32) {
	if cols < 0 || cols > MaxIntCols {
		panic(fmt.Sprintf("kernels: %s: cols=%d outside [0,%d]", op, cols, MaxIntCols))
	}
	if lenQ != wantQ {
		panic(fmt.Sprintf("kernels: %s: len(q)=%d, want %d for %d rows of %d columns", op, lenQ, wantQ, len(y), cols))
	}
	if len(scales) != len(y) {
		panic(fmt.Sprintf("kernels: %s: len(scales)=%d != rows=%d", op, len(scales), len(y)))
	}
	if len(xq) != cols {
		panic(fmt.Sprintf("kernels: %s: len(xq)=%d != cols=%d", op, len(xq), cols))
	}
	if b != nil && len(b) != len(y) {
		panic(fmt.Sprintf("kernels: %s: len(b)=%d != rows=%d", op, len(b), len(y)))
	}
}

// namedInt8 and namedInt4 pair an implementation with its name in test and
// benchmark output.
type namedInt8 struct {
	name string
	fn   gemvInt8Kernel
}

type namedInt4 struct {
	name string
	fn   gemvInt4Kernel
}
