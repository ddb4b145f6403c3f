package sparse

import (
	"errors"
	"slices"
	"testing"

	"github.com/elasticml/elastic/sel"
)

func TestValidate(t *testing.T) {
	ok := func() Pattern {
		return Pattern{Rows: 2, Cols: 8, Block: 4, Ptr: []int32{0, 1, 3}, Idx: []int32{4, 0, 4}}
	}
	for _, tc := range []struct {
		name   string
		mutate func(p *Pattern)
	}{
		{"valid", func(*Pattern) {}},
		{"negative shape", func(p *Pattern) { p.Rows = -1 }},
		{"block 2", func(p *Pattern) { p.Block = 2 }},
		{"cols not whole blocks", func(p *Pattern) { p.Cols = 10 }},
		{"short ptr", func(p *Pattern) { p.Ptr = p.Ptr[:2] }},
		{"ptr not from 0", func(p *Pattern) { p.Ptr[0] = 1 }},
		{"ptr end", func(p *Pattern) { p.Ptr[2] = 2 }},
		{"decreasing ptr", func(p *Pattern) { p.Ptr[1] = 4 }},
		{"unsorted row", func(p *Pattern) { p.Idx = []int32{4, 4, 0} }},
		{"repeat", func(p *Pattern) { p.Idx = []int32{4, 4, 4} }},
		{"off block", func(p *Pattern) { p.Idx = []int32{4, 0, 5} }},
		{"outside", func(p *Pattern) { p.Idx = []int32{8, 0, 4} }},
		{"negative index", func(p *Pattern) { p.Idx = []int32{-4, 0, 4} }},
	} {
		p := ok()
		tc.mutate(&p)
		err := p.Validate()
		if (tc.name == "valid") != (err == nil) {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, ErrPattern) {
			t.Errorf("%s: %v does not wrap ErrPattern", tc.name, err)
		}
	}
}

func TestFromListsMask(t *testing.T) {
	p, err := FromLists(8, 4, [][]int32{{4}, {}, {0, 4}})
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{
		false, false, false, false, true, true, true, true,
		false, false, false, false, false, false, false, false,
		true, true, true, true, true, true, true, true,
	}
	if got := p.Mask(); !slices.Equal(got, want) {
		t.Errorf("Mask = %v, want %v", got, want)
	}
	if p.NNZ() != 12 || p.Density() != 0.5 {
		t.Errorf("NNZ %d density %v, want 12 and 0.5", p.NNZ(), p.Density())
	}
	if _, err := FromLists(8, 1, [][]int32{{3, 1}}); !errors.Is(err, ErrPattern) {
		t.Errorf("unsorted list: %v, want ErrPattern", err)
	}
}

// A per-row top-k selection from package sel is a valid pattern whose
// rows are the k largest entries of each row.
func TestFromRowTopK(t *testing.T) {
	const rows, cols, k = 3, 7, 2
	x := []float32{
		1, 9, 3, 8, 0, 0, 0,
		5, 0, 0, 0, 0, 0, 6,
		0, 1, 2, 3, 4, 5, 6,
	}
	idx := make([]int32, rows*k)
	idx = sel.RowTopK{K: k}.SelectRows(idx, x, rows, cols, make([]int32, cols))
	p, err := FromRowTopK(rows, cols, k, idx)
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range [][]int32{{1, 3}, {0, 6}, {5, 6}} {
		if got := p.Row(r); !slices.Equal(got, want) {
			t.Errorf("row %d = %v, want %v", r, got, want)
		}
	}
	if _, err := FromRowTopK(rows, cols, k, idx[:5]); !errors.Is(err, ErrPattern) {
		t.Errorf("short idx: %v, want ErrPattern", err)
	}
}

// FuzzValidate: Validate never panics, and a pattern it accepts is safe to
// walk (every row slice and every block inside the matrix).
func FuzzValidate(f *testing.F) {
	f.Add(2, 8, 4, []byte{0, 1, 3}, []byte{4, 0, 4})
	f.Add(1, 3, 1, []byte{0, 4}, []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, rows, cols, block int, ptr, idx []byte) {
		if rows > 64 || cols > 1<<12 {
			return
		}
		p := Pattern{Rows: rows, Cols: cols, Block: block}
		for _, v := range ptr {
			p.Ptr = append(p.Ptr, int32(v))
		}
		for _, v := range idx {
			p.Idx = append(p.Idx, int32(v)-8)
		}
		if p.Validate() != nil {
			return
		}
		_ = p.Mask()
	})
}
