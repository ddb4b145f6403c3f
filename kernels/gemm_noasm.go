//go:build !amd64 || purego

package kernels

func gemmKernelF32() gemmKernel { return gemmGeneric() }
