//go:build !amd64 || purego

package kernels

func predictImpls() []predictImpl {
	return []predictImpl{{"generic", true, predictGeneric, predictGeneric1}}
}

func filterGE() func(y []float32, t float32, out []int32) int { return filterGEAll }
