package sel

import "fmt"

// Assemble computes eq. 3.5, y = y_exact ⊙ m + y_approx ⊙ (1 − m), into
// dst, with the mask m given as booleans (true = sensitive). It selects
// rather than multiplies because rows the exact module skipped may hold
// anything, and 0·NaN would leak. dst may alias exact or approx. It panics
// if the lengths differ.
func Assemble(dst, exact, approx []float32, m []bool) {
	n := len(dst)
	if len(exact) != n || len(approx) != n || len(m) != n {
		panic(fmt.Sprintf("sel: Assemble: lengths dst=%d exact=%d approx=%d m=%d", n, len(exact), len(approx), len(m)))
	}
	for i := range dst {
		if m[i] {
			dst[i] = exact[i]
		} else {
			dst[i] = approx[i]
		}
	}
}

// AssembleIndex computes eq. 3.5 in the executor's scatter form: dst is set
// to approx and then dst[r] = exact[r] for every r in idx. exact is
// full-length, as kernels.GemvGather leaves it, and only its listed rows
// are read. When dst and approx are the same slice the copy is skipped and
// the cost is O(len(idx)).
//
// An executor does better still by skipping exact altogether: copy approx
// into y and let kernels.GemvGather(y, W, cols, x, b, idx) overwrite the
// selected rows in place. It panics on length mismatch or an index out of
// range.
func AssembleIndex(dst, exact, approx []float32, idx []int32) {
	n := len(dst)
	if len(exact) != n || len(approx) != n {
		panic(fmt.Sprintf("sel: AssembleIndex: lengths dst=%d exact=%d approx=%d", n, len(exact), len(approx)))
	}
	checkIndex("AssembleIndex", idx, n)
	if n > 0 && &dst[0] != &approx[0] {
		copy(dst, approx)
	}
	for _, r := range idx {
		dst[r] = exact[r]
	}
}

// Mask writes the mask m of eq. 3.5 for the sensitive indices idx: m[i] is
// true exactly when i is listed. It panics if an index is out of range.
func Mask(m []bool, idx []int32) {
	checkIndex("Mask", idx, len(m))
	clear(m)
	for _, r := range idx {
		m[r] = true
	}
}

// Indices stores the ascending indices of the true entries of m in dst's
// backing array and returns the slice; it inverts Mask.
func Indices(dst []int32, m []bool) []int32 {
	dst = dst[:0]
	for i, v := range m {
		if v {
			dst = append(dst, int32(i))
		}
	}
	return dst
}

// InsensitiveRatio returns the fraction of n outputs that a selection of
// nSensitive leaves to the approximate module, the knob of Table 3.2.
func InsensitiveRatio(nSensitive, n int) float64 {
	if n == 0 {
		return 0
	}
	return 1 - float64(nSensitive)/float64(n)
}

func checkIndex(op string, idx []int32, n int) {
	for _, r := range idx {
		if r < 0 || int(r) >= n {
			panic(fmt.Sprintf("sel: %s: index %d out of range [0, %d)", op, r, n))
		}
	}
}
