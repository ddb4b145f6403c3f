//go:build amd64 && !purego

package kernels

// gemmKernelAVX512 and gemmKernelAVX2 are the assembly micro-kernels in
// gemm_amd64.s; the slices must hold a full sliver and a full tile.

//go:noescape
func gemmKernelAVX512(kc int, a, b, c []float32, ldc int)

//go:noescape
func gemmKernelAVX2(kc int, a, b, c []float32, ldc int)

// packBTAVX2 packs a full transposed-B sliver in 8×8 blocks; see gemmKernel.
//
//go:noescape
func packBTAVX2(dst, src []float32, ld, nr, kc8 int)

// A 14×32 tile uses 28 of the 32 ZMM registers for sums; 6×16 uses 12 of
// the 16 YMM registers.
func gemmAVX512() gemmKernel {
	return gemmKernel{mr: 14, nr: 32, kern: gemmKernelAVX512, packBT: packBTAVX2}
}

func gemmAVX2() gemmKernel {
	return gemmKernel{mr: 6, nr: 16, kern: gemmKernelAVX2, packBT: packBTAVX2}
}

func gemmKernelF32() gemmKernel {
	switch {
	case useAVX512:
		return gemmAVX512()
	case useAVX2:
		return gemmAVX2()
	}
	return gemmGeneric()
}
