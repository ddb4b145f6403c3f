//go:build !amd64 || purego

package kernels

func dotF32(x, y []float32) float32 { return dotGeneric(x, y) }

func axpyF32(alpha float32, x, y []float32) { axpyGeneric(alpha, x, y) }

func gemvRowsF32(y, w []float32, cols int, x []float32) { gemvGeneric(y, w, cols, x) }

func gemvGatherF32(y, w []float32, cols int, x []float32, idx []int32) {
	gemvGatherGeneric(y, w, cols, x, idx)
}
