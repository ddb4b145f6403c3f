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
