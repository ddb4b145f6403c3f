package spec

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
)

// DefaultBatch is the number of samples Stats folds into its sums with one
// matrix product when no other batch size is set.
const DefaultBatch = 512

// Stats accumulates, batch by batch, the sufficient statistics of the
// least-squares fit of a speculator: the Gram matrix G = Σ ẑẑᵀ of the
// augmented projections ẑ = [Px; 1] and the cross moments between targets
// and ẑ. Memory is independent of the number of samples, so calibration
// sets far larger than RAM can be streamed through Add.
//
// A Stats made by NewLinearStats imitates a known map y = Wx + b and is fed
// inputs only: it keeps A = Σ xẑᵀ (D×(K+1)) and forms C = Σ yẑᵀ = [W | b]·[A;
// Σẑᵀ] once, in Solve, which costs one N×D×(K+1) product instead of the
// N×D product per sample that computing every target would. A Stats made
// by NewTargetStats is fed (input, target) pairs and keeps C directly; use
// it for targets no single linear map produces.
//
// Internally every sum is taken about a shift (the mean of the first batch)
// so that inputs with a large common offset do not lose precision to
// cancellation; the shift is undone exactly in Solve.
//
// A Stats is not safe for concurrent use.
type Stats struct {
	p     Projector
	lin   *Linear // nil for a target-mode Stats
	n, d  int
	k, k1 int // k1 = k+1 columns of ẑ
	batch int

	started bool
	x0      []float64 // input shift (linear mode)
	z0      []float64 // projection shift
	y0      []float64 // target shift (target mode)

	s int       // samples seen
	g []float64 // k1×k1: Σ ẑ'ẑ'ᵀ with ẑ' = [Px − z0; 1]
	a []float64 // d×k1 (linear mode): Σ (x − x0)ẑ'ᵀ
	c []float64 // n×k1 (target mode): Σ (y − y0)ẑ'ᵀ

	prec Precision
	pd   []float32       // P as a dense K×D matrix when projecting by GEMM pays
	zf   []float32       // batch×k raw projections
	b64  *batch[float64] // Float64 batch
	b32  *batch[float32] // Mixed batch
	tmp  []float32       // Mixed: one batch's product before widening
}

// NewLinearStats returns an accumulator for fitting a speculator with
// projection p to the map lin. It panics if p.D() != lin.D.
func NewLinearStats(lin *Linear, p Projector) *Stats {
	if p.D() != lin.D {
		panic(fmt.Sprintf("spec: NewLinearStats: projection takes D=%d, map takes D=%d", p.D(), lin.D))
	}
	st := newStats(p, lin.N)
	st.lin = lin
	st.a = make([]float64, st.d*st.k1)
	return st
}

// NewTargetStats returns an accumulator for fitting a speculator with
// projection p to n-dimensional targets given sample by sample.
func NewTargetStats(p Projector, n int) *Stats {
	if n <= 0 {
		panic(fmt.Sprintf("spec: NewTargetStats: bad output size %d", n))
	}
	st := newStats(p, n)
	st.c = make([]float64, n*st.k1)
	return st
}

func newStats(p Projector, n int) *Stats {
	k, d := p.K(), p.D()
	if k <= 0 || d <= 0 {
		panic(fmt.Sprintf("spec: bad projection shape %d×%d", k, d))
	}
	return &Stats{
		p: p, n: n, d: d, k: k, k1: k + 1,
		batch: DefaultBatch,
		g:     make([]float64, (k+1)*(k+1)),
		pd:    denseIfWorthIt(p),
	}
}

// denseIfWorthIt returns P as a dense matrix if p can produce one and at
// least 1/16 of its entries are nonzero. A float32 GEMM runs at tens of
// multiply-adds per nanosecond while a sparse projection gathers about one
// input per nanosecond, so even zeros multiplied are cheaper beyond that
// density; the thesis's P (a third nonzero) projects a batch over ten times
// faster this way.
func denseIfWorthIt(p Projector) []float32 {
	dp, ok := p.(interface{ Dense() []float32 })
	if !ok {
		return nil
	}
	m := dp.Dense()
	if len(m) != p.K()*p.D() {
		panic(fmt.Sprintf("spec: projection's Dense() has %d entries, want %d×%d", len(m), p.K(), p.D()))
	}
	nnz := 0
	for _, v := range m {
		if v != 0 {
			nnz++
		}
	}
	if 16*nnz < len(m) {
		return nil
	}
	return m
}

// project sets zs[i] = P xs[i] for the mb samples of xs. Under Float64 it
// always calls P.Apply, so the fit sees bit for bit the Px that Predict
// will; the GEMM rounds differently, by about 1e-7.
func (st *Stats) project(zs, xs []float32, mb int) {
	if st.pd == nil || st.prec == Float64 {
		project(st.p, zs, xs, mb)
		return
	}
	k, d := st.k, st.d
	parallelRows(mb, func(lo, hi int) {
		kernels.Gemm(false, true, hi-lo, k, d, 1, xs[lo*d:], d, st.pd, d, 0, zs[lo*k:], k)
	})
}

// SetBatch sets how many samples are folded in per matrix product. Larger
// batches run the products closer to peak speed at the cost of about
// batch×(D+K) values of scratch.
func (st *Stats) SetBatch(b int) {
	if b <= 0 {
		panic(fmt.Sprintf("spec: Stats.SetBatch: bad batch %d", b))
	}
	st.batch = b
	st.zf, st.b64, st.b32, st.tmp = nil, nil, nil, nil
}

// SetPrecision sets the arithmetic of the per-batch products; the default
// is Mixed. It may be changed between calls to Add.
func (st *Stats) SetPrecision(p Precision) {
	if p != Mixed && p != Float64 {
		panic(fmt.Sprintf("spec: Stats.SetPrecision: unknown precision %d", int(p)))
	}
	st.prec = p
	st.zf, st.b64, st.b32, st.tmp = nil, nil, nil, nil
}

// Samples reports the number of samples accumulated so far.
func (st *Stats) Samples() int { return st.s }

// Add accumulates the samples xs (S×D, row-major) of a Stats made by
// NewLinearStats. A batch holding a NaN or infinity is rejected whole with
// an error wrapping ErrNotFinite.
func (st *Stats) Add(xs []float32) error {
	if st.lin == nil {
		panic("spec: Stats.Add on a target Stats; use AddTargets")
	}
	m := rowsOf("Stats.Add", xs, st.d)
	if err := checkFinite("input", xs, st.d); err != nil {
		return err
	}
	st.alloc()
	for i0 := 0; i0 < m; i0 += st.batch {
		mb := min(st.batch, m-i0)
		x := xs[i0*st.d : (i0+mb)*st.d]
		st.project(st.zf, x, mb)
		if !st.started {
			st.x0 = meanRows(x, mb, st.d)
			st.z0 = meanRows(st.zf, mb, st.k)
			st.started = true
		}
		st.fold(st.zf, x, st.x0, st.a, mb)
	}
	return nil
}

// AddTargets accumulates input samples xs (S×D) with their targets ys (S×N)
// into a Stats made by NewTargetStats.
func (st *Stats) AddTargets(xs, ys []float32) error {
	if st.lin != nil {
		panic("spec: Stats.AddTargets on a linear Stats; use Add")
	}
	m := rowsOf("Stats.AddTargets", xs, st.d)
	if my := rowsOf("Stats.AddTargets", ys, st.n); my != m {
		panic(fmt.Sprintf("spec: Stats.AddTargets: %d inputs but %d targets", m, my))
	}
	if err := checkFinite("input", xs, st.d); err != nil {
		return err
	}
	if err := checkFinite("target", ys, st.n); err != nil {
		return err
	}
	st.alloc()
	for i0 := 0; i0 < m; i0 += st.batch {
		mb := min(st.batch, m-i0)
		st.project(st.zf, xs[i0*st.d:(i0+mb)*st.d], mb)
		st.addProjected(st.zf[:mb*st.k], ys[i0*st.n:(i0+mb)*st.n], mb)
	}
	return nil
}

// AddProjected accumulates already-projected inputs zs (S×K, zs[i] = P xs[i])
// with their targets ys (S×N) into a Stats made by NewTargetStats. It lets a
// caller that has Px at hand, such as a running dual-module layer, skip the
// projection.
func (st *Stats) AddProjected(zs, ys []float32) error {
	if st.lin != nil {
		panic("spec: Stats.AddProjected on a linear Stats; use Add")
	}
	m := rowsOf("Stats.AddProjected", zs, st.k)
	if my := rowsOf("Stats.AddProjected", ys, st.n); my != m {
		panic(fmt.Sprintf("spec: Stats.AddProjected: %d inputs but %d targets", m, my))
	}
	if err := checkFinite("projected input", zs, st.k); err != nil {
		return err
	}
	if err := checkFinite("target", ys, st.n); err != nil {
		return err
	}
	st.alloc()
	for i0 := 0; i0 < m; i0 += st.batch {
		mb := min(st.batch, m-i0)
		st.addProjected(zs[i0*st.k:(i0+mb)*st.k], ys[i0*st.n:(i0+mb)*st.n], mb)
	}
	return nil
}

// addProjected folds in one batch of at most st.batch projected samples.
func (st *Stats) addProjected(zs, ys []float32, mb int) {
	if !st.started {
		st.z0 = meanRows(zs, mb, st.k)
		st.y0 = meanRows(ys, mb, st.n)
		st.started = true
	}
	st.fold(zs, ys, st.y0, st.c, mb)
}

// fold adds one batch of mb samples to the sums: G += ẐᵀẐ and
// cross += VᵀẐ, with Ẑ the shifted augmented projections zs and V the
// shifted rows of vs (inputs for a linear Stats, targets otherwise).
func (st *Stats) fold(zs, vs []float32, v0, cross []float64, mb int) {
	k1, w := st.k1, len(v0)
	if st.prec == Float64 {
		b := st.b64
		b.fill(zs, st.z0, vs, v0, mb)
		addATB(k1, k1, mb, b.z, k1, b.z, k1, st.g, k1)
		addATB(w, k1, mb, b.v, w, b.z, k1, cross, k1)
	} else {
		b := st.b32
		b.fill(zs, st.z0, vs, v0, mb)
		addATB32(k1, k1, mb, b.z, k1, b.z, k1, st.g, k1, st.tmp)
		addATB32(w, k1, mb, b.v, w, b.z, k1, cross, k1, st.tmp)
	}
	st.s += mb
}

func (st *Stats) alloc() {
	if st.zf != nil {
		return
	}
	st.zf = make([]float32, st.batch*st.k)
	w := st.d
	if st.lin == nil {
		w = st.n
	}
	if st.prec == Float64 {
		st.b64 = newBatch[float64](st.batch, st.k1, w)
	} else {
		st.b32 = newBatch[float32](st.batch, st.k1, w)
		st.tmp = make([]float32, max(w, st.k1)*st.k1)
	}
}

// rowsOf returns len(v)/width, panicking if v is not a whole number of rows.
func rowsOf(op string, v []float32, width int) int {
	if len(v)%width != 0 {
		panic(fmt.Sprintf("spec: %s: length %d is not a multiple of row width %d", op, len(v), width))
	}
	return len(v) / width
}

// checkFinite reports the first NaN or infinity in v, by sample and column.
func checkFinite(what string, v []float32, width int) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s sample %d, column %d is %v: %w", what, i/width, i%width, x, ErrNotFinite)
		}
	}
	return nil
}

// meanRows returns the float64 column means of the m×w matrix v.
func meanRows(v []float32, m, w int) []float64 {
	mu := make([]float64, w)
	for i := range m {
		for j, x := range v[i*w : (i+1)*w] {
			mu[j] += float64(x)
		}
	}
	for j := range mu {
		mu[j] /= float64(m)
	}
	return mu
}
