package kernels

import "fmt"

// Dot returns the inner product of x and y. It panics if their lengths
// differ.
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("kernels: Dot: len(x)=%d != len(y)=%d", len(x), len(y)))
	}
	return dotF32(x, y)
}

// Axpy sets y += alpha*x. It panics if the lengths of x and y differ.
func Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("kernels: Axpy: len(x)=%d != len(y)=%d", len(x), len(y)))
	}
	axpyF32(alpha, x, y)
}

// Gemv computes y = W·x + b, where W is the row-major matrix of len(y) rows
// and cols columns held in w, and b is the bias (nil for none). It panics if
// len(w) != len(y)*cols, len(x) != cols, or b is neither nil nor of length
// len(y).
func Gemv(y, w []float32, cols int, x, b []float32) {
	checkGemv("Gemv", y, w, cols, x, b)
	gemvRange(gemvRowsF32, y, w, cols, x, b, 0, len(y))
}

// GemvGather computes y[r] = W[r,:]·x + b[r] for every row r listed in idx,
// with W, x and b as for Gemv. Entries of y not listed keep their values and
// rows of W not listed are never read, which is what makes a predicted-sparse
// layer cheap. It panics on the shape errors of Gemv and if an index lies
// outside [0, len(y)).
func GemvGather(y, w []float32, cols int, x, b []float32, idx []int32) {
	checkGemv("GemvGather", y, w, cols, x, b)
	checkGatherIndex("GemvGather", idx, len(y))
	gemvGatherRange(gemvGatherF32, y, w, cols, x, b, idx, 0, len(idx))
}

// gemvGrain is the number of rows each Pool task takes at least, chosen so a
// task reads around 256 KiB of weights of the given size: below that the
// hand-off between workers costs more than it saves.
func gemvGrain(cols, size int) int {
	const bytesPerTask = 256 << 10
	return max(4, bytesPerTask/(size*max(cols, 1))) &^ 3
}

// Gemv is the multithreaded form of the package-level Gemv: the rows are
// split among the pool's workers.
func (p *Pool) Gemv(y, w []float32, cols int, x, b []float32) {
	if p == nil {
		Gemv(y, w, cols, x, b)
		return
	}
	checkGemv("Pool.Gemv", y, w, cols, x, b)
	p.For(len(y), gemvGrain(cols, 4), func(lo, hi int) {
		gemvRange(gemvRowsF32, y, w, cols, x, b, lo, hi)
	})
}

// GemvGather is the multithreaded form of the package-level GemvGather: the
// index list is split among the pool's workers.
func (p *Pool) GemvGather(y, w []float32, cols int, x, b []float32, idx []int32) {
	if p == nil {
		GemvGather(y, w, cols, x, b, idx)
		return
	}
	checkGemv("Pool.GemvGather", y, w, cols, x, b)
	checkGatherIndex("Pool.GemvGather", idx, len(y))
	p.For(len(idx), gemvGrain(cols, 4), func(lo, hi int) {
		gemvGatherRange(gemvGatherF32, y, w, cols, x, b, idx, lo, hi)
	})
}

// checkGemv panics unless w holds len(y)×cols weights (float32, or float16
// bits), x has cols entries and b is nil or has len(y).
func checkGemv[W float32 | uint16](op string, y []float32, w []W, cols int, x, b []float32) {
	if cols < 0 {
		panic(fmt.Sprintf("kernels: %s: negative cols %d", op, cols))
	}
	if len(w) != len(y)*cols {
		panic(fmt.Sprintf("kernels: %s: len(w)=%d != rows*cols=%d*%d", op, len(w), len(y), cols))
	}
	if len(x) != cols {
		panic(fmt.Sprintf("kernels: %s: len(x)=%d != cols=%d", op, len(x), cols))
	}
	if b != nil && len(b) != len(y) {
		panic(fmt.Sprintf("kernels: %s: len(b)=%d != rows=%d", op, len(b), len(y)))
	}
}

func checkGatherIndex(op string, idx []int32, rows int) {
	for j, r := range idx {
		if r < 0 || int(r) >= rows {
			panic(fmt.Sprintf("kernels: %s: idx[%d]=%d out of range [0,%d)", op, j, r, rows))
		}
	}
}

// gemvRange computes rows [lo, hi) of a checked Gemv, the rows by the
// kernel rows for the weight type (float32 or float16 bits), then the bias.
func gemvRange[W float32 | uint16](rows func(y []float32, w []W, cols int, x []float32), y []float32, w []W, cols int, x, b []float32, lo, hi int) {
	if lo >= hi {
		return
	}
	rows(y[lo:hi], w[lo*cols:hi*cols], cols, x)
	if b != nil {
		for i, v := range b[lo:hi] {
			y[lo+i] += v
		}
	}
}

// gemvGatherRange computes the rows idx[lo:hi] of a checked GemvGather by
// the kernel gather for the weight type, then the bias.
func gemvGatherRange[W float32 | uint16](gather func(y []float32, w []W, cols int, x []float32, idx []int32), y []float32, w []W, cols int, x, b []float32, idx []int32, lo, hi int) {
	if lo >= hi {
		return
	}
	idx = idx[lo:hi]
	gather(y, w, cols, x, idx)
	if b != nil {
		for _, r := range idx {
			y[r] += b[r]
		}
	}
}

// dotGeneric is the pure-Go twin of the assembly dot kernels. Four partial
// sums shorten the dependency chain, as the vector kernels do.
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyGeneric is the pure-Go twin of the assembly axpy kernels.
func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// gemvGeneric sets y[i] = W[i,:]·x for the len(y) rows of w.
func gemvGeneric(y, w []float32, cols int, x []float32) {
	for i := range y {
		y[i] = dotGeneric(w[i*cols:(i+1)*cols], x)
	}
}

// gemvGatherGeneric sets y[r] = W[r,:]·x for r in idx.
func gemvGatherGeneric(y, w []float32, cols int, x []float32, idx []int32) {
	for _, r := range idx {
		o := int(r) * cols
		y[r] = dotGeneric(w[o:o+cols], x)
	}
}
