//go:build amd64 && !purego

package kernels

// softmaxTileAVX512 and softmaxTileAVX2 are the online-softmax steps in
// attention_amd64.s; cols must be a multiple of 16 (8) and rows >= 1.
//
//go:noescape
func softmaxTileAVX512(s []float32, rows, cols int, m, corr, sum *float32)

//go:noescape
func softmaxTileAVX2(s []float32, rows, cols int, m, corr, sum *float32)

// peakFMAAVX512 and peakFMAAVX2 run iters rounds of 16 (12) independent
// vector FMAs.
func peakFMAAVX512(iters int)

func peakFMAAVX2(iters int)

func softmaxAVX512(s []float32, rows, cols int, m, corr, sum []float32) {
	checkSoftmaxTile(s, rows, cols, m, corr, sum)
	softmaxTileAVX512(s, rows, cols, &m[0], &corr[0], &sum[0])
}

func softmaxAVX2(s []float32, rows, cols int, m, corr, sum []float32) {
	checkSoftmaxTile(s, rows, cols, m, corr, sum)
	softmaxTileAVX2(s, rows, cols, &m[0], &corr[0], &sum[0])
}

func attnImpls() []attnKernel {
	return []attnKernel{
		attnGeneric(),
		{name: "avx2", ok: useAVX2, gemm: gemmAVX2(), softmax: softmaxAVX2,
			peak: peakFMAAVX2, peakFlops: 12 * 8 * 2},
		{name: "avx512", ok: useAVX512, gemm: gemmAVX512(), softmax: softmaxAVX512,
			peak: peakFMAAVX512, peakFlops: 16 * 16 * 2},
	}
}
