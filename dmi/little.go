package dmi

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/spec"
)

// Sentinel errors, testable with errors.Is.
var (
	// ErrMismatch: little modules that do not belong to the model or layer
	// they are given to (another model's fingerprint, other shapes).
	ErrMismatch = errors.New("dmi: little module does not match the model")
	// ErrCalib: too little calibration data to determine the little module.
	ErrCalib = errors.New("dmi: not enough calibration data")
	// ErrParam: an invalid option (ε, bit width, k, ridge, θ).
	ErrParam = errors.New("dmi: invalid parameter")
	// ErrNotFinite: a NaN or infinity in data or results.
	ErrNotFinite = errors.New("dmi: non-finite value")
	// ErrFormat: a little-module file this package did not write.
	ErrFormat = errors.New("dmi: malformed little-module file")
)

// FP32 asks for a little module whose W̃ stays float32 (Table 3.5's FP32
// column); the other widths are quant's.
const FP32 = spec.FP32

// DefaultEps is the ε of eq. 3.9 the thesis settles on (Table 3.4): for an
// LSTM-1500 layer's n = 6000 gate rows it gives k = 417.
const DefaultEps = 0.5

// Options configure the fitting of little modules.
type Options struct {
	// Eps is ε of eq. 3.9, in (0, 1); 0 means DefaultEps.
	Eps float64
	// K, when positive, overrides the projected dimension eq. 3.9 gives.
	// Either way k is capped at each input's width, where projecting no
	// longer reduces anything.
	K int
	// Bits is the width of W̃: quant.Int2, Int4, Int8, Int16 or FP32;
	// 0 means quant.Int8, the thesis's choice for CPUs.
	Bits quant.Bits
	// Seed fixes the random projections.
	Seed uint64
	// Lambda is the ridge of spec.Stats.Solve. 0 is plain least squares,
	// the minimiser of eq. 3.12, except that when the samples do not
	// determine W̃ (saturated units make some directions of h constant,
	// and k capped at a small width makes P square) a ridge of 1e-6 of the
	// projections' average variance is used instead.
	Lambda float64
}

func (o Options) withDefaults() Options {
	if o.Eps == 0 {
		o.Eps = DefaultEps
	}
	if o.Bits == 0 {
		o.Bits = quant.Int8
	}
	return o
}

// check validates defaulted options.
func (o Options) check() error {
	switch {
	case !(o.Eps > 0 && o.Eps < 1):
		return fmt.Errorf("%w: ε = %v outside (0, 1)", ErrParam, o.Eps)
	case o.K < 0:
		return fmt.Errorf("%w: k = %d", ErrParam, o.K)
	case !(o.Lambda >= 0) || math.IsInf(o.Lambda, 1):
		return fmt.Errorf("%w: ridge λ = %v", ErrParam, o.Lambda)
	}
	switch o.Bits {
	case quant.Int2, quant.Int4, quant.Int8, quant.Int16, FP32:
		return nil
	}
	return fmt.Errorf("%w: %d-bit little module (want 2, 4, 8, 16 or 32)", ErrParam, int(o.Bits))
}

// projDim returns k for a layer of n output rows (eq. 3.9 or o.K), before
// capping at an input width.
func (o Options) projDim(n int) (int, error) {
	if o.K > 0 {
		return o.K, nil
	}
	k, err := rproj.KForDMI(o.Eps, max(n, 2))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrParam, err)
	}
	return max(k, 1), nil
}

// projSeed derives the seed of projection which (0: P_x, 1: P_h) of layer
// l from the user's seed with SplitMix64, so layers get unrelated P.
func projSeed(seed uint64, layer, which int) uint64 {
	z := seed + 0x9e3779b97f4a7c15*uint64(2*layer+which+1)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Little is the little module of one layer (thesis §3.3.2, eq. 3.20):
//
//	ỹ = W̃_x·(P_x x) + W̃_h·(P_h h) + b̃
//
// with P_x, P_h sparse random projections and W̃_x, W̃_h quantized with
// one scale per row. X carries P_x, W̃_x and the bias; H carries P_h and
// W̃_h and is nil for a fully connected layer, which has no h. The two
// halves are stored and quantized separately, and so are x and h at run
// time, because x (an embedding, say) and h can differ in scale by an
// order of magnitude and a shared INT8 scale would crush the smaller. A
// layer runs an INT8 module's halves fused into one product, with a fold
// that keeps the scales apart (see littleRun).
//
// Its outputs are the layer's gate pre-activations: for an LSTM the 4H
// sums W_ih x + b_ih + W_hh h + b_hh, gates [i f g o]; for a GRU 4H values
// [r z n_x n_h], where r and z are the summed pre-activations and n_x =
// W_in x + b_in, n_h = W_hn h + b_hn are kept apart because the GRU's
// candidate is tanh(n_x + r⊙n_h), which no single linear map predicts.
type Little struct {
	X *spec.Speculator
	H *spec.Speculator
	// Delta is the adaptive filter's |δ| (eq. 3.18) per gate, measured on
	// calibration samples.
	Delta []float64
	// MSE is the mean ‖y − ỹ‖² over calibration samples of the quantized
	// module (eq. 3.12), and ZeroMSE that of predicting zero, for scale.
	MSE, ZeroMSE float64
}

// Rows returns the number of outputs.
func (lt *Little) Rows() int { return lt.X.N }

// Bits returns the width of W̃.
func (lt *Little) Bits() quant.Bits {
	if lt.X.Q == nil {
		return FP32
	}
	return lt.X.Q.Bits
}

// Bytes returns the storage of W̃ (codes and scales) and b̃, the memory a
// step of the little module streams besides P.
func (lt *Little) Bytes() int {
	n := lt.X.WeightBytes() + 4*lt.X.N
	if lt.H != nil {
		n += lt.H.WeightBytes()
	}
	return n
}

// ProjectionBytes returns the storage of the index lists of P_x and P_h,
// which a CPU reads at every step (a hardware implementation would
// regenerate them from the seed).
func (lt *Little) ProjectionBytes() int {
	n := ternaryBytes(lt.X)
	if lt.H != nil {
		n += ternaryBytes(lt.H)
	}
	return n
}

// ternaryBytes is what a step reads of a projection: its k×d signs, two
// to a byte when packed, and k scales (see rproj.Signs).
func ternaryBytes(s *spec.Speculator) int {
	t := ternaryOf(s)
	return rproj.SignBytes(t.Rows, t.Cols)
}

func ternaryOf(s *spec.Speculator) *kernels.Ternary {
	p, ok := s.P.(*rproj.Projection)
	if !ok {
		panic(fmt.Sprintf("dmi: speculator projection is %T, want *rproj.Projection", s.P))
	}
	return p.Ternary()
}

// clone returns a deep copy of the weights, with projections rebuilt from
// their seeds, so that a benchmark's copies share no memory.
func (lt *Little) clone() *Little {
	c := &Little{X: cloneSpec(lt.X), Delta: append([]float64(nil), lt.Delta...), MSE: lt.MSE, ZeroMSE: lt.ZeroMSE}
	if lt.H != nil {
		c.H = cloneSpec(lt.H)
	}
	return c
}

func cloneSpec(s *spec.Speculator) *spec.Speculator {
	p := s.P.(*rproj.Projection)
	q, err := rproj.New(p.K(), p.D(), p.Sparsity(), p.Seed())
	if err != nil {
		panic(err) // the parameters were valid once
	}
	c := spec.NewSpeculator(q, append([]float32(nil), s.W...), append([]float32(nil), s.B...))
	if s.Q != nil {
		m := *s.Q
		m.Scales = append([]float32(nil), m.Scales...)
		m.I8 = append([]int8(nil), m.I8...)
		m.I16 = append([]int16(nil), m.I16...)
		m.Packed = append([]byte(nil), m.Packed...)
		c.Q = &m
	}
	return c
}

// blockProj is the block projection z = [P_x x; P_h h] of the input [x; h]
// that the joint fit of eq. 3.20 sees.
type blockProj struct{ px, ph *rproj.Projection }

func (b blockProj) K() int { return b.px.K() + b.ph.K() }
func (b blockProj) D() int { return b.px.D() + b.ph.D() }

func (b blockProj) Apply(z, x []float32) {
	kx, dx := b.px.K(), b.px.D()
	b.px.Apply(z[:kx], x[:dx])
	b.ph.Apply(z[kx:], x[dx:])
}

// Dense lets spec.Stats project calibration batches by GEMM.
func (b blockProj) Dense() []float32 {
	k, d := b.K(), b.D()
	kx, dx := b.px.K(), b.px.D()
	m := make([]float32, k*d)
	px, ph := b.px.Dense(), b.ph.Dense()
	for i := range kx {
		copy(m[i*d:i*d+dx], px[i*dx:(i+1)*dx])
	}
	for i := range b.ph.K() {
		copy(m[(kx+i)*d+dx:(kx+i+1)*d], ph[i*b.ph.D():(i+1)*b.ph.D()])
	}
	return m
}

// quantizeSpec returns s at the given width (s itself for FP32).
func quantizeSpec(s *spec.Speculator, bits quant.Bits) (*spec.Speculator, error) {
	if bits == FP32 {
		return s, nil
	}
	q, err := s.Quantize(bits)
	if err != nil {
		return nil, fmt.Errorf("dmi: %w", err)
	}
	return q, nil
}

// splitJoint turns the jointly fitted N×(k_x+k_h) speculator over [P_x x;
// P_h h] into the X and H halves of a Little, each quantized on its own.
func splitJoint(j *spec.Speculator, bp blockProj, bits quant.Bits) (*Little, error) {
	n, k, kx, kh := j.N, j.K, bp.px.K(), bp.ph.K()
	wx, wh := make([]float32, n*kx), make([]float32, n*kh)
	for i := range n {
		copy(wx[i*kx:(i+1)*kx], j.W[i*k:i*k+kx])
		copy(wh[i*kh:(i+1)*kh], j.W[i*k+kx:(i+1)*k])
	}
	x, err := quantizeSpec(spec.NewSpeculator(bp.px, wx, j.B), bits)
	if err != nil {
		return nil, err
	}
	h, err := quantizeSpec(spec.NewSpeculator(bp.ph, wh, make([]float32, n)), bits)
	if err != nil {
		return nil, err
	}
	return &Little{X: x, H: h}, nil
}

// littleRun runs a Little at a batch-1 step with preallocated buffers.
// x and h are quantized on their own (x_Q of Algorithm 2, as their scales
// may differ by an order of magnitude) and projected by integer GEMVs over
// the projections' signs (see rproj.Signs) into one buffer z = [P_x x; P_h h],
// the two halves in parallel on a pool.
//
// An INT8 module then runs as one product over rows of k_x+k_h columns,
//
//	ỹ = [W̃_x | c·W̃_h]·[P_x x; P_h h / c] + b̃,
//
// with z quantized to INT8 as a whole: one quantization and one GEMV
// instead of two of each, so half the rows, per-row epilogues and pool
// tasks. The fused matrix is requantized with one scale per row from the
// stored halves when the run is built, so the file format is unchanged
// (and fitting measures the module's MSE and |δ| on this run). The
// constant c (see foldRatio) balances the two weight halves, so the half
// whose row maximum is the smaller loses little precision in sharing the
// row's scale; dividing P_h h by c keeps the product unchanged, and leaves
// each half of z in proportion to its contribution to ỹ, so that sharing
// z's scale rounds the half that matters less more coarsely. The extra
// rounding is at most half a step of the fused grids per weight and
// input, 1–2% of the output's size (TestFusedLittle), far below the
// little module's own error.
//
// On a 4-bit grid the same requantization would add an error comparable
// to W̃'s own, so INT4 modules, and those of the widths without integer
// kernels (FP32, INT16 and INT2, run in float on the dequantized W̃), keep
// their two halves, each with its own quantization of z, and only share
// the pool task.
//
// The state lives behind a pointer so that the loop bodies handed to
// kernels.Pool.For are bound once, and a step allocates nothing.
type littleRun struct{ *fusedRun }

type fusedRun struct {
	n      int // outputs
	kx     int // length of P_x x in z
	px, ph *rproj.Signs
	z      []float32 // [P_x x_Q; P_h h_Q / c]
	zq     []int8    // z quantized, per part
	c      float32   // the fold of W̃_h; 1 unless fused
	parts  []runPart // the fused matrix, or the x and h halves
	tmp    []float32 // the h half's outputs, with two parts
	grain  int       // rows per pool task in predict

	// The arguments of the call in progress, read by the bound loop
	// bodies; cleared afterwards so nothing is retained.
	x, h, y        []float32
	projFn, rowsFn func(lo, hi int)
}

// runPart is one matrix of a littleRun and the stretch of z it multiplies:
// INT8 or packed INT4 codes with per-row scales, or float32 (bits FP32).
type runPart struct {
	bits   quant.Bits
	cols   int
	i8     []int8
	packed []byte
	f32    []float32
	scales []float32
	b      []float32 // nil for the h half
	z      []float32
	zq     []int8
	zs     float32 // scale of zq
}

func newLittleRun(lt *Little) littleRun {
	f := &fusedRun{n: lt.X.N, kx: lt.X.K, c: 1}
	f.px = rproj.NewSigns(ternaryOf(lt.X), ternaryOf(lt.X).Scale)
	k := lt.X.K
	if lt.H != nil {
		k += lt.H.K
	}
	f.z, f.zq = make([]float32, k), make([]int8, k)
	switch {
	case lt.H == nil:
		f.parts = []runPart{f.half(lt.X, 0)}
	case lt.Bits() == quant.Int8 && foldable(lt.X, lt.H, &f.c):
		f.parts = []runPart{f.fuse(lt.X, lt.H)}
	default:
		f.c = 1
		f.parts = []runPart{f.half(lt.X, 0), f.half(lt.H, lt.X.K)}
		f.parts[1].b = nil
		f.tmp = make([]float32, f.n)
	}
	if lt.H != nil {
		t := ternaryOf(lt.H)
		f.ph = rproj.NewSigns(t, t.Scale/f.c)
	}
	rowBytes := 0
	for _, p := range f.parts {
		switch p.bits {
		case quant.Int8:
			rowBytes += p.cols
		case quant.Int4:
			rowBytes += (p.cols + 1) / 2
		default:
			rowBytes += 4 * p.cols
		}
	}
	// About 256 KiB of weights per task, in whole groups of four rows,
	// like the kernels' own pool methods.
	f.grain = max(4, (256<<10)/rowBytes) &^ 3
	f.projFn, f.rowsFn = f.projHalves, f.rowsOfY
	return littleRun{f}
}

// half returns the part running s as stored, on z[off:off+s.K].
func (f *fusedRun) half(s *spec.Speculator, off int) runPart {
	p := runPart{bits: FP32, cols: s.K, b: s.B, z: f.z[off : off+s.K], zq: f.zq[off : off+s.K]}
	switch {
	case s.Q != nil && s.Q.Bits == quant.Int8:
		p.bits, p.i8, p.scales = quant.Int8, s.Q.I8, s.Q.RowScales()
	case s.Q != nil && s.Q.Bits == quant.Int4:
		p.bits, p.packed, p.scales = quant.Int4, s.Q.Packed, s.Q.RowScales()
	default:
		p.f32 = s.W
	}
	return p
}

// fuse returns the INT8 part [W̃_x | c·W̃_h] on all of z.
func (f *fusedRun) fuse(x, h *spec.Speculator) runPart {
	n, kx, kh := x.N, x.K, h.K
	p := runPart{bits: quant.Int8, cols: kx + kh, b: x.B, z: f.z, zq: f.zq}
	p.i8, p.scales = make([]int8, 0, n*p.cols), make([]float32, n)
	// Requantize in blocks of rows, so the float rows in between stay small.
	const block = 256
	buf := make([]float32, min(n, block)*p.cols)
	for lo := 0; lo < n; lo += block {
		hi := min(n, lo+block)
		rows := buf[:(hi-lo)*p.cols]
		for i := lo; i < hi; i++ {
			r := rows[(i-lo)*p.cols : (i-lo+1)*p.cols]
			copy(r, x.W[i*kx:(i+1)*kx])
			for j, v := range h.W[i*kh : (i+1)*kh] {
				r[kx+j] = f.c * v
			}
		}
		q, err := quant.Quantize(rows, hi-lo, p.cols, quant.Int8, true)
		if err != nil {
			// The halves were quantized once, so they are finite, and so
			// is c, a ratio of their nonzero maxima.
			panic(fmt.Sprintf("dmi: fusing a little module: %v", err))
		}
		copy(p.scales[lo:hi], q.Scales)
		p.i8 = append(p.i8, q.I8...)
	}
	return p
}

// foldRatio returns c, the median over rows of max|W̃_x row| / max|W̃_h row|
// (1 if no row has both halves nonzero). The median balances the typical
// row; a row whose ratio is r·c loses about log2(max(r, 1/r)) bits on its
// smaller half.
func foldRatio(x, h *spec.Speculator) float32 {
	r := make([]float64, 0, x.N)
	for i := range x.N {
		ax := maxAbs(x.W[i*x.K : (i+1)*x.K])
		ah := maxAbs(h.W[i*h.K : (i+1)*h.K])
		if ax > 0 && ah > 0 {
			r = append(r, float64(ax)/float64(ah))
		}
	}
	if len(r) == 0 {
		return 1
	}
	slices.Sort(r)
	return float32(r[len(r)/2])
}

// foldable sets *c to the fold ratio of the halves and reports whether
// c·W̃_h stays finite in float32, so they can be fused: a file's weights
// are finite, but halves of wildly different scales (the fuzzer made
// one) can overflow when folded, and then run as two parts instead.
func foldable(x, h *spec.Speculator, cp *float32) bool {
	c := foldRatio(x, h)
	*cp = c
	if !(c > 0) || math.IsInf(float64(c), 0) {
		return false
	}
	for i := range h.N {
		if float64(c)*float64(maxAbs(h.W[i*h.K:(i+1)*h.K])) > math.MaxFloat32 {
			return false
		}
	}
	return true
}

func maxAbs(v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	return m
}

// predict sets y = ỹ(x, h); h is ignored without an H half.
func (f *fusedRun) predict(p *kernels.Pool, y, x, h []float32) {
	f.project(p, x, h)
	f.y = y
	p.For(f.n, f.grain, f.rowsFn)
	f.y = nil
}

// project sets z from x and h and quantizes it for the parts: the first
// phase of predict, which Layer completes gate by gate with rows.
func (f *fusedRun) project(p *kernels.Pool, x, h []float32) {
	f.x, f.h = x, h
	halves := 1
	if len(f.z) > f.kx {
		halves = 2
	}
	p.For(halves, 1, f.projFn)
	f.x, f.h = nil, nil
	for i := range f.parts {
		if q := &f.parts[i]; q.bits != FP32 {
			q.zs = kernels.QuantizeInt8(q.zq, q.z)
		}
	}
}

// projHalves projects x (half 0) and h (half 1) for the halves in
// [lo, hi).
func (f *fusedRun) projHalves(lo, hi int) {
	for i := lo; i < hi; i++ {
		if i == 0 {
			f.px.Apply(nil, f.z[:f.kx], f.x)
		} else {
			f.ph.Apply(nil, f.z[f.kx:], f.h)
		}
	}
}

func (f *fusedRun) rowsOfY(lo, hi int) { f.rows(f.y, lo, hi) }

// rows sets y[lo:hi] to those outputs of ỹ, after project, on the calling
// goroutine.
func (f *fusedRun) rows(y []float32, lo, hi int) {
	f.parts[0].rows(y, lo, hi)
	if len(f.parts) == 1 {
		return
	}
	f.parts[1].rows(f.tmp, lo, hi)
	for i, v := range f.tmp[lo:hi] {
		y[lo+i] += v
	}
}

// rows sets y[lo:hi] to W[lo:hi]·z + b[lo:hi].
func (p *runPart) rows(y []float32, lo, hi int) {
	c := p.cols
	var b []float32
	if p.b != nil {
		b = p.b[lo:hi]
	}
	switch p.bits {
	case quant.Int8:
		kernels.GemvInt8(y[lo:hi], p.i8[lo*c:hi*c], p.scales[lo:hi], c, p.zq, p.zs, b)
	case quant.Int4:
		s := (c + 1) / 2
		kernels.GemvInt4(y[lo:hi], p.packed[lo*s:hi*s], p.scales[lo:hi], c, p.zq, p.zs, b)
	default:
		kernels.Gemv(y[lo:hi], p.f32[lo*c:hi*c], c, p.z, b)
	}
}

// solve runs st.Solve(lambda), falling back as Options.Lambda says; xs
// are some calibration inputs (rows of p's input) to scale the fallback
// ridge by.
func solve(st *spec.Stats, p spec.Projector, lambda float64, xs []float32) (*spec.Speculator, error) {
	sp, err := st.Solve(lambda)
	if lambda != 0 || !errors.Is(err, spec.ErrSingular) {
		return sp, err
	}
	k, d := p.K(), p.D()
	n := len(xs) / d
	if n < 2 {
		return nil, err
	}
	zs := make([]float32, n*k)
	mean := make([]float64, k)
	for i := range n {
		p.Apply(zs[i*k:(i+1)*k], xs[i*d:(i+1)*d])
		for j, v := range zs[i*k : (i+1)*k] {
			mean[j] += float64(v) / float64(n)
		}
	}
	var v float64
	for i, z := range zs {
		e := float64(z) - mean[i%k]
		v += e * e
	}
	// v/n is the mean ‖z − z̄‖², so v/n/k the average eigenvalue of the
	// covariance; the Gram matrix holds S times it.
	avg := v / float64(n) / float64(k)
	if !(avg > 0) {
		return nil, err
	}
	return st.Solve(1e-6 * float64(st.Samples()) * avg)
}

func sigmoid(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

func checkFinite(what string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNotFinite, what, i, x)
		}
	}
	return nil
}

// flush evicts the run's weights: the parts' codes, scales and biases and
// the projections' signs.
func (f *fusedRun) flush() bool {
	ok := f.px.Flush()
	if f.ph != nil {
		ok = f.ph.Flush() && ok
	}
	for _, p := range f.parts {
		ok = kernels.Flush(p.i8) && kernels.Flush(p.packed) && kernels.Flush(p.f32) &&
			kernels.Flush(p.scales) && kernels.Flush(p.b) && ok
	}
	return ok
}
