//go:build amd64 && !purego

package kernels

func floatImpls() []floatImpl {
	return []floatImpl{
		genericFloatImpl(),
		{
			name: "avx2", ok: useAVX2,
			dot: dotAVX2, axpy: axpyAVX2, gemv: gemvAVX2, gather: gemvGatherAVX2, gemm: gemmAVX2(),
		},
		{
			name: "avx512", ok: useAVX512,
			dot: dotAVX512, axpy: axpyAVX512, gemv: gemvAVX512, gather: gemvGatherAVX512, gemm: gemmAVX512(),
		},
	}
}

func halfImpls() []halfImpl {
	impl := func(name string, ok, wide bool) halfImpl {
		return halfImpl{
			name: name, ok: ok,
			to: func(d []uint16, s []float32) {
				convertHalf(d, s, wide, toHalfAVX512, toHalfAVX2, toHalfGeneric)
			},
			from: func(d []float32, s []uint16) {
				convertHalf(d, s, wide, fromHalfAVX512, fromHalfAVX2, fromHalfGeneric)
			},
			gemv: func(y []float32, w []uint16, cols int, x []float32) {
				gemvHalfBy4(y, w, cols, x, wide, halfAhead(cols))
			},
			gather: func(y []float32, w []uint16, cols int, x []float32, idx []int32) {
				gemvHalfGatherBy4(y, w, cols, x, idx, wide, halfAhead(cols))
			},
		}
	}
	return []halfImpl{genericHalfImpl(), impl("avx2", useF16C, false), impl("avx512", useAVX512, true)}
}

// halfNoPrefetch returns the dense and gather float16 kernels this CPU
// dispatches to without their software prefetch, or nils if it has none.
func halfNoPrefetch() (func(y []float32, w []uint16, cols int, x []float32), func(y []float32, w []uint16, cols int, x []float32, idx []int32)) {
	if !useAVX512 && !useF16C {
		return nil, nil
	}
	return func(y []float32, w []uint16, cols int, x []float32) { gemvHalfBy4(y, w, cols, x, useAVX512, 0) },
		func(y []float32, w []uint16, cols int, x []float32, idx []int32) {
			gemvHalfGatherBy4(y, w, cols, x, idx, useAVX512, 0)
		}
}
