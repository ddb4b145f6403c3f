package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// intRowCounts are the row counts the multi-row kernels must handle: fewer
// than a group, and group multiples and their neighbours, where the last
// group is short and is moved back over rows already written.
var intRowCounts = []int{1, 2, 3, 5, 7, 8, 9, 12, 13, 15, 16, 17, 23, 24, 25, 31, 33, 67}

// intColCounts are every odd column count below 300, the widths where
// INT4 rows end in a half-used byte and INT8 rows in a partial vector, and
// the short-row shapes the kernels are tuned for (128, 417).
func intColCounts() []int {
	var cols []int
	for c := 1; c < 300; c += 2 {
		cols = append(cols, c)
	}
	return append(cols, 2, 64, 128, 192, 256, 417, 1000)
}

// intIndexLists returns the row lists a gather runs for a matrix of rows
// rows: sorted and unsorted halves, every row reversed, and lists with
// repeated rows, which must produce the same outputs as single ones.
func intIndexLists(r *rand.Rand, rows int) map[string][]int32 {
	half := intSubset(r, rows, (rows+1)/2)
	sorted := slices.Clone(half)
	slices.Sort(sorted)
	rev := make([]int32, rows)
	for i := range rev {
		rev[i] = int32(rows - 1 - i)
	}
	rep := make([]int32, rows+3)
	for i := range rep {
		rep[i] = int32(r.IntN(rows))
	}
	return map[string][]int32{"unsorted": half, "sorted": sorted, "reversed": rev, "repeats": rep, "one": {int32(rows - 1)}}
}

// TestGemvIntRows holds every implementation to the pure-Go twin bit for
// bit, dense and gathered, over many row and column counts, and checks the
// twin itself against the exact integer sums and the float64 reference.
func TestGemvIntRows(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	for _, cols := range intColCounts() {
		for _, rows := range intRowCounts {
			for _, unit := range []bool{true, false} {
				c := newIntCase(rows, cols, rows%3, randInt8(r, -8, 7), randInt8(r, -127, 127), unit, uint64(rows*1000+cols))
				name := fmt.Sprintf("%dx%d/unit=%v", rows, cols, unit)
				lists := intIndexLists(r, rows)
				lists["dense"] = nil
				for lname, idx := range lists {
					want8 := make([]float32, rows)
					gemvInt8Generic(want8, c.q8, c.scales, cols, c.xq, c.xscale, c.b, idx)
					c.verify(t, "int8 generic "+name+" "+lname, want8, idx, unit)
					want4 := make([]float32, rows)
					gemvInt4Generic(want4, c.q4, c.scales, cols, c.xq, c.xscale, c.b, idx)
					assertSameBitsInt(t, "int4 generic vs int8 generic "+name+" "+lname, want4, want8)
					for _, im := range int8Impls()[1:] {
						y, chk := guarded(rows, 2, func(int) float32 { return 0 })
						im.fn(y, c.q8, c.scales, cols, c.xq, c.xscale, c.b, idx)
						assertSameBitsInt(t, "int8 "+im.name+" "+name+" "+lname, y, want8)
						chk(t, "int8 "+im.name+" "+name+" "+lname)
					}
					for _, im := range int4Impls()[1:] {
						y, chk := guarded(rows, 2, func(int) float32 { return 0 })
						im.fn(y, c.q4, c.scales, cols, c.xq, c.xscale, c.b, idx)
						assertSameBitsInt(t, "int4 "+im.name+" "+name+" "+lname, y, want4)
						chk(t, "int4 "+im.name+" "+name+" "+lname)
					}
				}
				c.checkGuards(t, name)
			}
		}
	}
}

// TestGemvIntBiasAliasesY runs y = Qx + y in place. Every implementation
// must read b[r] before it writes y[r] and never write a row twice, or a
// row would get its bias added twice.
func TestGemvIntBiasAliasesY(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 22))
	for _, rows := range intRowCounts {
		for _, cols := range []int{1, 33, 128, 417} {
			c := newIntCase(rows, cols, 0, randInt8(r, -8, 7), randInt8(r, -127, 127), false, uint64(rows+cols))
			idx := intSubset(r, rows, (rows+1)/2)
			for _, sel := range [][]int32{nil, idx} {
				name := fmt.Sprintf("%dx%d gather=%v", rows, cols, sel != nil)
				want := slices.Clone(c.b)
				gemvInt8Generic(want, c.q8, c.scales, cols, c.xq, c.xscale, slices.Clone(c.b), sel)
				for _, im := range int8Impls() {
					y := slices.Clone(c.b)
					im.fn(y, c.q8, c.scales, cols, c.xq, c.xscale, y, sel)
					assertSameBitsInt(t, "int8 "+im.name+" "+name, y, want)
				}
				for _, im := range int4Impls() {
					y := slices.Clone(c.b)
					im.fn(y, c.q4, c.scales, cols, c.xq, c.xscale, y, sel)
					assertSameBitsInt(t, "int4 "+im.name+" "+name, y, want)
				}
			}
		}
	}
}
