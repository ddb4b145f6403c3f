//go:build amd64 && !purego

package kernels

import "unsafe"

// The kernels in half_amd64.s widen binary16 with VCVTPH2PS and narrow
// with VCVTPS2PH (round to nearest even): AVX-512 (zmm, 16 elements) or
// AVX2+FMA+F16C (ymm, 8). The AVX-512 GEMV kernel takes whole blocks of 16
// columns, finishing a ragged tail in Go; the AVX2 one does a ragged tail
// as an overlapping masked last block. The conversions take whole blocks
// and finish in Go. Without F16C everything runs the pure-Go twins.

// dot4HalfAVX512 stores in out the dot products of x with the four binary16
// rows starting at r0..r3, each of len(x) elements; len(x) is a positive
// multiple of 16. With p non-nil it prefetches into L2, as it goes, as many
// weights from each of the four addresses in p.
//
//go:noescape
func dot4HalfAVX512(x []float32, r0, r1, r2, r3 *uint16, p *[4]uintptr, out *[4]float32)

// dot4HalfAVX2 is dot4HalfAVX512 for any len(x) >= 8.
//
//go:noescape
func dot4HalfAVX2(x []float32, r0, r1, r2, r3 *uint16, p *[4]uintptr, out *[4]float32)

// halfPrefetch is how far ahead, in weights, the float16 GEMVs prefetch
// into L2 at the least: the dense one as many rows ahead, the gather as
// many listed rows, both rounded to whole groups of four rows and at least
// two groups (halfAhead). Without it a cold 2^18×512 GEMV streamed 12.5
// GB/s against the float32 GEMV's 23 on AVX-512, and 6.5–6.7 against
// 15–17 with it on AVX2 (BenchmarkGemvHalfCold): four 1 KiB rows per call
// are too short a stream for the hardware prefetcher to get ahead of,
// while a warm matrix runs as fast per weight as float32.
const halfPrefetch = 8192

// halfAhead is how many groups of four rows ahead the float16 GEMVs
// prefetch for rows of cols weights.
func halfAhead(cols int) int { return max(2, halfPrefetch/(4*max(cols, 1))) }

// toHalfAVX512 and fromHalfAVX512 convert n elements, n a positive multiple
// of 16; the AVX2 twins a positive multiple of 8.
//
//go:noescape
func toHalfAVX512(dst *uint16, src *float32, n int)

//go:noescape
func fromHalfAVX512(dst *float32, src *uint16, n int)

//go:noescape
func toHalfAVX2(dst *uint16, src *float32, n int)

//go:noescape
func fromHalfAVX2(dst *float32, src *uint16, n int)

func toHalf(dst []uint16, src []float32) {
	if useAVX512 || useF16C {
		convertHalf(dst, src, useAVX512, toHalfAVX512, toHalfAVX2, toHalfGeneric)
	} else {
		toHalfGeneric(dst, src)
	}
}

func fromHalf(dst []float32, src []uint16) {
	if useAVX512 || useF16C {
		convertHalf(dst, src, useAVX512, fromHalfAVX512, fromHalfAVX2, fromHalfGeneric)
	} else {
		fromHalfGeneric(dst, src)
	}
}

// convertHalf converts src to dst with k512 (blocks of 16) if wide is set,
// else with k2 (blocks of 8), and the rest with tail.
func convertHalf[D, S uint16 | float32](dst []D, src []S, wide bool, k512, k2 func(*D, *S, int), tail func([]D, []S)) {
	n, k := len(src)&^7, k2
	if wide {
		n, k = len(src)&^15, k512
	}
	if n > 0 {
		k(&dst[0], &src[0], n)
	}
	tail(dst[n:], src[n:])
}

// dot4Half sets out to the dot products of x with the rows of w starting at
// offsets o (each cols long), by the AVX-512 kernel if wide is set (the
// first cols&^15 columns, the rest in Go), else by the AVX2 one, with p
// the kernel's prefetch addresses or nil.
func dot4Half(wide bool, w []uint16, cols int, x []float32, o [4]int, p *[4]uintptr, out *[4]float32) {
	if !wide {
		dot4HalfAVX2(x[:cols], &w[o[0]], &w[o[1]], &w[o[2]], &w[o[3]], p, out)
		return
	}
	n := cols &^ 15
	dot4HalfAVX512(x[:n], &w[o[0]], &w[o[1]], &w[o[2]], &w[o[3]], p, out)
	if n < cols {
		for j, oj := range o {
			out[j] += dotHalfGeneric(w[oj+n:oj+cols], x[n:])
		}
	}
}

// halfMinCols is the narrowest row the kernels take: one block.
func halfMinCols(wide bool) int {
	if wide {
		return 16
	}
	return 8
}

func gemvHalfRows(y []float32, w []uint16, cols int, x []float32) {
	if useAVX512 || useF16C {
		gemvHalfBy4(y, w, cols, x, useAVX512, halfAhead(cols))
	} else {
		gemvHalfGeneric(y, w, cols, x)
	}
}

func gemvHalfGather(y []float32, w []uint16, cols int, x []float32, idx []int32) {
	if useAVX512 || useF16C {
		gemvHalfGatherBy4(y, w, cols, x, idx, useAVX512, halfAhead(cols))
	} else {
		gemvHalfGatherGeneric(y, w, cols, x, idx)
	}
}

// gemvHalfBy4 is gemvBy4 for binary16 weights: each group of four rows
// prefetches, as it goes, the group ahead groups on (0 for none).
func gemvHalfBy4(y []float32, w []uint16, cols int, x []float32, wide bool, ahead int) {
	if cols < halfMinCols(wide) {
		gemvHalfGeneric(y, w, cols, x)
		return
	}
	var out [4]float32
	var next [4]uintptr
	i := 0
	for ; i+4 <= len(y); i += 4 {
		o := i * cols
		var p *[4]uintptr
		if n := i + 4*ahead; ahead > 0 && n+4 <= len(y) {
			for k := range next {
				next[k] = uintptr(unsafe.Pointer(&w[(n+k)*cols]))
			}
			p = &next
		}
		dot4Half(wide, w, cols, x, [4]int{o, o + cols, o + 2*cols, o + 3*cols}, p, (*[4]float32)(y[i:i+4]))
	}
	if i < len(y) { // the last one to three rows, the last repeated
		last := len(y) - 1
		dot4Half(wide, w, cols, x, [4]int{i * cols, min(i+1, last) * cols, min(i+2, last) * cols, last * cols}, nil, &out)
		copy(y[i:], out[:])
	}
}

// gemvHalfGatherBy4 is gemvGatherBy4 for binary16 weights, prefetching as
// gemvHalfBy4 does the listed rows ahead groups on.
func gemvHalfGatherBy4(y []float32, w []uint16, cols int, x []float32, idx []int32, wide bool, ahead int) {
	if cols < halfMinCols(wide) {
		gemvHalfGatherGeneric(y, w, cols, x, idx)
		return
	}
	var out [4]float32
	var next [4]uintptr
	j := 0
	for ; j+4 <= len(idx); j += 4 {
		r := idx[j : j+4 : j+4]
		var p *[4]uintptr
		if n := j + 4*ahead; ahead > 0 && n+4 <= len(idx) {
			for k, row := range idx[n : n+4] {
				next[k] = uintptr(unsafe.Pointer(&w[int(row)*cols]))
			}
			p = &next
		}
		dot4Half(wide, w, cols, x, [4]int{int(r[0]) * cols, int(r[1]) * cols, int(r[2]) * cols, int(r[3]) * cols}, p, &out)
		y[r[0]], y[r[1]], y[r[2]], y[r[3]] = out[0], out[1], out[2], out[3]
	}
	if j < len(idx) { // the last one to three listed rows, the last repeated
		r := idx[j:]
		last := len(r) - 1
		dot4Half(wide, w, cols, x, [4]int{int(r[0]) * cols, int(r[min(1, last)]) * cols, int(r[min(2, last)]) * cols, int(r[last]) * cols}, nil, &out)
		for t, row := range r {
			y[row] = out[t]
		}
	}
}
