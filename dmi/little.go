package dmi

import (
	"errors"
	"fmt"
	"math"

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
// halves are quantized separately, and so is their input at run time,
// because x (an embedding, say) and h can differ in scale by an order of
// magnitude and a shared INT8 scale would crush the smaller.
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

// ternaryBytes is what a step reads of a projection: its k×d sign bytes
// and k scales (see signProj).
func ternaryBytes(s *spec.Speculator) int {
	t := ternaryOf(s)
	return t.Rows*t.Cols + 4*t.Rows
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

// littleRun runs a Little at a batch-1 step with preallocated buffers:
// project by kernels.Ternary, quantize the projection to INT8 with
// kernels.QuantizeInt8 (x_Q of Algorithm 2, taken after the projection,
// which is float anyway) and multiply by the integer kernels. INT16 and
// INT2 have no kernels and run on the dequantized W̃, as spec does.
type littleRun struct {
	lt     *Little
	px, ph signProj
	zx, zh []float32
	qx, qh []int8
	tmp    []float32
}

func newLittleRun(lt *Little) littleRun {
	r := littleRun{lt: lt, px: newSignProj(ternaryOf(lt.X)), zx: make([]float32, lt.X.K), qx: make([]int8, lt.X.K)}
	if lt.H != nil {
		r.ph = newSignProj(ternaryOf(lt.H))
		r.zh, r.qh = make([]float32, lt.H.K), make([]int8, lt.H.K)
		r.tmp = make([]float32, lt.H.N)
	}
	return r
}

// predict sets y = ỹ(x, h); h is ignored without an H half.
func (r *littleRun) predict(p *kernels.Pool, y, x, h []float32) {
	r.px.apply(p, r.zx, x)
	specGemv(p, y, r.lt.X, r.zx, r.qx, r.lt.X.B)
	if r.lt.H == nil {
		return
	}
	r.ph.apply(p, r.zh, h)
	specGemv(p, r.tmp, r.lt.H, r.zh, r.qh, nil)
	for i, v := range r.tmp {
		y[i] += v
	}
}

// signProj applies a ternary projection P = scale·S, S ∈ {−1,0,+1}^{k×d},
// at run time as an INT8 GEMV of the stored signs with the input quantized
// to int8 — the thesis's x_Q (Algorithm 2), which the little module may
// use since it only approximates. The VNNI kernel streams the k×d sign
// bytes several times faster than the index-list gather of
// kernels.Ternary.Apply (BenchmarkProjection, k=417, d=1500, one thread:
// about 20 µs against 190 µs), and k·d bytes are fewer than the 4-byte indices of the d/3
// nonzeros per row.
type signProj struct {
	d      int
	signs  []int8    // k×d row-major
	scales []float32 // len k, each the projection's scale
	xq     []int8    // len d, the quantized input
}

func newSignProj(t *kernels.Ternary) signProj {
	sp := signProj{d: t.Cols, signs: make([]int8, t.Rows*t.Cols), scales: make([]float32, t.Rows), xq: make([]int8, t.Cols)}
	for i := 0; i < t.Rows; i++ {
		row := sp.signs[i*t.Cols : (i+1)*t.Cols]
		for _, j := range t.Plus[t.PlusPtr[i]:t.PlusPtr[i+1]] {
			row[j] = 1
		}
		for _, j := range t.Minus[t.MinusPtr[i]:t.MinusPtr[i+1]] {
			row[j] = -1
		}
		sp.scales[i] = t.Scale
	}
	return sp
}

// apply sets z = P·x_Q.
func (sp *signProj) apply(p *kernels.Pool, z, x []float32) {
	s := kernels.QuantizeInt8(sp.xq, x)
	if p == nil {
		kernels.GemvInt8(z, sp.signs, sp.scales, sp.d, sp.xq, s, nil)
		return
	}
	p.GemvInt8(z, sp.signs, sp.scales, sp.d, sp.xq, s, nil)
}

// specGemv sets y = W̃z + b for one half of a little module.
func specGemv(p *kernels.Pool, y []float32, s *spec.Speculator, z []float32, zq []int8, b []float32) {
	if s.Q == nil || (s.Q.Bits != quant.Int8 && s.Q.Bits != quant.Int4) {
		gemv(p, y, s.W, s.K, z, b)
		return
	}
	zs := kernels.QuantizeInt8(zq, z)
	sc := s.Q.Scales
	if len(sc) != s.N {
		sc = s.Q.RowScales()
	}
	switch {
	case s.Q.Bits == quant.Int8 && p == nil:
		kernels.GemvInt8(y, s.Q.I8, sc, s.K, zq, zs, b)
	case s.Q.Bits == quant.Int8:
		p.GemvInt8(y, s.Q.I8, sc, s.K, zq, zs, b)
	case p == nil:
		kernels.GemvInt4(y, s.Q.Packed, sc, s.K, zq, zs, b)
	default:
		p.GemvInt4(y, s.Q.Packed, sc, s.K, zq, zs, b)
	}
}

func gemv(p *kernels.Pool, y, w []float32, cols int, x, b []float32) {
	if p == nil {
		kernels.Gemv(y, w, cols, x, b)
		return
	}
	p.Gemv(y, w, cols, x, b)
}

func gemvGather(p *kernels.Pool, y, w []float32, cols int, x, b []float32, idx []int32) {
	if p == nil {
		kernels.GemvGather(y, w, cols, x, b, idx)
		return
	}
	p.GemvGather(y, w, cols, x, b, idx)
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
