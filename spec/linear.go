package spec

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/elasticml/elastic/kernels"
)

// Linear is the exact affine map y = Wx + b that a speculator imitates: the
// big module of the dual-module layer, or the full classifier of a screener.
//
// W is stored in float32, or, for a classifier too large for that (see
// package screen), in float16: then W is nil and W16 holds the binary16
// bits. Code that reads W directly handles only the first; RowsF32 serves
// both.
type Linear struct {
	W    []float32 // N×D, row-major; nil when W16 is set
	W16  []uint16  // N×D binary16, row-major, or nil
	B    []float32 // length N, or nil for no bias
	N, D int
}

// NewLinear returns the map y = Wx + b with W of shape n×d, row-major. b may
// be nil. It panics if the slice lengths do not match the shape.
func NewLinear(w, b []float32, n, d int) *Linear {
	if n <= 0 || d <= 0 {
		panic(fmt.Sprintf("spec: NewLinear: bad shape %d×%d", n, d))
	}
	if len(w) != n*d {
		panic(fmt.Sprintf("spec: NewLinear: len(w)=%d, want %d×%d=%d", len(w), n, d, n*d))
	}
	if b != nil && len(b) != n {
		panic(fmt.Sprintf("spec: NewLinear: len(b)=%d, want %d", len(b), n))
	}
	return &Linear{W: w, B: b, N: n, D: d}
}

// NewLinearHalf returns the map y = Wx + b with W of shape n×d stored as
// row-major binary16 bits w16. b may be nil. It panics if the slice lengths
// do not match the shape.
func NewLinearHalf(w16 []uint16, b []float32, n, d int) *Linear {
	if n <= 0 || d <= 0 || len(w16) != n*d || (b != nil && len(b) != n) {
		panic(fmt.Sprintf("spec: NewLinearHalf: len(w16)=%d, len(b)=%d for shape %d×%d", len(w16), len(b), n, d))
	}
	return &Linear{W16: w16, B: b, N: n, D: d}
}

// Half reports whether W is stored in float16.
func (l *Linear) Half() bool { return l.W16 != nil }

// WeightBytes returns the storage of W: 4 or 2 bytes per weight.
func (l *Linear) WeightBytes() int {
	if l.Half() {
		return 2 * len(l.W16)
	}
	return 4 * len(l.W)
}

// RowsF32 returns rows [lo, hi) of W in float32, row-major: a subslice of W
// (buf unused), or, for float16 storage, their exact widening into buf,
// which must hold (hi−lo)·D values.
func (l *Linear) RowsF32(buf []float32, lo, hi int) []float32 {
	if l.W16 == nil {
		return l.W[lo*l.D : hi*l.D]
	}
	buf = buf[:(hi-lo)*l.D]
	kernels.FromHalf(buf, l.W16[lo*l.D:hi*l.D])
	return buf
}

// Apply sets y = Wx + b, accumulating each dot product in float64.
func (l *Linear) Apply(y, x []float32) {
	if len(y) != l.N || len(x) != l.D {
		panic(fmt.Sprintf("spec: Linear.Apply: len(y)=%d len(x)=%d, want %d and %d", len(y), len(x), l.N, l.D))
	}
	buf := make([]float32, l.D)
	for i := range y {
		row := l.RowsF32(buf, i, i+1)
		var s float64
		for j, v := range row {
			s += float64(v) * float64(x[j])
		}
		if l.B != nil {
			s += float64(l.B[i])
		}
		y[i] = float32(s)
	}
}

// Targets returns Y = XWᵀ + b for the samples xs (S×D, row-major) as an S×N
// row-major slice, computed in float64 and rounded once. It is how
// calibration targets are produced for FitSGD and FitMSE; Stats never needs
// them.
func (l *Linear) Targets(xs []float32) []float32 {
	if len(xs)%l.D != 0 {
		panic(fmt.Sprintf("spec: Linear.Targets: len(xs)=%d is not a multiple of D=%d", len(xs), l.D))
	}
	s := len(xs) / l.D
	ys := make([]float32, s*l.N)
	if s == 0 {
		return ys
	}
	const rowBlock = 256
	xb := make([]float64, min(s, rowBlock)*l.D)
	wb := make([]float64, min(l.N, rowBlock)*l.D)
	yb := make([]float64, min(s, rowBlock)*min(l.N, rowBlock))
	var wf []float32
	if l.Half() {
		wf = make([]float32, min(l.N, rowBlock)*l.D)
	}
	for i0 := 0; i0 < s; i0 += rowBlock {
		m := min(rowBlock, s-i0)
		widen(xb[:m*l.D], xs[i0*l.D:(i0+m)*l.D])
		for j0 := 0; j0 < l.N; j0 += rowBlock {
			nb := min(rowBlock, l.N-j0)
			widen(wb[:nb*l.D], l.RowsF32(wf, j0, j0+nb))
			blas64.Implementation().Dgemm(blas.NoTrans, blas.Trans, m, nb, l.D,
				1, xb, l.D, wb, l.D, 0, yb, nb)
			for r := range m {
				out := ys[(i0+r)*l.N+j0 : (i0+r)*l.N+j0+nb]
				for c := range out {
					v := yb[r*nb+c]
					if l.B != nil {
						v += float64(l.B[j0+c])
					}
					out[c] = float32(v)
				}
			}
		}
	}
	return ys
}

// widen copies a float32 slice into a float64 slice of the same length.
func widen(dst []float64, src []float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = float64(v)
	}
}
