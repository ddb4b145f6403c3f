//go:build amd64 && !purego

package kernels

import "unsafe"

// The assembly kernels in float_amd64.s. Callers guarantee the lengths:
// len(y) >= len(x) for dot and axpy, and cols valid elements after each row
// pointer for dot4.

//go:noescape
func dotAVX512(x, y []float32) float32

//go:noescape
func dotAVX2(x, y []float32) float32

// dot4AVX512 stores the dot products of x with the four rows starting at
// r0..r3, each of len(x) elements, in out. With p non-nil it prefetches
// into L2 the rows of as many elements that start at the addresses in p.
//
//go:noescape
func dot4AVX512(x []float32, r0, r1, r2, r3 *float32, p *[4]uintptr, out *[4]float32)

//go:noescape
func dot4AVX2(x []float32, r0, r1, r2, r3 *float32, p *[4]uintptr, out *[4]float32)

//go:noescape
func axpyAVX512(alpha float32, x, y []float32)

//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

func dotF32(x, y []float32) float32 {
	switch {
	case useAVX512:
		return dotAVX512(x, y)
	case useAVX2:
		return dotAVX2(x, y)
	}
	return dotGeneric(x, y)
}

func axpyF32(alpha float32, x, y []float32) {
	switch {
	case useAVX512:
		axpyAVX512(alpha, x, y)
	case useAVX2:
		axpyAVX2(alpha, x, y)
	default:
		axpyGeneric(alpha, x, y)
	}
}

func gemvRowsF32(y, w []float32, cols int, x []float32) {
	switch {
	case useAVX512:
		gemvAVX512(y, w, cols, x)
	case useAVX2:
		gemvAVX2(y, w, cols, x)
	default:
		gemvGeneric(y, w, cols, x)
	}
}

func gemvGatherF32(y, w []float32, cols int, x []float32, idx []int32) {
	switch {
	case useAVX512:
		gemvGatherAVX512(y, w, cols, x, idx)
	case useAVX2:
		gemvGatherAVX2(y, w, cols, x, idx)
	default:
		gemvGatherGeneric(y, w, cols, x, idx)
	}
}

func gemvAVX512(y, w []float32, cols int, x []float32) { gemvBy4(y, w, cols, x, true) }

func gemvAVX2(y, w []float32, cols int, x []float32) { gemvBy4(y, w, cols, x, false) }

func gemvGatherAVX512(y, w []float32, cols int, x []float32, idx []int32) {
	gemvGatherBy4(y, w, cols, x, idx, true)
}

func gemvGatherAVX2(y, w []float32, cols int, x []float32, idx []int32) {
	gemvGatherBy4(y, w, cols, x, idx, false)
}

// dot4Sel and dotSel call the AVX-512 kernels if wide is set, else the
// AVX2 ones. Direct calls, unlike function values, let the out array of
// gemvGatherBy4 stay on the stack.
func dot4Sel(wide bool, x []float32, r0, r1, r2, r3 *float32, p *[4]uintptr, out *[4]float32) {
	if wide {
		dot4AVX512(x, r0, r1, r2, r3, p, out)
	} else {
		dot4AVX2(x, r0, r1, r2, r3, p, out)
	}
}

func dotSel(wide bool, x, y []float32) float32 {
	if wide {
		return dotAVX512(x, y)
	}
	return dotAVX2(x, y)
}

// gemvBy4 sets y[i] = W[i,:]·x four rows at a time, so each load of x
// serves four rows of W, and prefetches the next four rows into L2 while
// it multiplies the current ones. Four rows streamed together measured
// faster than one row with eight accumulators (about 10 against 9 GB/s,
// 6000×3000 from DRAM). The prefetch raised dense / copy at 6000×3000 from
// 0.72–0.80 to 0.82–0.88 on both ISAs (`elastic bench gemv`, binaries of
// the commits before and with it run alternately; issue 10).
func gemvBy4(y, w []float32, cols int, x []float32, wide bool) {
	if cols == 0 {
		clear(y)
		return
	}
	w = w[:len(y)*cols]
	var pf [4]uintptr
	i := 0
	for ; i+4 <= len(y); i += 4 {
		o := i * cols
		p := &pf
		if i+8 <= len(y) {
			for t := range pf {
				pf[t] = uintptr(unsafe.Pointer(&w[o+(4+t)*cols]))
			}
		} else {
			p = nil
		}
		dot4Sel(wide, x, &w[o], &w[o+cols], &w[o+2*cols], &w[o+3*cols], p, (*[4]float32)(y[i:i+4]))
	}
	for ; i < len(y); i++ {
		y[i] = dotSel(wide, w[i*cols:(i+1)*cols], x)
	}
}

// gemvGatherBy4 is gemvBy4 over the rows listed in idx, which the caller
// has checked lie inside w. Each group of four rows prefetches the next
// group's into L2 as it goes: rows chosen by a predictor are scattered,
// and a few KiB of each is too short a stream for the hardware prefetchers
// (the LSTM-1500 big module gathered at 26 GB/s where the dense step
// streams 28.6).
func gemvGatherBy4(y, w []float32, cols int, x []float32, idx []int32, wide bool) {
	if cols == 0 {
		for _, r := range idx {
			y[r] = 0
		}
		return
	}
	var out [4]float32
	var pf [4]uintptr
	j := 0
	for ; j+4 <= len(idx); j += 4 {
		r := idx[j : j+4 : j+4]
		r0, r1, r2, r3 := &w[int(r[0])*cols], &w[int(r[1])*cols], &w[int(r[2])*cols], &w[int(r[3])*cols]
		p := &pf
		if j+8 <= len(idx) {
			n := idx[j+4 : j+8 : j+8]
			for t, row := range n {
				pf[t] = uintptr(unsafe.Pointer(&w[int(row)*cols]))
			}
		} else {
			p = nil
		}
		dot4Sel(wide, x, r0, r1, r2, r3, p, &out)
		y[r[0]], y[r[1]], y[r[2]], y[r[3]] = out[0], out[1], out[2], out[3]
	}
	for ; j < len(idx); j++ {
		o := int(idx[j]) * cols
		y[idx[j]] = dotSel(wide, w[o:o+cols], x)
	}
}
