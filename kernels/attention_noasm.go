//go:build !amd64 || purego

package kernels

func attnImpls() []attnKernel { return []attnKernel{attnGeneric()} }
