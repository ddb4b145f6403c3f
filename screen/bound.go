package screen

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/spec"
)

// Bound bounds the screener's error on any input, which is what lets the
// certified mode prove a top-1 exact. With R = W − W̃P (W̃ as dequantized),
// μ the calibration mean of h and x̂ the INT8-quantized projection that
// the integer kernels multiply,
//
//	z_j − z̃_j = (R_j·μ + b_j − b̃_j) + R_j·(h − μ) + W̃_j·(P·h − x̂).
//
// The first term is a constant per class (Alpha). The last is at most
// ‖W̃_j‖₁·e (Abs): kernels.QuantizeInt8 keeps x̂ within s/2 of the
// projection it quantizes (s its INT8 scale), and that projection, computed
// from h quantized too (rproj.Signs), is within Signs.Err of P·h, so
// e = s/2 + Signs.Err. For the middle one a single Cauchy–Schwarz
// bound, ‖R_j‖·‖h − μ‖, is far too loose: the fit makes R small exactly in
// the directions where h varies most. So h − μ is expanded in the
// eigenbasis Q of the calibration covariance, whose coordinates are cut
// into blocks of geometrically growing size (1, 1, 2, 4, … by decreasing
// variance), and Cauchy–Schwarz is applied per block:
//
//	|R_j·(h − μ)| ≤ Σ_b ‖R_j Q_bᵀ‖·‖Q_b(h − μ)‖ + ‖R_j‖·Leak·‖h − μ‖,
//
// where Leak = ‖I − QᵀQ‖_F covers Q's rounding to float32. Every stored
// norm is rounded up, and the certified mode adds a relative margin for
// the float32 rounding of the logits themselves.
type Bound struct {
	Mu     []float32 // length d
	Basis  []float32 // d×d, rows the covariance eigenvectors by decreasing eigenvalue
	Blocks []int     // block boundaries in Basis's rows: 0 = Blocks[0] < … < Blocks[B] = d
	Alpha  []float32 // length l: |R_j·μ + b_j − b̃_j|
	Norm   []float32 // l×B: ‖R_j Q_bᵀ‖₂
	Full   []float32 // length l: ‖R_j‖₂
	Leak   float32
	Abs    []float32 // length l: ‖W̃_j‖₁ for an integer-kernel screener, else nil

	maxAlpha, maxFull, maxAbs float32
	maxNorm                   []float32 // per block
}

// boundBlock is the number of rows of R formed at once.
const boundBlock = 2048

// roundUp is the relative margin added to norms computed in float32.
const roundUp = 1 + 1e-4

// blockBounds returns the geometric block boundaries for width d.
func blockBounds(d int) []int {
	b := []int{0}
	for size := 1; b[len(b)-1] < d; {
		b = append(b, min(b[len(b)-1]+size, d))
		if len(b) > 2 {
			size *= 2
		}
	}
	return b
}

// newBound computes the Bound of s for c from the calibration vectors hs.
func newBound(c *spec.Linear, s *Screener, hs []float32, pool *kernels.Pool) *Bound {
	d, k, l := c.D, s.K, c.N
	n := len(hs) / d
	b := &Bound{Mu: make([]float32, d), Blocks: blockBounds(d), Alpha: make([]float32, l), Full: make([]float32, l)}
	nb := len(b.Blocks) - 1
	b.Norm = make([]float32, l*nb)

	// Mean and covariance in float64, then the eigenbasis.
	mu := make([]float64, d)
	for i := range n {
		for j, v := range hs[i*d : (i+1)*d] {
			mu[j] += float64(v) / float64(n)
		}
	}
	cov := mat.NewSymDense(d, nil)
	x := make([]float64, d)
	for i := range n {
		for j, v := range hs[i*d : (i+1)*d] {
			x[j] = float64(v) - mu[j]
		}
		cov.SymRankOne(cov, 1, mat.NewVecDense(d, x))
	}
	var eig mat.EigenSym
	b.Basis = make([]float32, d*d)
	if eig.Factorize(cov, true) {
		var vec mat.Dense
		eig.VectorsTo(&vec)
		// EigenSym sorts ascending; store by decreasing variance.
		for t := range d {
			for j := range d {
				b.Basis[t*d+j] = float32(vec.At(j, d-1-t))
			}
		}
	} else {
		for t := range d {
			b.Basis[t*d+t] = 1
		}
	}
	for j := range d {
		b.Mu[j] = float32(mu[j])
	}
	// Leak = ‖I − QᵀQ‖_F of the float32 basis.
	qtq := make([]float32, d*d)
	kernels.Gemm(true, false, d, d, d, 1, b.Basis, d, b.Basis, d, 0, qtq, d)
	var leak float64
	for i := range d {
		for j := range d {
			e := float64(qtq[i*d+j])
			if i == j {
				e--
			}
			leak += e * e
		}
	}
	// The GEMM's own rounding is of the same order as the leak; doubling
	// and a floor keep the term an upper bound.
	b.Leak = up(2*math.Sqrt(leak) + 1e-6)

	pd := s.Spec.P.(*rproj.Projection).Dense()
	wq := s.Spec.W
	r := make([]float32, boundBlock*d)
	rq := make([]float32, boundBlock*d)
	for lo := 0; lo < l; lo += boundBlock {
		hi := min(lo+boundBlock, l)
		rows := hi - lo
		rb, rqb := r[:rows*d], rq[:rows*d]
		copy(rb, c.RowsF32(rb, lo, hi))                                            // a no-op copy for float16 rows
		pool.Gemm(false, false, rows, d, k, -1, wq[lo*k:hi*k], k, pd, d, 1, rb, d) // R = W − W̃P
		pool.Gemm(false, true, rows, d, d, 1, rb, d, b.Basis, d, 0, rqb, d)        // R Qᵀ
		for i := range rows {
			j := lo + i
			row := rb[i*d : (i+1)*d]
			var nrm, dot float64
			for t, v := range row {
				nrm += float64(v) * float64(v)
				dot += float64(v) * float64(b.Mu[t])
			}
			if c.B != nil {
				dot += float64(c.B[j])
			}
			dot -= float64(s.Spec.B[j])
			b.Alpha[j] = up(math.Abs(dot) * roundUp)
			b.Full[j] = up(math.Sqrt(nrm) * roundUp)
			proj := rqb[i*d : (i+1)*d]
			for bl := range nb {
				var e float64
				for _, v := range proj[b.Blocks[bl]:b.Blocks[bl+1]] {
					e += float64(v) * float64(v)
				}
				b.Norm[j*nb+bl] = up(math.Sqrt(e) * roundUp)
			}
		}
	}
	if s.intKernel() {
		b.Abs = make([]float32, l)
		for i := range l {
			var a float64
			for _, v := range wq[i*k : (i+1)*k] {
				a += math.Abs(float64(v))
			}
			b.Abs[i] = up(a * roundUp)
		}
	}
	b.setMax()
	return b
}

// check validates a bound read from a file for l classes of width d.
func (b *Bound) check(l, d int) error {
	nb := len(b.Blocks) - 1
	if nb < 1 || b.Blocks[0] != 0 || b.Blocks[nb] != d {
		return fmt.Errorf("%w: bound blocks %v for width %d", ErrFormat, b.Blocks, d)
	}
	for i := range nb {
		if b.Blocks[i+1] <= b.Blocks[i] {
			return fmt.Errorf("%w: bound blocks %v", ErrFormat, b.Blocks)
		}
	}
	if len(b.Norm) != l*nb {
		return fmt.Errorf("%w: bound has %d block norms, want %d", ErrFormat, len(b.Norm), l*nb)
	}
	for _, v := range [][]float32{b.Alpha, b.Norm, b.Full, b.Abs, {b.Leak}} {
		for _, x := range v {
			if !(x >= 0) {
				return fmt.Errorf("%w: residual bound %v", ErrFormat, x)
			}
		}
	}
	return nil
}

func (b *Bound) setMax() {
	b.maxAlpha, b.maxFull, b.maxAbs = maxOf(b.Alpha), maxOf(b.Full), maxOf(b.Abs)
	nb := len(b.Blocks) - 1
	b.maxNorm = make([]float32, nb)
	for i, v := range b.Norm {
		b.maxNorm[i%nb] = max(b.maxNorm[i%nb], v)
	}
}

func maxOf(v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// up rounds a non-negative float64 up to a float32.
func up(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

// spread holds the per-input quantities of the bound.
type spread struct {
	coef  []float32 // Q(h − μ), then reused
	block []float32 // ‖Q_b(h − μ)‖ per block, rounded up
	leak  float32   // Leak·‖h − μ‖
	xs    float32   // the bound on |P·h − x̂|_∞
}

// measure fills sp for input h and xerr, the bound on |P·h − x̂|_∞ (0 for
// float paths).
func (b *Bound) measure(sp *spread, h []float32, xerr float32, tmp []float32) {
	d := len(b.Mu)
	var hn float64
	for j, v := range h {
		tmp[j] = v - b.Mu[j]
		hn += float64(tmp[j]) * float64(tmp[j])
	}
	kernels.Gemv(sp.coef, b.Basis, d, tmp, nil)
	for bl := range sp.block {
		var e float64
		for _, v := range sp.coef[b.Blocks[bl]:b.Blocks[bl+1]] {
			e += float64(v) * float64(v)
		}
		sp.block[bl] = up(math.Sqrt(e) * roundUp)
	}
	sp.leak = up(float64(b.Leak) * math.Sqrt(hn) * roundUp)
	sp.xs = xerr
}

// row returns the bound on |z_j − z̃_j|.
func (b *Bound) row(j int, sp *spread) float32 {
	nb := len(sp.block)
	e := b.Alpha[j] + b.Full[j]*sp.leak
	for bl, c := range sp.block {
		e += b.Norm[j*nb+bl] * c
	}
	if b.Abs != nil {
		e += b.Abs[j] * sp.xs
	}
	return e
}

// uniform returns a bound on every row's.
func (b *Bound) uniform(sp *spread) float32 {
	e := b.maxAlpha + b.maxFull*sp.leak + b.maxAbs*sp.xs
	for bl, c := range sp.block {
		e += b.maxNorm[bl] * c
	}
	return e
}
