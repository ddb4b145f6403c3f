//go:build !amd64 || purego

package kernels

func gatherAxpy(out, p, v []float32, keys []int32) { gatherAxpyGeneric(out, p, v, keys) }

func softmaxInPlace(s []float32) { softmaxInPlaceGeneric(s) }

func gatherDots(out, q, k []float32, keys []int32, dim int, scale float32) bool { return false }
