package sparse

import (
	"math/rand/v2"
	"testing"
)

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var dst *Pattern
	for _, sh := range [][2]int{{1, 1}, {5, 7}, {9, 3}, {0, 4}, {4, 0}, {30, 17}} {
		rows, cols := sh[0], sh[1]
		lists := make([][]int32, rows)
		for r := range lists {
			for c := range cols {
				if rng.IntN(3) == 0 {
					lists[r] = append(lists[r], int32(c))
				}
			}
		}
		p, err := FromLists(cols, 1, lists)
		if err != nil {
			t.Fatal(err)
		}
		dst = p.Transpose(dst)
		if err := dst.Validate(); err != nil {
			t.Fatalf("%d×%d: %v", rows, cols, err)
		}
		if dst.Rows != cols || dst.Cols != rows || dst.NNZ() != p.NNZ() {
			t.Fatalf("%d×%d: transpose is %d×%d with %d entries, want %d×%d with %d", rows, cols, dst.Rows, dst.Cols, dst.NNZ(), cols, rows, p.NNZ())
		}
		m, mt := p.Mask(), dst.Mask()
		for r := range rows {
			for c := range cols {
				if m[r*cols+c] != mt[c*rows+r] {
					t.Fatalf("%d×%d: entry (%d, %d) is %v, transposed %v", rows, cols, r, c, m[r*cols+c], mt[c*rows+r])
				}
			}
		}
	}
}
