package speculate

// Row-structured outputs — attention's scores, one row per query against
// every key — are speculated and selected a block of rows at a time and
// executed on the selection as a whole, not one input vector at a time:
// the approximate rows (S̃ = Q̃K̃ᵀ) exist only while the selector reads
// them (kernels.PredictTopK keeps eight), and the sparse kernels want a
// head's whole pattern. RowSelector is Fused at that granularity and
// RowExecutor is Executor; a selection is a compressed-row list, the form
// of sparse.Pattern's Ptr and Idx.

// RowSelector speculates and selects for each of its rows: SelectRows
// appends each row's ascending selected columns to idx and, after each
// row, the new len(idx) to ptr, and returns both (ptr's offsets are into
// the whole idx, so several selectors can append to one pattern).
type RowSelector interface {
	SelectRows(ptr []int, idx []int32) ([]int, []int32)
}

// RowExecutor computes exact outputs on a selection: ExecuteRows sets out
// from the rows whose columns are idx[ptr[r]:ptr[r+1]], r < len(ptr)−1,
// reading nothing of the unselected columns (they are dropped, as Step's
// Drop does).
type RowExecutor interface {
	ExecuteRows(out []float32, ptr []int, idx []int32)
}

// RowStep is Step for row-structured outputs: Select then Execute on the
// rows just selected. Its ptr and idx are the caller's, so one pattern can
// hold several steps' rows (a layer's heads and sequences).
type RowStep struct {
	Sel  RowSelector
	Exec RowExecutor
}

// Select appends Sel's rows to the pattern (ptr, idx) — ptr must hold at
// least its starting offset — and returns it with the first new row's
// position in ptr.
func (s RowStep) Select(ptr []int, idx []int32) ([]int, []int32, int) {
	r0 := len(ptr) - 1
	ptr, idx = s.Sel.SelectRows(ptr, idx)
	return ptr, idx, r0
}

// Execute runs Exec on the rows of (ptr, idx) from row r0 on.
func (s RowStep) Execute(out []float32, ptr []int, idx []int32, r0 int) {
	s.Exec.ExecuteRows(out, ptr[r0:], idx)
}

// Run is Select then Execute on the new rows.
func (s RowStep) Run(out []float32, ptr []int, idx []int32) ([]int, []int32) {
	ptr, idx, r0 := s.Select(ptr, idx)
	s.Execute(out, ptr, idx, r0)
	return ptr, idx
}
