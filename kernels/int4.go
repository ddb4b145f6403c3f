package kernels

// int4RowBytes returns the bytes one packed INT4 row of cols columns takes:
// two columns per byte, the last byte half used when cols is odd.
func int4RowBytes(cols int) int { return (cols + 1) / 2 }

// GemvInt4 is GemvInt8 for an INT4 matrix. Each row of q takes
// (cols+1)/2 bytes; byte t holds column 2t in its low nibble and
// column 2t+1 in its high nibble, each stored as w+8 for w in [-8, 7]. When
// cols is odd the high nibble of a row's last byte is padding and is
// ignored. For every row i,
//
//	y[i] = scales[i]·xscale·Σ_j w[i,j]·xq[j] + b[i],
//
// with exact integer sums. It panics if cols is negative or above
// MaxIntCols, len(q) != len(y)*((cols+1)/2), len(scales) != len(y),
// len(xq) != cols, or b is neither nil nor of length len(y).
func GemvInt4(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32) {
	checkInt4("GemvInt4", y, q, scales, cols, xq, b)
	gemvInt4(y, q, scales, cols, xq, xscale, b, nil)
}

// GemvInt4Gather computes y[r] as GemvInt4 does for every row r listed in
// idx. Other entries of y keep their values, and other rows of q and scales
// (and b) are never read. It panics on the shape errors of GemvInt4 and if
// an index lies outside [0, len(y)).
func GemvInt4Gather(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	checkInt4("GemvInt4Gather", y, q, scales, cols, xq, b)
	checkGatherIndex("GemvInt4Gather", idx, len(y))
	if len(idx) > 0 {
		gemvInt4(y, q, scales, cols, xq, xscale, b, idx)
	}
}

// GemvInt4 is the multithreaded form of the package-level GemvInt4: the rows
// are split among the pool's workers.
func (p *Pool) GemvInt4(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32) {
	if p == nil {
		GemvInt4(y, q, scales, cols, xq, xscale, b)
		return
	}
	checkInt4("Pool.GemvInt4", y, q, scales, cols, xq, b)
	stride := int4RowBytes(cols)
	p.For(len(y), intGrain(stride), func(lo, hi int) {
		gemvInt4(y[lo:hi], q[lo*stride:hi*stride], scales[lo:hi], cols, xq, xscale, subBias(b, lo, hi), nil)
	})
}

// GemvInt4TopK is GemvInt4 followed by TopK(idx, y, k, false), fused: the
// rows are computed in blocks, and the selection streams through each
// block's outputs while they are still in cache, so y is not read a second
// time. y is set in full and the selection and threshold are exactly
// TopK's. It panics on the shape errors of GemvInt4 and the argument
// errors of TopK. When k is too large a share of len(y) for streaming it
// runs GemvInt4 and TopK in turn.
func GemvInt4TopK(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, k int, idx []int32) (sel []int32, thresh float32) {
	checkInt4("GemvInt4TopK", y, q, scales, cols, xq, b)
	checkTopKArgs("GemvInt4TopK", idx, y, k)
	return gemvInt4TopK(y, q, scales, cols, xq, xscale, b, k, idx)
}

func gemvInt4TopK(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, k int, idx []int32) ([]int32, float32) {
	n := len(y)
	if k == 0 || k > n/streamMinRatio {
		gemvInt4(y, q, scales, cols, xq, xscale, b, nil)
		return TopK(idx, y, k, false)
	}
	stride := int4RowBytes(cols)
	g := intGrain(stride)
	s := newTopKStream(idx, k, false)
	for lo := 0; lo < n; lo += g {
		hi := min(lo+g, n)
		gemvInt4(y[lo:hi], q[lo*stride:hi*stride], scales[lo:hi], cols, xq, xscale, subBias(b, lo, hi), nil)
		s.push(y, lo, hi)
	}
	return s.finish(y), keyValue(s.th, false)
}

// GemvInt4TopK is the multithreaded form of the package-level
// GemvInt4TopK: each task computes a block of rows and streams its outputs
// into its worker's running top k, and the workers' survivors are merged,
// so there is no second pass over y and no second dispatch to the
// workers.
func (p *Pool) GemvInt4TopK(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, k int, idx []int32) (sel []int32, thresh float32) {
	if p == nil {
		return GemvInt4TopK(y, q, scales, cols, xq, xscale, b, k, idx)
	}
	checkInt4("Pool.GemvInt4TopK", y, q, scales, cols, xq, b)
	checkTopKArgs("Pool.GemvInt4TopK", idx, y, k)
	stride := int4RowBytes(cols)
	if p.Workers() == 1 {
		return gemvInt4TopK(y, q, scales, cols, xq, xscale, b, k, idx)
	}
	if !p.streams(len(y), k) {
		p.GemvInt4(y, q, scales, cols, xq, xscale, b)
		return p.TopK(idx, y, k, false)
	}
	return p.streamTopK(idx, y, k, false, intGrain(stride), func(lo, hi int) {
		gemvInt4(y[lo:hi], q[lo*stride:hi*stride], scales[lo:hi], cols, xq, xscale, subBias(b, lo, hi), nil)
	})
}

// GemvInt4Gather is the multithreaded form of the package-level
// GemvInt4Gather: the index list is split among the pool's workers. The
// indices must be distinct, or two workers may write the same y[r].
func (p *Pool) GemvInt4Gather(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	if p == nil {
		GemvInt4Gather(y, q, scales, cols, xq, xscale, b, idx)
		return
	}
	checkInt4("Pool.GemvInt4Gather", y, q, scales, cols, xq, b)
	checkGatherIndex("Pool.GemvInt4Gather", idx, len(y))
	p.For(len(idx), intGrain(int4RowBytes(cols)), func(lo, hi int) {
		gemvInt4(y, q, scales, cols, xq, xscale, b, idx[lo:hi])
	})
}

// gemvInt4Kernel is the signature shared by every INT4 implementation, as
// gemvInt8Kernel is for INT8.
type gemvInt4Kernel func(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32)

// gemvInt4Generic is the pure-Go twin of the assembly INT4 kernels.
func gemvInt4Generic(y []float32, q []byte, scales []float32, cols int, xq []int8, xscale float32, b []float32, idx []int32) {
	stride := int4RowBytes(cols)
	n := numRows(y, idx)
	for k := range n {
		r := rowAt(idx, k)
		s := dotInt4(q[r*stride:r*stride+stride], xq)
		y[r] = intEpilogue(s, r, scales, xscale, b)
	}
}

// dotInt4 returns Σ w[j]·x[j] for the packed row w of len(x) columns.
func dotInt4(w []byte, x []int8) int32 {
	w = w[:int4RowBytes(len(x))]
	var s0, s1 int32
	t := 0
	for ; 2*t+1 < len(x); t++ {
		v := w[t]
		s0 += (int32(v&15) - 8) * int32(x[2*t])
		s1 += (int32(v>>4) - 8) * int32(x[2*t+1])
	}
	if 2*t < len(x) {
		s0 += (int32(w[t]&15) - 8) * int32(x[2*t])
	}
	return s0 + s1
}

func checkInt4(op string, y []float32, q []byte, scales []float32, cols int, xq []int8, b []float32) {
	checkIntShape(op, y, len(q), len(y)*int4RowBytes(cols), scales, cols, xq, b)
}
