package kernels

import (
	"fmt"
	"math"
	"testing"
)

// halfImpl is one implementation of the float16 kernels, so each can be
// tested directly whatever the dispatcher would pick on this CPU.
type halfImpl struct {
	name   string
	ok     bool // the CPU can run it
	to     func(dst []uint16, src []float32)
	from   func(dst []float32, src []uint16)
	gemv   func(y []float32, w []uint16, cols int, x []float32)
	gather func(y []float32, w []uint16, cols int, x []float32, idx []int32)
}

func genericHalfImpl() halfImpl {
	return halfImpl{
		name: "generic", ok: true,
		to: toHalfGeneric, from: fromHalfGeneric, gemv: gemvHalfGeneric, gather: gemvHalfGatherGeneric,
	}
}

func runHalfImpls(t *testing.T, f func(t *testing.T, im halfImpl)) {
	for _, im := range halfImpls() {
		t.Run(im.name, func(t *testing.T) {
			if !im.ok {
				t.Skipf("CPU lacks %s", im.name)
			}
			f(t, im)
		})
	}
}

// halfGuard is a binary16 NaN with a recognisable payload: a kernel that
// reads it turns its row's result into NaN.
const halfGuard = 0x7dea

// guardedHalf is guarded for binary16 weights: n values from fill, as
// binary16, at element offset align, between runs of halfGuard.
func guardedHalf(n, align int, fill func(i int) float32) (s []uint16, check func(t *testing.T, name string)) {
	buf := make([]uint16, align+guardLen+n+guardLen)
	for i := range buf {
		buf[i] = halfGuard
	}
	s = buf[align+guardLen : align+guardLen+n : align+guardLen+n]
	v := make([]float32, n)
	for i := range v {
		v[i] = fill(i)
	}
	toHalfGeneric(s, v)
	check = func(t *testing.T, name string) {
		t.Helper()
		for i, h := range buf {
			if (i < align+guardLen || i >= align+guardLen+n) && h != halfGuard {
				t.Fatalf("%s: guard overwritten at %d", name, i-align-guardLen)
			}
		}
	}
	return s, check
}

// checkHalfRow compares got to the float64 dot product of the binary16 row
// w and x.
func checkHalfRow(t *testing.T, what string, got float32, w []uint16, x []float32) {
	t.Helper()
	var want, mag float64
	for j, h := range w {
		p := halfValue(h) * float64(x[j])
		want += p
		mag += math.Abs(p)
	}
	if math.IsInf(want, 0) {
		if float64(got) != want {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
		return
	}
	if d := math.Abs(float64(got) - want); !(d <= dotTol(mag)) {
		t.Fatalf("%s: got %v, want %v (|diff| %g > %g)", what, got, want, d, dotTol(mag))
	}
}

// halfCols are the row lengths of the float16 conformance tests: every
// length through 70 (below, at and around the 8-, 16- and 32-column
// blocks of the kernels), then long ragged rows.
func halfCols() []int {
	var c []int
	for n := range 71 {
		c = append(c, n)
	}
	return append(c, 127, 129, 515)
}

func TestHalfGemvConformance(t *testing.T) {
	runHalfImpls(t, func(t *testing.T, im halfImpl) {
		testGemv(t, []int{0, 1, 2, 3, 4, 5, 7, 9, 14}, halfCols(), guardedHalf, im.gemv, checkHalfRow)
	})
}

func TestHalfGemvGatherConformance(t *testing.T) {
	runHalfImpls(t, func(t *testing.T, im halfImpl) {
		testGather(t, []int{1, 3, 6, 13}, halfCols(), guardedHalf, im.gather, checkHalfRow)
	})
}

// TestHalfGemvInf puts one ±Inf weight in each row, at every column in
// turn, then one ±Inf in x: each result must be an infinity, so a kernel
// that multiplies a weight or an element of x by a cleared lane of the
// other (0·Inf = NaN), as a careless overlapping tail would, fails.
func TestHalfGemvInf(t *testing.T) {
	runHalfImpls(t, func(t *testing.T, im halfImpl) {
		const rows = 5
		for _, cols := range halfCols()[1:] {
			for at := range cols {
				for _, inX := range []bool{false, true} {
					w, _ := guardedHalf(rows*cols, 0, signedFill(uint64(cols)))
					x, _ := guarded(cols, 1, signedFill(uint64(cols)+9))
					if inX {
						x[at] = float32(math.Inf(1))
					} else {
						for i := range rows {
							w[i*cols+(at+i)%cols] = 0x7c00 | uint16(i&1)<<15 // +Inf, -Inf, ...
						}
					}
					y := make([]float32, rows)
					im.gemv(y, w, cols, x)
					for i := range rows {
						checkHalfRow(t, fmt.Sprintf("cols=%d at=%d inX=%v y[%d]", cols, at, inX, i), y[i], w[i*cols:(i+1)*cols], x)
					}
				}
			}
		}
	})
}
