//go:build amd64 && !purego

package kernels

// predictInt8VNNI is the AVX-512 VNNI predictor kernel in
// predictor_amd64.s.
//
//go:noescape
func predictInt8VNNI(k *byte, groups, c4 int, q *int8, qcorr *int32, qscale, kscale, y *float32, ldy int)

//go:noescape
func predictInt8VNNI1(k *byte, groups, c4 int, q *int8, qcorr int32, qscale float32, kscale, y *float32)

func predictVNNI1(data []uint8, scales []float32, groups, c4 int, q []int8, corr int32, scale float32, y []float32) {
	_ = data[groups*c4*64-1]
	_ = scales[groups*16-1]
	_ = y[groups*16-1]
	_ = q[c4*4-1]
	predictInt8VNNI1(&data[0], groups, c4, &q[0], corr, scale, &scales[0], &y[0])
}

func predictVNNI(data []uint8, scales []float32, groups, c4 int, qb *predictQueries, y []float32, ldy int) {
	_ = data[groups*c4*64-1]
	_ = scales[groups*16-1]
	_ = y[7*ldy+groups*16-1]
	_ = qb.q[c4*32-1]
	predictInt8VNNI(&data[0], groups, c4, &qb.q[0], &qb.corr[0], &qb.scale[0], &scales[0], &y[0], ldy)
}

// predictInt8AVX2 and predictInt8AVX2x1 are the AVX2 predictor kernels
// in predictor_amd64.s; they take the VNNI kernels' arguments and ignore
// the corrections.
//
//go:noescape
func predictInt8AVX2(k *byte, groups, c4 int, q *int8, qcorr *int32, qscale, kscale, y *float32, ldy int)

//go:noescape
func predictInt8AVX2x1(k *byte, groups, c4 int, q *int8, qcorr int32, qscale float32, kscale, y *float32)

func predictAVX2x1(data []uint8, scales []float32, groups, c4 int, q []int8, corr int32, scale float32, y []float32) {
	_ = data[groups*c4*64-1]
	_ = scales[groups*16-1]
	_ = y[groups*16-1]
	_ = q[c4*4-1]
	predictInt8AVX2x1(&data[0], groups, c4, &q[0], corr, scale, &scales[0], &y[0])
}

func predictAVX2(data []uint8, scales []float32, groups, c4 int, qb *predictQueries, y []float32, ldy int) {
	_ = data[groups*c4*64-1]
	_ = scales[groups*16-1]
	_ = y[7*ldy+groups*16-1]
	_ = qb.q[c4*32-1]
	predictInt8AVX2(&data[0], groups, c4, &qb.q[0], &qb.corr[0], &qb.scale[0], &scales[0], &y[0], ldy)
}

// filterGEAVX512 lists the j < n (a multiple of 16) with y[j] >= t in
// out, which must have n+16 slots, and returns how many.
//
//go:noescape
func filterGEAVX512(y *float32, n int, t float32, out *int32) int

func filterGEVec(y []float32, t float32, out []int32) int {
	n := len(y) &^ 15
	c := 0
	if n > 0 {
		_ = out[n+15]
		c = filterGEAVX512(&y[0], n, t, &out[0])
	}
	return c + filterGEGeneric(y[n:], t, out[c:], int32(n))
}

func filterGE() func(y []float32, t float32, out []int32) int {
	if useAVX512 {
		return filterGEVec
	}
	return filterGEAll
}

func predictImpls() []predictImpl {
	return []predictImpl{
		{"generic", true, predictGeneric, predictGeneric1},
		{"avx2", useAVX2, predictAVX2, predictAVX2x1},
		{"avx512-vnni", useVNNI, predictVNNI, predictVNNI1},
	}
}
