//go:build !amd64 || purego

package kernels

func predictImpls() []predictImpl {
	return []predictImpl{{"generic", true, predictGeneric, predictGeneric1}}
}
