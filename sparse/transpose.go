package sparse

import "fmt"

// Transpose returns the Cols×Rows pattern that keeps entry (c, r) exactly
// when p keeps (r, c): for each column of p, the ascending rows keeping
// it. A sparse trainer needs both directions of one mask — rows to gather
// each sample's outputs, columns to accumulate each output's weight
// gradient without write conflicts. dst's slices are reused when large
// enough (dst may be nil). It panics unless p.Block is 1.
func (p *Pattern) Transpose(dst *Pattern) *Pattern {
	if p.Block != 1 {
		panic(fmt.Sprintf("sparse: Transpose of a pattern of %d-column blocks", p.Block))
	}
	if dst == nil {
		dst = new(Pattern)
	}
	dst.Rows, dst.Cols, dst.Block = p.Cols, p.Rows, 1
	dst.Ptr = growInt32(dst.Ptr, p.Cols+1)
	dst.Idx = growInt32(dst.Idx, len(p.Idx))
	clear(dst.Ptr)
	for _, c := range p.Idx {
		dst.Ptr[c+1]++
	}
	for c := range p.Cols {
		dst.Ptr[c+1] += dst.Ptr[c]
	}
	// Rows are visited in order, so each column's list comes out
	// ascending; next[c] is where column c's next row goes.
	next := dst.Ptr[:p.Cols] // advanced in place, then restored below
	for r := range p.Rows {
		for _, c := range p.Row(r) {
			dst.Idx[next[c]] = int32(r)
			next[c]++
		}
	}
	// next[c] now holds the end of column c, which is Ptr[c+1]: shift back.
	copy(dst.Ptr[1:], dst.Ptr[:p.Cols])
	dst.Ptr[0] = 0
	return dst
}

func growInt32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}
