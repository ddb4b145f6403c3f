//go:build amd64 && !purego

package kernels

// gatherAxpyAVX512 and softmaxRowAVX512 are in sparse_attn_amd64.s.
//
//go:noescape
func gatherAxpyAVX512(out, p, v *float32, keys *int32, n, dv int)

//go:noescape
func softmaxRowAVX512(s *float32, n int, tail uint16)

// gatherAxpyAVX2 and softmaxRowAVX2 are their 8-lane forms.
//
//go:noescape
func gatherAxpyAVX2(out, p, v *float32, keys *int32, n, dv int)

//go:noescape
func softmaxRowAVX2(s *float32, n int)

//go:noescape
func gatherDotsAVX512(out, q, k *float32, keys *int32, n, dim int, scale float32)

//go:noescape
func gatherDotsAVX2(out, q, k *float32, keys *int32, n, dim int, scale float32)

// gatherDots sets out[t] = scale·(q · k[keys[t]·dim:][:dim]) for every t,
// reporting false (having done nothing) where there is no kernel for dim.
func gatherDots(out, q, k []float32, keys []int32, dim int, scale float32) bool {
	lanes := 16
	if !useAVX512 {
		lanes = 8
	}
	if !useAVX2 || dim%lanes != 0 || dim == 0 || len(keys) == 0 {
		return false
	}
	_ = out[len(keys)-1]
	_ = q[dim-1]
	for _, j := range keys {
		_ = k[(int(j)+1)*dim-1]
	}
	if useAVX512 {
		gatherDotsAVX512(&out[0], &q[0], &k[0], &keys[0], len(keys), dim, scale)
	} else {
		gatherDotsAVX2(&out[0], &q[0], &k[0], &keys[0], len(keys), dim, scale)
	}
	return true
}

// gatherAxpy sets out = Σ_t p[t]·v[keys[t]·dv:][:dv], dv = len(out).
func gatherAxpy(out, p, v []float32, keys []int32) {
	dv := len(out)
	lanes := 16
	if !useAVX512 {
		lanes = 8
	}
	if !useAVX2 || dv%lanes != 0 || dv == 0 || len(keys) == 0 {
		gatherAxpyGeneric(out, p, v, keys)
		return
	}
	p = p[:len(keys)]
	for _, j := range keys {
		_ = v[(int(j)+1)*dv-1]
	}
	if useAVX512 {
		gatherAxpyAVX512(&out[0], &p[0], &v[0], &keys[0], len(keys), dv)
		return
	}
	gatherAxpyAVX2(&out[0], &p[0], &v[0], &keys[0], len(keys), dv)
}

// softmaxInPlace sets s to its softmax (all zero when every entry is −Inf).
func softmaxInPlace(s []float32) {
	switch {
	case len(s) == 0 || !useAVX2:
		softmaxInPlaceGeneric(s)
		return
	case !useAVX512:
		softmaxRowAVX2(&s[0], len(s))
		return
	}
	softmaxRowAVX512(&s[0], len(s), uint16(1)<<(len(s)%16)-1)
}
