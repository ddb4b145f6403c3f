package screen

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	// ErrMismatch: a screener used with a classifier it was not fitted to
	// (another shape or another fingerprint).
	ErrMismatch = errors.New("screen: screener does not match the classifier")
	// ErrCalib: too little (or no) calibration data.
	ErrCalib = errors.New("screen: not enough calibration data")
	// ErrParam: an invalid option or selection (k/d, bits, m, δ, gap).
	ErrParam = errors.New("screen: invalid parameter")
	// ErrNotFinite: a NaN or infinity in hidden vectors or logits.
	ErrNotFinite = errors.New("screen: non-finite value")
	// ErrFormat: a screener file this package did not write.
	ErrFormat = errors.New("screen: malformed screener file")
)

// FP32 asks for a screener whose W̃ stays float32; the other widths are
// quant's.
const FP32 = spec.FP32

// DefaultKRatio is the thesis's parameter reduction scale k/d (Figure
// 6.11a): with INT4 weights the screener is 0.25·4/32 = 3.1% of an FP32
// classifier.
const DefaultKRatio = 0.25

// Options configure Fit. The zero value is the thesis's design point:
// k/d = 0.25, INT4 weights, closed-form fit.
type Options struct {
	// KRatio is k/d in (0, 1]; 0 means DefaultKRatio.
	KRatio float64
	// K, when positive, overrides KRatio.
	K int
	// Bits is the width of W̃: quant.Int2, Int4, Int8, Int16 or FP32;
	// 0 means quant.Int4.
	Bits quant.Bits
	// Seed fixes the projection P.
	Seed uint64
	// Lambda is the ridge of spec.Stats.Solve (0: plain least squares).
	Lambda float64
	// SGD fits by minibatch SGD (thesis Algorithm 3) instead of the closed
	// form. It needs the S×L targets in memory.
	SGD bool
	// SGDConfig configures the SGD fit.
	SGDConfig spec.SGDConfig
	// NoBound skips the residual bound that the certified mode needs, which
	// costs one L×K×D matrix product at fit time.
	NoBound bool
}

func (o Options) withDefaults() Options {
	if o.KRatio == 0 {
		o.KRatio = DefaultKRatio
	}
	if o.Bits == 0 {
		o.Bits = quant.Int4
	}
	return o
}

func (o Options) check() error {
	switch {
	case !(o.KRatio > 0 && o.KRatio <= 1):
		return fmt.Errorf("%w: k/d = %v outside (0, 1]", ErrParam, o.KRatio)
	case o.K < 0:
		return fmt.Errorf("%w: k = %d", ErrParam, o.K)
	case !(o.Lambda >= 0) || math.IsInf(o.Lambda, 1):
		return fmt.Errorf("%w: ridge λ = %v", ErrParam, o.Lambda)
	}
	return checkBits(o.Bits)
}

func checkBits(b quant.Bits) error {
	switch b {
	case quant.Int2, quant.Int4, quant.Int8, quant.Int16, FP32:
		return nil
	}
	return fmt.Errorf("%w: %d-bit screener (want 2, 4, 8, 16 or 32)", ErrParam, int(b))
}

// projDim returns k for hidden width d.
func (o Options) projDim(d int) int {
	if o.K > 0 {
		return min(o.K, d)
	}
	return min(max(int(math.Round(o.KRatio*float64(d))), 1), d)
}

// Screener is the approximate screening module of eq. 6.3,
//
//	z̃ = W̃·(P·h) + b̃,
//
// with P a k×d sparse ternary projection (entries √(3/k)·{−1, 0, 1}) and
// W̃ an l×k matrix, fitted to one classifier z = Wh + b (eq. 6.1), which
// Fingerprint identifies.
type Screener struct {
	Spec        *spec.Speculator // P, W̃ (quantized unless Bits is FP32) and b̃
	L, D, K     int
	Bits        quant.Bits
	Seed        uint64
	Fingerprint string // of the classifier's W and b, see Fingerprint
	// MSE is eq. 6.4 on (up to mseSamples) calibration vectors, and ZeroMSE
	// the same loss for z̃ = 0, for scale.
	MSE, ZeroMSE float64
	// Bound bounds the screener's error for the certified mode; nil when
	// fitted with NoBound.
	Bound *Bound
	// TailShifts maps a top-m count to the calibrated shift of the
	// approximate tail logits (Classifier.FitTailShift) that a Classifier
	// at that top-m applies; nil when none was calibrated.
	TailShifts map[int]float32
}

// Fingerprint identifies a classifier by a hash of its shape and the bits
// of every weight and bias, so a screener is never paired with another
// classifier of the same shape. A float16 classifier hashes its two-byte
// weights, so it never matches the float32 one it was rounded from.
func Fingerprint(c *spec.Linear) string {
	h := sha256.New()
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(c.N))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(c.D))
	h.Write(hdr[:])
	buf := make([]byte, 0, 1<<16)
	flush := func() {
		if len(buf) >= cap(buf)-4 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	for _, v := range c.W16 {
		buf = binary.LittleEndian.AppendUint16(buf, v)
		flush()
	}
	for _, p := range [][]float32{c.W, c.B} {
		for _, v := range p {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			flush()
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// mseSamples caps the calibration vectors Fit scores eq. 6.4 on: each costs
// a full pass over W.
const mseSamples = 64

// maxSGDTargets caps S·L for the SGD fit, whose targets are held in memory.
const maxSGDTargets = 1 << 28

// Fit fits a screener to the classifier c from calibration hidden vectors
// hs (S×d, row-major): the closed-form minimiser of eq. 6.4 through
// spec.Stats, or minibatch SGD on it (Algorithm 3) with o.SGD. W̃ is then
// quantized with one scale per row. pool runs the products (nil: the caller
// only).
//
// It returns an error wrapping ErrCalib for an empty calibration set or one
// too small to determine W̃ (S ≤ k+1 without a ridge), ErrNotFinite for a
// NaN or infinity in hs, and ErrParam for bad options. It panics if len(hs)
// is not a multiple of d.
func Fit(c *spec.Linear, hs []float32, o Options, pool *kernels.Pool) (*Screener, error) {
	d := c.D
	if len(hs)%d != 0 {
		panic(fmt.Sprintf("screen: Fit: len(hs)=%d is not a multiple of d=%d", len(hs), d))
	}
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	s := len(hs) / d
	k := o.projDim(d)
	switch {
	case s == 0:
		return nil, fmt.Errorf("%w: empty calibration set", ErrCalib)
	case o.Lambda == 0 && !o.SGD && s <= k+1:
		return nil, fmt.Errorf("%w: %d calibration vectors for k=%d, need more than %d (or a ridge)", ErrCalib, s, k, k+1)
	case o.SGD && s*c.N > maxSGDTargets:
		return nil, fmt.Errorf("%w: SGD would hold %d×%d targets; use the closed form", ErrParam, s, c.N)
	case c.Half() && !o.NoBound:
		return nil, fmt.Errorf("%w: the certified bound is not computed for a float16 classifier; fit with NoBound", ErrParam)
	}
	if err := checkFinite("calibration vector", hs, d); err != nil {
		return nil, err
	}
	p, err := rproj.New(k, d, rproj.DefaultSparsity, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParam, err)
	}
	var sp *spec.Speculator
	if o.SGD {
		sp, err = spec.FitSGD(p, hs, c.Targets(hs), o.SGDConfig)
	} else {
		st := spec.NewLinearStats(c, p)
		switch err = st.Add(hs); {
		case err != nil:
		case c.Half():
			sp, err = fitMapped(c, st, p, o, pool)
		default:
			sp, err = st.Solve(o.Lambda)
		}
	}
	if errors.Is(err, spec.ErrSingular) {
		return nil, fmt.Errorf("%w: %w", ErrCalib, err)
	}
	if err != nil {
		return nil, fmt.Errorf("screen: fit: %w", err)
	}
	if o.Bits != FP32 && sp.Q == nil {
		if sp, err = sp.Quantize(o.Bits); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrParam, err)
		}
	}
	sc := &Screener{Spec: sp, L: c.N, D: d, K: k, Bits: o.Bits, Seed: o.Seed, Fingerprint: Fingerprint(c)}
	sc.MSE, sc.ZeroMSE = sc.mse(c, hs[:min(s, mseSamples)*d], pool)
	if !o.NoBound {
		sc.Bound = newBound(c, sc, hs, pool)
	}
	return sc, nil
}

// fitMapped is the closed-form fit of a float16 classifier. A 10M-class
// one would need gigabytes for the float32 W̃ and again for Solve's
// float64 cross moments, so it takes the fit as a map of W's rows
// (spec.Stats.SolveMap: W̃_i = W_i·M, b̃_i = W_i·m + b_i), applies it block
// by block of widened rows with one GEMM each, and quantizes each block as
// it is made. An INT8 or INT4 result keeps no dequantized view (its
// kernels never read one); the other widths keep theirs, as Quantize does.
func fitMapped(c *spec.Linear, st *spec.Stats, p spec.Projector, o Options, pool *kernels.Pool) (*spec.Speculator, error) {
	m, mb, err := st.SolveMap(o.Lambda)
	if err != nil {
		return nil, err
	}
	d, k := c.D, p.K()
	k1 := k + 1
	mm := make([]float32, d*k1) // [M | m]
	for j := range d {
		for t := range k {
			mm[j*k1+t] = float32(m[j*k+t])
		}
		mm[j*k1+k] = float32(mb[j])
	}
	rows := max(1, (4<<20)/d) // 16 MiB of widened weights per block
	wf := make([]float32, rows*d)
	out := make([]float32, rows*k1)
	wt := make([]float32, rows*k)
	sp := &spec.Speculator{P: p, N: c.N, K: k, B: make([]float32, c.N)}
	if o.Bits == FP32 {
		sp.W = make([]float32, c.N*k)
	} else {
		sp.Q = quant.NewMatrix(o.Bits, c.N, k)
	}
	for lo := 0; lo < c.N; lo += rows {
		hi := min(lo+rows, c.N)
		nb := hi - lo
		pool.Gemm(false, false, nb, k1, d, 1, c.RowsF32(wf, lo, hi), d, mm, k1, 0, out[:nb*k1], k1)
		for r := range nb {
			sp.B[lo+r] = out[r*k1+k]
			if c.B != nil {
				sp.B[lo+r] += c.B[lo+r]
			}
			copy(wt[r*k:(r+1)*k], out[r*k1:r*k1+k])
		}
		if err := checkFinite("fitted weight", wt[:nb*k], k); err != nil {
			return nil, err
		}
		if sp.Q == nil {
			copy(sp.W[lo*k:], wt[:nb*k])
			continue
		}
		q, err := quant.Quantize(wt[:nb*k], nb, k, o.Bits, true)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrParam, err)
		}
		sp.Q.SetRows(lo, q)
	}
	if err := checkFinite("fitted bias", sp.B, 1); err != nil {
		return nil, err
	}
	if sp.Q != nil && o.Bits != quant.Int8 && o.Bits != quant.Int4 {
		sp.W = sp.Q.Dequantize()
	}
	return sp, nil
}

// Bytes returns the storage the screener streams per input: W̃'s codes and
// scales and the float32 b̃. P is not counted; see ProjectionBytes.
func (s *Screener) Bytes() int { return s.Spec.WeightBytes() + 4*s.L }

// ProjectionBytes returns the storage of P's index lists (a hardware
// screener would regenerate P from its seed).
func (s *Screener) ProjectionBytes() int {
	t := s.ternary()
	return 4 * (len(t.Plus) + len(t.Minus) + len(t.PlusPtr) + len(t.MinusPtr))
}

// BytesRatio returns Bytes over the FP32 classifier's W and b, 4·l·(d+1).
// Its leading term is the thesis's overhead, (k/d)·bits/32 (3.1% at
// k/d = 0.25, INT4); per-row scales and b̃ add (4+4)/(4d) for d = 512.
func (s *Screener) BytesRatio() float64 {
	return float64(s.Bytes()) / (4 * float64(s.L) * float64(s.D+1))
}

// CodeRatio returns the bytes of W̃'s codes alone over those of W: exactly
// (k/d)·bits/32 when every packed row fills its bytes.
func (s *Screener) CodeRatio() float64 {
	codes := s.Spec.WeightBytes()
	if s.Spec.Q != nil {
		codes -= 4 * len(s.Spec.Q.Scales)
	}
	return float64(codes) / (4 * float64(s.L) * float64(s.D))
}

func (s *Screener) ternary() *kernels.Ternary {
	p, ok := s.Spec.P.(*rproj.Projection)
	if !ok {
		panic(fmt.Sprintf("screen: screener projection is %T, want *rproj.Projection", s.Spec.P))
	}
	return p.Ternary()
}

// intKernel reports whether the screener runs on an integer GEMV, which
// quantizes P·h to INT8 on each call.
func (s *Screener) intKernel() bool {
	return s.Spec.Q != nil && (s.Bits == quant.Int8 || s.Bits == quant.Int4)
}

// check returns an error wrapping ErrMismatch unless s was fitted to c.
// The fingerprint is compared only when check is asked to hash.
func (s *Screener) check(c *spec.Linear, hash bool) error {
	if s == nil || s.Spec == nil {
		return fmt.Errorf("%w: no screener", ErrMismatch)
	}
	if s.L != c.N || s.D != c.D || s.Spec.N != c.N || s.Spec.P.D() != c.D {
		return fmt.Errorf("%w: screener is for a %d×%d classifier, got %d×%d", ErrMismatch, s.L, s.D, c.N, c.D)
	}
	if _, ok := s.Spec.P.(*rproj.Projection); !ok {
		// The runner needs P's signs (rproj.Signs) or its index lists.
		return fmt.Errorf("%w: screener projection is a %T; a screener runs on an *rproj.Projection", ErrMismatch, s.Spec.P)
	}
	if hash {
		if fp := Fingerprint(c); fp != s.Fingerprint {
			return fmt.Errorf("%w: screener fitted to classifier %s, got %s", ErrMismatch, s.Fingerprint, fp)
		}
	}
	return nil
}

// mse returns eq. 6.4 for s and for z̃ = 0 over the vectors hs, with the
// full logits taken in blocks of W by GEMM.
func (s *Screener) mse(c *spec.Linear, hs []float32, pool *kernels.Pool) (mse, zero float64) {
	n := len(hs) / c.D
	if n == 0 {
		return 0, 0
	}
	zt := make([]float32, n*c.N)
	r := newRunner(s)
	for i := range n {
		r.screen(pool, zt[i*c.N:(i+1)*c.N], hs[i*c.D:(i+1)*c.D])
	}
	fullBlocks(pool, c, hs, n, func(lo, hi int, z []float32) {
		w := hi - lo
		for i := range n {
			for j, v := range z[i*w : (i+1)*w] {
				e := float64(v) - float64(zt[i*c.N+lo+j])
				mse += e * e
				zero += float64(v) * float64(v)
			}
		}
	})
	return mse / float64(n), zero / float64(n)
}

// fullBlocks computes the full logits Z = H·Wᵀ + b of n vectors hs in
// blocks of W's rows, one GEMM each, and passes each n×(hi−lo) block of Z
// (row-major) to fn. Many vectors then cost one pass over W instead of one
// each.
func fullBlocks(pool *kernels.Pool, c *spec.Linear, hs []float32, n int, fn func(lo, hi int, z []float32)) {
	d := c.D
	block := max(1, min(c.N, (4<<20)/max(1, n)))
	buf := make([]float32, n*block)
	var wf []float32 // float16 rows widened, 32 MiB at a time
	if c.Half() {
		block = min(block, max(1, (8<<20)/d))
		wf = make([]float32, block*d)
	}
	for lo := 0; lo < c.N; lo += block {
		hi := min(lo+block, c.N)
		w := hi - lo
		z := buf[:n*w]
		pool.Gemm(false, true, n, w, d, 1, hs[:n*d], d, c.RowsF32(wf, lo, hi), d, 0, z, w)
		if c.B != nil {
			for i := range n {
				kernels.Axpy(1, c.B[lo:hi], z[i*w:(i+1)*w])
			}
		}
		fn(lo, hi, z)
	}
}

func checkFinite(what string, v []float32, width int) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: %s %d, column %d is %v", ErrNotFinite, what, i/width, i%width, x)
		}
	}
	return nil
}
