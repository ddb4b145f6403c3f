//go:build amd64 && !purego

package kernels

// The assembly kernels in int_amd64.s. The VNNI kernels compute and write
// whole row lists; the AVX2 kernels compute the raw int32 sums of four rows
// starting at r0..r3 and are driven from Go. Each raw sum is Σw·x plus a
// bias of c·Σx that the sign trick of the kernel adds (c = 128 for INT8
// VNNI, 8 for both INT4 kernels, 0 for INT8 AVX2). The AVX2 kernels take
// only len(x) a positive multiple of 32 (INT8) or 64 (INT4); the VNNI
// kernels take any number of columns.

// splitInt4X writes x to dst as gemv8Int4VNNI wants it: per block of 128
// columns the 64 even columns, then the 64 odd ones, zero-padded to whole
// blocks. len(dst) must be at least len(x) rounded up to a multiple of 128.
//
//go:noescape
func splitInt4X(dst, x []int8)

// gemv8Int8VNNI and gemv8Int4VNNI compute and write the outputs of n >= 8
// rows, eight at a time: rows 0..n-1 of q, y, scales and b, or the rows
// idx[0..n-1] when idx is not nil; b may be nil. x is the input (for INT4
// split by splitInt4X), stride the row length in bytes, and bias the sum
// c·Σx the kernel's sign trick adds, which it subtracts.
//
//go:noescape
func gemv8Int8VNNI(x []int8, q *int8, stride int, idx *int32, n int, y, scales, b *float32, xscale float32, bias int32)

//go:noescape
func gemv8Int4VNNI(xs []int8, q *byte, stride int, idx *int32, n int, y, scales, b *float32, xscale float32, bias int32)

//go:noescape
func dot4Int8AVX2(x []int8, r0, r1, r2, r3 *int8, out *[4]int32)

//go:noescape
func dot4Int4AVX2(x []int8, r0, r1, r2, r3 *byte, out *[4]int32)

func gemvInt8(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	switch {
	case useVNNI:
		gemvInt8VNNI(y, q, scales, cols, xq, xscale, b, idx)
	case useAVX2:
		gemvInt8AVX2(y, q, scales, cols, xq, xscale, b, idx)
	default:
		gemvInt8Generic(y, q, scales, cols, xq, xscale, b, idx)
	}
}

func gemvInt4(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	switch {
	case useVNNI:
		gemvInt4VNNI(y, q, scales, cols, xq, xscale, b, idx)
	case useAVX2:
		gemvInt4AVX2(y, q, scales, cols, xq, xscale, b, idx)
	default:
		gemvInt4Generic(y, q, scales, cols, xq, xscale, b, idx)
	}
}

// int8Impls and int4Impls list every implementation this CPU can run, for
// the conformance tests and benchmarks.
func int8Impls() []namedInt8 {
	impls := []namedInt8{{"generic", gemvInt8Generic}}
	if useAVX2 {
		impls = append(impls, namedInt8{"avx2", gemvInt8AVX2})
	}
	if useVNNI {
		impls = append(impls, namedInt8{"vnni", gemvInt8VNNI})
	}
	return impls
}

func int4Impls() []namedInt4 {
	impls := []namedInt4{{"generic", gemvInt4Generic}}
	if useAVX2 {
		impls = append(impls, namedInt4{"avx2", gemvInt4AVX2})
	}
	if useVNNI {
		impls = append(impls, namedInt4{"vnni", gemvInt4VNNI})
	}
	return impls
}

func gemvInt8VNNI(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	n := numRows(y, idx)
	if cols == 0 || n == 0 { // nothing to read, and no q[0] to point at
		gemvInt8Generic(y, q, scales, cols, xq, xscale, b, idx)
		return
	}
	var pad [8]int32
	idx, n = padRows(&pad, idx, n)
	gemv8Int8VNNI(xq, &q[0], cols, idxPtr(idx), n, &y[0], &scales[0], biasPtr(b), xscale, 128*sumInt8(xq))
}

func gemvInt4VNNI(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	n := numRows(y, idx)
	if cols == 0 || n == 0 {
		gemvInt4Generic(y, q, scales, cols, xq, xscale, b, idx)
		return
	}
	// The split input lives on the stack up to 4096 columns, which covers
	// the common shapes, and on the heap beyond.
	var buf [4096]int8
	xs := buf[:]
	if need := (cols + 127) &^ 127; need > len(xs) {
		xs = make([]int8, need)
	}
	splitInt4X(xs, xq)
	var pad [8]int32
	idx, n = padRows(&pad, idx, n)
	gemv8Int4VNNI(xs, &q[0], int4RowBytes(cols), idxPtr(idx), n, &y[0], &scales[0], biasPtr(b), xscale, 8*sumInt8(xq))
}

// padRows returns idx and n unchanged when n >= 8, the least the eight-row
// kernels take. Fewer rows it lists in pad, the last repeated to fill it:
// the repeats compute and store the same value again.
func padRows(pad *[8]int32, idx []int32, n int) ([]int32, int) {
	if n >= 8 {
		return idx, n
	}
	for j := range pad {
		pad[j] = int32(rowAt(idx, min(j, n-1)))
	}
	return pad[:], 8
}

func idxPtr(idx []int32) *int32 {
	if idx == nil {
		return nil
	}
	return &idx[0]
}

func biasPtr(b []float32) *float32 {
	if b == nil {
		return nil
	}
	return &b[0]
}

func gemvInt8AVX2(y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	for _, v := range xq {
		if v == -128 { // beyond the VPSIGNB trick; see dot4Int8AVX2
			gemvInt8Generic(y, q, scales, cols, xq, xscale, b, idx)
			return
		}
	}
	gemvInt8By4(cols&^31, y, q, scales, cols, xq, xscale, b, idx)
}

func gemvInt4AVX2(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	gemvInt4By4(cols&^63, y, q, scales, cols, xq, xscale, b, idx)
}

// gemvInt8By4 runs dot4Int8AVX2 over the first head columns of the rows
// four at a time, adds the remaining columns in Go, and writes the outputs.
// The kernel is called directly, not through a func value, so that d stays
// on the stack.
func gemvInt8By4(head int, y []float32, q []int8, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	n := numRows(y, idx)
	var rs [4]int
	for k := 0; k < n; k += 4 {
		rowGroup(&rs, idx, n, k)
		var d [4]int32
		if head > 0 {
			dot4Int8AVX2(xq[:head], &q[rs[0]*cols], &q[rs[1]*cols], &q[rs[2]*cols], &q[rs[3]*cols], &d)
		}
		for j, r := range rs[:min(4, n-k)] {
			s := d[j]
			if head < cols {
				s += dotInt8(q[r*cols+head:r*cols+cols], xq[head:])
			}
			y[r] = intEpilogue(s, r, scales, xscale, b)
		}
	}
}

// gemvInt4By4 is gemvInt8By4 for packed INT4 rows and dot4Int4AVX2, which
// adds the bias 8·Σx over the head columns; head must be even.
func gemvInt4By4(head int, y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	stride := int4RowBytes(cols)
	bias := 8 * sumInt8(xq[:head])
	n := numRows(y, idx)
	var rs [4]int
	for k := 0; k < n; k += 4 {
		rowGroup(&rs, idx, n, k)
		var d [4]int32
		if head > 0 {
			dot4Int4AVX2(xq[:head], &q[rs[0]*stride], &q[rs[1]*stride], &q[rs[2]*stride], &q[rs[3]*stride], &d)
		}
		for j, r := range rs[:min(4, n-k)] {
			s := d[j] - bias
			if head < cols {
				s += dotInt4(q[r*stride+head/2:r*stride+stride], xq[head:])
			}
			y[r] = intEpilogue(s, r, scales, xscale, b)
		}
	}
}

// rowGroup sets g to the four rows starting at the k-th of the n a kernel
// computes; a final group of fewer than four repeats its last row.
func rowGroup(g *[4]int, idx []int32, n, k int) {
	m := min(4, n-k)
	for j := range g {
		g[j] = rowAt(idx, k+min(j, m-1))
	}
}

func sumInt8(x []int8) int32 {
	var s int32
	for _, v := range x {
		s += int32(v)
	}
	return s
}
