//go:build amd64 && !purego

package kernels

//go:noescape
func keyThresholdAVX512(keys *uint32, nvec int, lo uint32, r int) uint32

//go:noescape
func keyThresholdAVX2(keys *uint32, nvec int, lo uint32, r int) uint32

//go:noescape
func filterKeysAVX512(y *float32, n int, t uint32, idx *int32, keys *uint32) int

//go:noescape
func filterKeysAVX2(y *float32, n int, t uint32, idx *int32, keys *uint32) int

//go:noescape
func selectGEAVX512(keys *uint32, idx *int32, nvec int, th uint32, out *int32) int

//go:noescape
func selectGEAVX2(keys *uint32, idx *int32, nvec int, th uint32, out *int32) int

// rowVecImpl returns the AVX-512 passes, else the AVX2 ones, else none.
// Each takes whole vectors; the filter finishes the tail in Go. Callers
// size idx, keys and out with one vector of slack (the kernels store
// whole vectors).
func rowVecImpl() rowVec {
	type kern struct {
		thr    func(*uint32, int, uint32, int) uint32
		filter func(*float32, int, uint32, *int32, *uint32) int
		sel    func(*uint32, *int32, int, uint32, *int32) int
	}
	var lanes int
	var kn kern
	switch {
	case useAVX512:
		lanes, kn = 16, kern{keyThresholdAVX512, filterKeysAVX512, selectGEAVX512}
	case useAVX2:
		lanes, kn = 8, kern{keyThresholdAVX2, filterKeysAVX2, selectGEAVX2}
	default:
		return rowVec{}
	}
	return rowVec{
		lanes: lanes,
		threshold: func(keys []uint32, lo uint32, r int) uint32 {
			if len(keys) == 0 || len(keys)%lanes != 0 {
				panic("kernels: rowVec.threshold: keys not whole vectors")
			}
			return kn.thr(&keys[0], len(keys)/lanes, lo, r)
		},
		filter: func(y []float32, t uint32, idx []int32, keys []uint32) int {
			n := len(y) / lanes * lanes
			c := 0
			if n > 0 {
				_, _ = idx[n+lanes-1], keys[n+lanes-1]
				c = kn.filter(&y[0], n, t, &idx[0], &keys[0])
			}
			return c + filterKeysGeneric(y[n:], t, idx[c:], keys[c:], int32(n))
		},
		selectGE: func(keys []uint32, idx []int32, th uint32, out []int32) int {
			if len(keys) == 0 || len(keys)%lanes != 0 || len(idx) < len(keys) {
				panic("kernels: rowVec.selectGE: keys not whole vectors")
			}
			_ = out[len(keys)+lanes-1]
			return kn.sel(&keys[0], &idx[0], len(keys)/lanes, th, &out[0])
		},
	}
}

//go:noescape
func blockMax4AVX512(y *float32, n int, out *float32) bool

//go:noescape
func blockMax8AVX512(y *float32, n int, out *float32) bool

//go:noescape
func blockMax4AVX2(y *float32, n int, out *float32) bool

//go:noescape
func blockMax8AVX2(y *float32, n int, out *float32) bool

// blockMaxVec sets g[b] = max(y[b·block:(b+1)·block]) for a leading stretch
// of whole vectors of groups and returns how many scores it covered: 0
// without AVX2, for other blocks, or if a score there is NaN (Go's max
// propagates NaN and VMAXPS does not, so blockMax does such rows itself);
// the AVX2 kernels take 8 groups a step, the AVX-512 ones 16.
func blockMaxVec(g, y []float32, block int) int {
	if !useAVX2 || (block != 4 && block != 8) {
		return 0
	}
	lanes := 8
	k4, k8 := blockMax4AVX2, blockMax8AVX2
	if useAVX512 {
		lanes, k4, k8 = 16, blockMax4AVX512, blockMax8AVX512
	}
	step := lanes * block
	n := len(y) / step * step
	if n == 0 {
		return 0
	}
	_ = g[n/block-1]
	kern := k4
	if block == 8 {
		kern = k8
	}
	if kern(&y[0], n, &g[0]) {
		return 0
	}
	return n
}
