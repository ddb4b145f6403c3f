package spec

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/elasticml/elastic/kernels"
)

// maxCond is the largest condition number of the regularised covariance
// that Solve accepts. Beyond it the float64 solution has no correct digits
// left for the float32 weights it is rounded to.
const maxCond = 1e13

// Solve returns the speculator W̃, b̃ that minimises
//
//	Σ_s ‖y_s − (W̃Px_s + b̃)‖² + λ‖W̃‖²_F
//
// over the accumulated samples: ridge least squares whose normal equations
// are W̃_aug (G + λI') = C with G = Σ ẑẑᵀ, C = Σ yẑᵀ and I' the identity with
// the bias entry zeroed, so that the bias is never shrunk. With λ = 0 it is
// the exact minimiser of the thesis's loss (eq. 3.12, eq. 6.4). λ is in the
// units of G, which grow with the sample count: λ = ε·S·mean‖Px − mean(Px)‖²/K
// shrinks by a fraction ε of the average eigenvalue.
//
// Solve does not consume the statistics: more samples may be added and
// Solve called again. The weights are float32; quantize with
// Speculator.Quantize.
//
// It returns an error wrapping ErrNoSamples before any sample, and
// ErrSingular when the samples do not determine W̃ (for λ = 0 that needs
// more than K samples spanning the projected space).
func (st *Stats) Solve(lambda float64) (*Speculator, error) {
	w, b, err := st.solve(lambda)
	if err != nil {
		return nil, err
	}
	s := &Speculator{P: st.p, N: st.n, K: st.k, W: make([]float32, len(w)), B: make([]float32, len(b))}
	for i, v := range w {
		s.W[i] = float32(v)
	}
	for i, v := range b {
		s.B[i] = float32(v)
	}
	if err := checkFinite("fitted weight", s.W, st.k); err != nil {
		return nil, err
	}
	if err := checkFinite("fitted bias", s.B, 1); err != nil {
		return nil, err
	}
	return s, nil
}

// solve returns W̃ (N×K) and b̃ in float64.
//
// Rather than factor G + λI' directly, it eliminates the bias first: the
// bias-free normal equations are those of the centred data,
//
//	W̃ (Σ_zz + λI) = Σ_yz,  b̃ = ȳ − W̃z̄,
//
// with Σ_zz = Σ (z−z̄)(z−z̄)ᵀ and Σ_yz = Σ (y−ȳ)(z−z̄)ᵀ, both read off G and C.
// The solution is the same, but the K×K matrix factored is the covariance,
// whose condition number does not grow with the mean of z.
func (st *Stats) solve(lambda float64) (w, b []float64, err error) {
	if lambda < 0 || math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		panic(fmt.Sprintf("spec: Stats.Solve: bad ridge λ=%v", lambda))
	}
	if st.s == 0 {
		return nil, nil, fmt.Errorf("spec: Stats.Solve: %w", ErrNoSamples)
	}
	k, k1, n := st.k, st.k1, st.n
	c, y0 := st.c, st.y0
	if st.lin != nil {
		c, y0 = st.linearCross()
	}

	ns := st.g[k*k1+k] // the sample count, as accumulated
	sz := make([]float64, k)
	for j := range k {
		sz[j] = st.g[j*k1+k]
	}
	cov := mat.NewSymDense(k, nil)
	for i := range k {
		for j := i; j < k; j++ {
			v := st.g[i*k1+j] - sz[i]*sz[j]/ns
			if i == j {
				v += lambda
			}
			cov.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(cov) {
		return nil, nil, fmt.Errorf("spec: Stats.Solve: %d samples, K=%d, λ=%g: %w", st.s, k, lambda, ErrSingular)
	}
	if cond := chol.Cond(); cond > maxCond {
		return nil, nil, fmt.Errorf("spec: Stats.Solve: condition number %.3g with %d samples, K=%d, λ=%g: %w", cond, st.s, k, lambda, ErrSingular)
	}
	var u mat.TriDense
	chol.UTo(&u)
	ru := u.RawTriangular()

	// w starts as Σ_yz and is overwritten by the solution of w·UᵀU = Σ_yz.
	w = make([]float64, n*k)
	for i := range n {
		row := c[i*k1 : (i+1)*k1]
		sy := row[k]
		for j := range k {
			w[i*k+j] = row[j] - sy*sz[j]/ns
		}
	}
	parallelRows(n, func(lo, hi int) {
		blk := blas64.General{Rows: hi - lo, Cols: k, Stride: k, Data: w[lo*k : hi*k]}
		blas64.Trsm(blas.Right, blas.NoTrans, 1, ru, blk) // w·U = Σ_yz
		blas64.Trsm(blas.Right, blas.Trans, 1, ru, blk)   // w·Uᵀ = previous
	})

	zbar := make([]float64, k)
	for j := range k {
		zbar[j] = sz[j]/ns + st.z0[j]
	}
	b = make([]float64, n)
	for i := range n {
		v := c[i*k1+k]/ns + y0[i]
		for j, wj := range w[i*k : (i+1)*k] {
			v -= wj * zbar[j]
		}
		b[i] = v
	}
	return w, b, nil
}

// linearCross forms, for a Stats made by NewLinearStats, the cross moment
// C = Σ (y − c0)ẑ'ᵀ = W·A of the shifted targets with c0 = W x0 + b, and
// returns it with c0. Because y − c0 = W(x − x0) exactly, this is the one
// product by W the whole fit needs. It runs in blocks, so W is never
// copied whole: under Float64 row blocks of W are widened for Dgemm; under
// Mixed each block of D columns is multiplied in float32 and added to the
// float64 C, which keeps the float32 sums short as in Add.
func (st *Stats) linearCross() (c, c0 []float64) {
	const block = 256
	l := st.lin
	n, d, k1 := st.n, st.d, st.k1
	c = make([]float64, n*k1)
	c0 = make([]float64, n)
	parallelRows(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := 0.0
			if l.B != nil {
				v = float64(l.B[i])
			}
			for j, x := range st.x0 {
				v += float64(l.W[i*d+j]) * x
			}
			c0[i] = v
		}
	})
	if st.prec == Float64 {
		wb := make([]float64, min(n, block)*d)
		for i0 := 0; i0 < n; i0 += block {
			nb := min(block, n-i0)
			widen(wb[:nb*d], l.W[i0*d:(i0+nb)*d])
			blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, nb, k1, d,
				1, wb, d, st.a, k1, 0, c[i0*k1:], k1)
		}
		return c, c0
	}
	a32 := make([]float32, d*k1)
	for i, v := range st.a {
		a32[i] = float32(v)
	}
	parallelRows(n, func(lo, hi int) {
		tmp := make([]float32, min(block, hi-lo)*k1)
		for i0 := lo; i0 < hi; i0 += block {
			nb := min(block, hi-i0)
			for j0 := 0; j0 < d; j0 += block {
				db := min(block, d-j0)
				kernels.Gemm(false, false, nb, k1, db, 1, l.W[i0*d+j0:], d, a32[j0*k1:], k1, 0, tmp, k1)
				for r := range nb {
					cr := c[(i0+r)*k1 : (i0+r+1)*k1]
					for j, v := range tmp[r*k1 : (r+1)*k1] {
						cr[j] += float64(v)
					}
				}
			}
		}
	})
	return c, c0
}
