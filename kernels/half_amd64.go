//go:build amd64 && !purego

package kernels

import "unsafe"

// The AVX-512 kernels in half_amd64.s widen binary16 with VCVTPH2PS and
// narrow with VCVTPS2PH (round to nearest even). They take whole blocks of
// 16 elements; the Go wrappers finish ragged tails with the pure-Go twins.
// Machines without AVX-512 use the twins throughout: float16 weights serve
// only classifiers too large for float32, which such machines rarely hold.

// dot4HalfAVX512 stores in out the dot products of x with the four binary16
// rows starting at r0..r3, each of len(x) elements; len(x) is a positive
// multiple of 16. A nonzero pf, for consecutive rows only, is the address
// as far ahead of r0 as the prefetch should run.
//
//go:noescape
func dot4HalfAVX512(x []float32, r0, r1, r2, r3 *uint16, pf uintptr, out *[4]float32)

// halfPrefetch is how far ahead, in weights, the dense float16 GEMV
// prefetches into L2. Without it a cold 2^18×512 GEMV streamed 12.5 GB/s
// against the float32 GEMV's 23 (BenchmarkGemvHalfCold): four 1 KiB rows
// per call are too short a stream for the hardware prefetcher to get
// ahead of, while a warm matrix runs as fast per weight as float32.
const halfPrefetch = 8192

// toHalfAVX512 and fromHalfAVX512 convert n elements, n a positive multiple
// of 16.
//
//go:noescape
func toHalfAVX512(dst *uint16, src *float32, n int)

//go:noescape
func fromHalfAVX512(dst *float32, src *uint16, n int)

func toHalf(dst []uint16, src []float32) {
	n := 0
	if useAVX512 {
		if n = len(src) &^ 15; n > 0 {
			toHalfAVX512(&dst[0], &src[0], n)
		}
	}
	toHalfGeneric(dst[n:], src[n:])
}

func fromHalf(dst []float32, src []uint16) {
	n := 0
	if useAVX512 {
		if n = len(src) &^ 15; n > 0 {
			fromHalfAVX512(&dst[0], &src[0], n)
		}
	}
	fromHalfGeneric(dst[n:], src[n:])
}

// dot4Half sets out to the dot products of x with the rows of w starting at
// offsets o (each cols long): the first cols&^15 columns in assembly, the
// rest in Go. pf is the offset in w to prefetch from, or 0 for none.
func dot4Half(w []uint16, cols int, x []float32, o [4]int, pf int, out *[4]float32) {
	n := cols &^ 15
	var pa uintptr
	if pf > 0 && pf < len(w) {
		pa = uintptr(unsafe.Pointer(&w[pf]))
	}
	dot4HalfAVX512(x[:n], &w[o[0]], &w[o[1]], &w[o[2]], &w[o[3]], pa, out)
	if n < cols {
		for j, oj := range o {
			out[j] += dotHalfGeneric(w[oj+n:oj+cols], x[n:])
		}
	}
}

func gemvHalfRows(y []float32, w []uint16, cols int, x []float32) {
	if !useAVX512 || cols < 16 {
		gemvHalfGeneric(y, w, cols, x)
		return
	}
	var out [4]float32
	i := 0
	for ; i+4 <= len(y); i += 4 {
		o := i * cols
		dot4Half(w, cols, x, [4]int{o, o + cols, o + 2*cols, o + 3*cols}, o+halfPrefetch, (*[4]float32)(y[i:i+4]))
	}
	for ; i < len(y); i++ { // the last rows: the same row four times
		o := i * cols
		dot4Half(w, cols, x, [4]int{o, o, o, o}, 0, &out)
		y[i] = out[0]
	}
}

func gemvHalfGather(y []float32, w []uint16, cols int, x []float32, idx []int32) {
	if !useAVX512 || cols < 16 {
		gemvHalfGatherGeneric(y, w, cols, x, idx)
		return
	}
	var out [4]float32
	j := 0
	for ; j+4 <= len(idx); j += 4 {
		r := idx[j : j+4 : j+4]
		dot4Half(w, cols, x, [4]int{int(r[0]) * cols, int(r[1]) * cols, int(r[2]) * cols, int(r[3]) * cols}, 0, &out)
		y[r[0]], y[r[1]], y[r[2]], y[r[3]] = out[0], out[1], out[2], out[3]
	}
	for ; j < len(idx); j++ {
		o := int(idx[j]) * cols
		dot4Half(w, cols, x, [4]int{o, o, o, o}, 0, &out)
		y[idx[j]] = out[0]
	}
}
