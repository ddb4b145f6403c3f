//go:build amd64 && !purego

package kernels

// The assembly kernels in int_amd64.s. Both the VNNI and the AVX2 kernels
// compute and write whole row lists, eight (VNNI) or four (AVX2) rows at a
// time. Each raw sum is Σw·x plus a bias of c·Σx that the sign trick of the
// kernel adds (c = 128 for INT8 VNNI, 8 for both INT4 kernels, 0 for INT8
// AVX2), which the kernel subtracts. The VNNI kernels take any number of
// columns; the AVX2 kernels take rows of at least 32 bytes, and their
// wrappers run shorter ones in Go.

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

// gemv4Int8AVX2 and gemv4Int4AVX2 compute and write the outputs of n >= 4
// rows, four at a time, as the VNNI kernels do (see int_amd64.s). x is the
// input (for INT4 split by splitInt4XAVX2), xt the tail step's input or nil
// (see tailInt8X, tailInt4X), stride the row length in bytes, at least 32.
//
//go:noescape
func gemv4Int8AVX2(x, xt, q *int8, stride int, idx *int32, n int, y, scales, b *float32, xscale float32)

//go:noescape
func gemv4Int4AVX2(xs, xt *int8, q *byte, stride int, idx *int32, n int, y, scales, b *float32, xscale float32, bias int32)

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
	n := numRows(y, idx)
	if cols < 32 || n == 0 {
		gemvInt8Generic(y, q, scales, cols, xq, xscale, b, idx)
		return
	}
	for _, v := range xq {
		if v == -128 { // beyond the VPSIGNB trick; see I8ROW4
			gemvInt8Generic(y, q, scales, cols, xq, xscale, b, idx)
			return
		}
	}
	var tail [32]int8
	xt := tailInt8X(&tail, xq)
	var pad [4]int32
	idx, n = padRows4(&pad, idx, n)
	gemv4Int8AVX2(&xq[0], xt, &q[0], cols, idxPtr(idx), n, &y[0], &scales[0], biasPtr(b), xscale)
}

// tailInt8X returns the input of the AVX2 kernel's tail step, which reads
// the last 32 bytes of a row: x's last 32 columns with those the full
// steps already cover set to zero, in t; nil when cols is a multiple of 32.
func tailInt8X(t *[32]int8, x []int8) *int8 {
	cols := len(x)
	full := cols &^ 31
	if full == cols {
		return nil
	}
	for j := range t {
		if c := cols - 32 + j; c >= full {
			t[j] = x[c]
		}
	}
	return &t[0]
}

func gemvInt4AVX2(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	n := numRows(y, idx)
	stride := int4RowBytes(cols)
	if stride < 32 || n == 0 {
		gemvInt4Generic(y, q, scales, cols, xq, xscale, b, idx)
		return
	}
	// The split input lives on the stack up to 4096 columns, as for VNNI.
	var buf [4096]int8
	xs := buf[:]
	if need := 2 * (stride &^ 31); need > len(xs) {
		xs = make([]int8, need)
	}
	splitInt4XAVX2(xs, xq, stride&^31)
	var tail [64]int8
	xt := tailInt4X(&tail, xq)
	var pad [4]int32
	idx, n = padRows4(&pad, idx, n)
	gemv4Int4AVX2(&xs[0], xt, &q[0], stride, idxPtr(idx), n, &y[0], &scales[0], biasPtr(b), xscale, 8*sumInt8(xq))
}

// splitInt4XAVX2 lays out the columns the full steps of gemv4Int4AVX2
// cover, the first 2·full: per 32 packed bytes (64 columns), the 32 even
// columns and then the 32 odd ones, which meet the low and the high
// nibbles of the row's bytes.
func splitInt4XAVX2(dst, x []int8, full int) {
	for blk := 0; blk < full; blk += 32 {
		c := 2 * blk
		d := dst[c : c+64 : c+64]
		if c+64 > len(x) { // the padding nibble of an odd cols meets 0
			d[63] = 0
			for t := range 32 {
				d[t] = x[c+2*t]
				if c+2*t+1 < len(x) {
					d[32+t] = x[c+2*t+1]
				}
			}
			continue
		}
		s := x[c : c+64 : c+64]
		for t := range 32 {
			d[t] = s[2*t]
			d[32+t] = s[2*t+1]
		}
	}
}

// tailInt4X returns the split input of the tail step, which reads the last
// 32 packed bytes of a row (columns 2·stride-64 onwards), with the columns
// the full steps cover or past the last one (the padding nibble of an odd
// cols) set to zero; nil when the full steps cover the row.
func tailInt4X(t *[64]int8, x []int8) *int8 {
	cols := len(x)
	stride := int4RowBytes(cols)
	full := stride &^ 31
	if full == stride {
		return nil
	}
	c0 := 2 * (stride - 32)
	for j := range 32 {
		for h := range 2 {
			if c := c0 + 2*j + h; c >= 2*full && c < cols {
				t[32*h+j] = x[c]
			}
		}
	}
	return &t[0]
}

// padRows4 is padRows for the four-row AVX2 kernels.
func padRows4(pad *[4]int32, idx []int32, n int) ([]int32, int) {
	if n >= 4 {
		return idx, n
	}
	for j := range pad {
		pad[j] = int32(rowAt(idx, min(j, n-1)))
	}
	return pad[:], 4
}

func sumInt8(x []int8) int32 {
	var s int32
	for _, v := range x {
		s += int32(v)
	}
	return s
}
