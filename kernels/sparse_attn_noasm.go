//go:build !amd64 || purego

package kernels

func gatherAxpy(out, p, v []float32, keys []int32) { gatherAxpyGeneric(out, p, v, keys) }

func softmaxInPlace(s []float32) { softmaxInPlaceGeneric(s) }
