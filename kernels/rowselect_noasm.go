//go:build !amd64 || purego

package kernels

func rowVecImpl() rowVec { return rowVec{} }
