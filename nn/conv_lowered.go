package nn

// Lower sets and returns the lowered input of x (n×InH×InW×InC): the
// n·OutH·OutW × Kernel²·InC im2col matrix whose rows are the sliding
// windows (the thesis's X_i of eq. 4.1), one row per output pixel in NHWC
// order. Forward multiplies the same matrix; executors that compute only
// some output channels of each window start from it. The matrix is the
// layer's own buffer, valid until the next Forward or Lower.
func (l *Conv2d) Lower(x []float32, n int) []float32 {
	checkLen("Conv2d.Lower", "x", len(x), n*l.InSize())
	l.n = n
	l.cols = grow(l.cols, n*l.OutH*l.OutW*l.patch())
	l.Pool.For(n, 1, func(lo, hi int) { l.im2col(x, lo, hi) })
	return l.cols
}

// Raise sets dx (n×InH×InW×InC) to the input gradient for the gradient
// dcols of the lowered matrix of n images (col2im: every window's entries
// added back to the pixels they were copied from).
func (l *Conv2d) Raise(dx, dcols []float32, n int) {
	checkLen("Conv2d.Raise", "dx", len(dx), n*l.InSize())
	checkLen("Conv2d.Raise", "dcols", len(dcols), n*l.OutH*l.OutW*l.patch())
	l.Pool.For(n, 1, func(lo, hi int) { l.col2im(dx, dcols, lo, hi) })
}
