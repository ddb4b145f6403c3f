//go:build !amd64 || purego

package kernels

func floatImpls() []floatImpl { return []floatImpl{genericFloatImpl()} }

func halfImpls() []halfImpl { return []halfImpl{genericHalfImpl()} }
