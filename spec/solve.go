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
	c, y0 := st.c, st.y0
	if st.lin != nil {
		c, y0 = st.linearCross()
	}
	return st.solveCross(c, y0, st.n, lambda)
}

// SolveMap returns, for a Stats made by NewLinearStats, the linear map
// from the imitated rows to the fitted ones: Solve(λ) would return, for
// each row i of the map's [W | b],
//
//	W̃_i = W_i·M,  b̃_i = W_i·m + b_i,
//
// with M (D×K, row-major) and m (length D). Solve's arithmetic is linear in
// [W | b] once the statistics are fixed, so M and m are what it returns for
// the D virtual rows W = e_j, b = 0 (row j of A and shift x0_j), and the
// bias passes through unchanged. Fitting a map with many rows N then takes
// one N×D×K product, done block by block by the caller, instead of the
// N×(K+1) float64 cross moments and solution Solve holds: for a 10M-class
// classifier, gigabytes. The errors are Solve's.
func (st *Stats) SolveMap(lambda float64) (m, mb []float64, err error) {
	if st.lin == nil {
		panic("spec: Stats.SolveMap on a target Stats")
	}
	if lambda < 0 || math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		panic(fmt.Sprintf("spec: Stats.SolveMap: bad ridge λ=%v", lambda))
	}
	if st.s == 0 {
		return nil, nil, fmt.Errorf("spec: Stats.SolveMap: %w", ErrNoSamples)
	}
	return st.solveCross(st.a, st.x0, st.d, lambda)
}

// solveCross solves the normal equations for n rows of cross moments c
// (n×(K+1), about the shifts y0).
func (st *Stats) solveCross(c, y0 []float64, n int, lambda float64) (w, b []float64, err error) {
	k, k1 := st.k, st.k1
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
	var a32 []float32
	if st.prec != Float64 {
		a32 = make([]float32, d*k1)
		for i, v := range st.a {
			a32[i] = float32(v)
		}
	}
	parallelRows(n, func(lo, hi int) {
		var wf []float32 // float16 rows widened
		if l.Half() {
			wf = make([]float32, min(block, hi-lo)*d)
		}
		var wb []float64
		var tmp []float32
		if st.prec == Float64 {
			wb = make([]float64, min(block, hi-lo)*d)
		} else {
			tmp = make([]float32, min(block, hi-lo)*k1)
		}
		for i0 := lo; i0 < hi; i0 += block {
			nb := min(block, hi-i0)
			w := l.RowsF32(wf, i0, i0+nb)
			for r := range nb {
				v := 0.0
				if l.B != nil {
					v = float64(l.B[i0+r])
				}
				for j, x := range st.x0 {
					v += float64(w[r*d+j]) * x
				}
				c0[i0+r] = v
			}
			if st.prec == Float64 {
				widen(wb[:nb*d], w)
				blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, nb, k1, d,
					1, wb, d, st.a, k1, 0, c[i0*k1:], k1)
				continue
			}
			for j0 := 0; j0 < d; j0 += block {
				db := min(block, d-j0)
				kernels.Gemm(false, false, nb, k1, db, 1, w[j0:], d, a32[j0*k1:], k1, 0, tmp, k1)
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
