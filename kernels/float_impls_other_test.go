//go:build !amd64 || purego

package kernels

func floatImpls() []floatImpl { return []floatImpl{genericFloatImpl()} }

func halfImpls() []halfImpl { return []halfImpl{genericHalfImpl()} }

func halfNoPrefetch() (func(y []float32, w []uint16, cols int, x []float32), func(y []float32, w []uint16, cols int, x []float32, idx []int32)) {
	return nil, nil
}
