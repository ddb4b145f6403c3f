//go:build !amd64 || purego

package kernels

func gemvInt8(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	gemvInt8Generic(y, q, scales, cols, xq, xscale, b, idx)
}

func gemvInt4(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	gemvInt4Generic(y, q, scales, cols, xq, xscale, b, idx)
}

// int8Impls and int4Impls list every implementation this build can run, for
// the conformance tests and benchmarks.
func int8Impls() []namedInt8 { return []namedInt8{{"generic", gemvInt8Generic}} }

func int4Impls() []namedInt4 { return []namedInt4{{"generic", gemvInt4Generic}} }
