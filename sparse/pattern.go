package sparse

import (
	"errors"
	"fmt"
)

// ErrPattern reports a pattern that breaks an invariant of Pattern.
var ErrPattern = errors.New("sparse: bad pattern")

// Pattern selects columns of a Rows×Cols matrix, row by row. Row r keeps
// the entries Idx[Ptr[r]:Ptr[r+1]], ascending; with Block b > 1 each index
// is the first of b consecutive columns (a multiple of b), as in the 1×4
// and 1×8 column-vector blocks of sparse attention.
type Pattern struct {
	Rows, Cols int
	Block      int     // 1, 4 or 8
	Ptr        []int32 // length Rows+1, Ptr[0] = 0, non-decreasing
	Idx        []int32
}

// Row returns the indices row r keeps.
func (p *Pattern) Row(r int) []int32 { return p.Idx[p.Ptr[r]:p.Ptr[r+1]] }

// NNZ returns the number of matrix entries the pattern keeps: indices
// times the block width.
func (p *Pattern) NNZ() int { return len(p.Idx) * p.Block }

// Density returns NNZ over Rows·Cols, 0 for an empty matrix; the
// sparsity of the thesis's figures is 1 − Density.
func (p *Pattern) Density() float64 {
	if p.Rows == 0 || p.Cols == 0 {
		return 0
	}
	return float64(p.NNZ()) / (float64(p.Rows) * float64(p.Cols))
}

// Validate returns an error wrapping ErrPattern unless: the shape is
// non-negative, Block is 1, 4 or 8 and divides Cols, Ptr has Rows+1
// non-decreasing entries from 0 to len(Idx), and every row's indices are
// strictly ascending multiples of Block inside [0, Cols).
func (p *Pattern) Validate() error {
	switch {
	case p.Rows < 0 || p.Cols < 0:
		return fmt.Errorf("%w: shape %d×%d", ErrPattern, p.Rows, p.Cols)
	case p.Block != 1 && p.Block != 4 && p.Block != 8:
		return fmt.Errorf("%w: block %d, want 1, 4 or 8", ErrPattern, p.Block)
	case p.Cols%p.Block != 0:
		return fmt.Errorf("%w: %d columns are not whole blocks of %d", ErrPattern, p.Cols, p.Block)
	case len(p.Ptr) != p.Rows+1:
		return fmt.Errorf("%w: %d row pointers for %d rows", ErrPattern, len(p.Ptr), p.Rows)
	case p.Ptr[0] != 0 || int(p.Ptr[p.Rows]) != len(p.Idx):
		return fmt.Errorf("%w: row pointers run from %d to %d over %d indices", ErrPattern, p.Ptr[0], p.Ptr[p.Rows], len(p.Idx))
	}
	for r := range p.Rows {
		lo, hi := p.Ptr[r], p.Ptr[r+1]
		if hi < lo || int(hi) > len(p.Idx) {
			return fmt.Errorf("%w: row %d runs from %d to %d over %d indices", ErrPattern, r, lo, hi, len(p.Idx))
		}
		prev := int32(-1)
		for _, c := range p.Idx[lo:hi] {
			if c <= prev || c < 0 || int(c) >= p.Cols || int(c)%p.Block != 0 {
				return fmt.Errorf("%w: row %d index %d after %d (want ascending multiples of %d in [0, %d))", ErrPattern, r, c, prev, p.Block, p.Cols)
			}
			prev = c
		}
	}
	return nil
}

// FromLists returns the pattern keeping lists[r] in row r; the lists are
// copied. It returns an error wrapping ErrPattern if the result is not
// valid.
func FromLists(cols, block int, lists [][]int32) (*Pattern, error) {
	p := &Pattern{Rows: len(lists), Cols: cols, Block: block, Ptr: make([]int32, len(lists)+1)}
	for r, l := range lists {
		p.Idx = append(p.Idx, l...)
		p.Ptr[r+1] = int32(len(p.Idx))
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// FromRowTopK returns the pattern of a per-row top-k selection, k indices
// a row in rows×k idx as sel.RowTopK.SelectRows writes them (each row's
// ascending). idx is aliased, not copied. It returns an error wrapping
// ErrPattern if the shapes disagree or the result is not valid.
func FromRowTopK(rows, cols, k int, idx []int32) (*Pattern, error) {
	if rows < 0 || k < 0 || len(idx) != rows*k {
		return nil, fmt.Errorf("%w: %d indices for %d rows of %d", ErrPattern, len(idx), rows, k)
	}
	p := &Pattern{Rows: rows, Cols: cols, Block: 1, Ptr: make([]int32, rows+1), Idx: idx}
	for r := range rows {
		p.Ptr[r+1] = int32((r + 1) * k)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Mask returns the pattern as a dense row-major Rows×Cols mask.
func (p *Pattern) Mask() []bool {
	m := make([]bool, p.Rows*p.Cols)
	for r := range p.Rows {
		row := m[r*p.Cols : (r+1)*p.Cols]
		for _, c := range p.Row(r) {
			for j := range p.Block {
				row[int(c)+j] = true
			}
		}
	}
	return m
}
