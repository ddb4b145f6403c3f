//go:build !amd64 || purego

package kernels

func toHalf(dst []uint16, src []float32) { toHalfGeneric(dst, src) }

func fromHalf(dst []float32, src []uint16) { fromHalfGeneric(dst, src) }

func gemvHalfRows(y []float32, w []uint16, cols int, x []float32) { gemvHalfGeneric(y, w, cols, x) }

func gemvHalfGather(y []float32, w []uint16, cols int, x []float32, idx []int32) {
	gemvHalfGatherGeneric(y, w, cols, x, idx)
}
