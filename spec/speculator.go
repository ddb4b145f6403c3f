package spec

import (
	"fmt"
	"math"
	"sync"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
)

// Speculator is the little module of dual-module inference (the screener of
// chapter 6): ỹ = W̃(Px) + b̃, with P a fixed K×D random projection and W̃ a
// small N×K matrix fitted to imitate a big N×D map.
//
// A speculator is FP32 when Q is nil. Quantize makes an integer one; those
// of INT8 and INT4 run on the integer kernels, quantizing Px to int8 on each
// call as the thesis's Algorithm 2 quantizes the input, while INT16 and INT2,
// which have no kernels, run on the dequantized weights.
//
// A Speculator is safe for concurrent Predict calls.
type Speculator struct {
	P    Projector
	N, K int
	// W is N×K row-major; with Q set, the dequantized view of Q, which an
	// INT8 or INT4 speculator built block by block (package screen, for
	// float16 classifiers) omits: its kernels never read it.
	W []float32
	B []float32     // length N, kept in float32 at every bit width
	Q *quant.Matrix // quantized W̃ with per-row scales, or nil for FP32

	scratch sync.Pool // *predictScratch for Predict
}

type predictScratch struct {
	z  []float32 // Px
	zq []int8    // Px quantized, for the integer kernels
}

// NewSpeculator returns the speculator ỹ = W(Px) + b for an N×K matrix w,
// with N = len(b). It panics if the shapes disagree.
func NewSpeculator(p Projector, w, b []float32) *Speculator {
	k := p.K()
	n := len(b)
	if n == 0 || len(w) != n*k {
		panic(fmt.Sprintf("spec: NewSpeculator: len(w)=%d, len(b)=%d, want len(w) = len(b)×K with K=%d", len(w), len(b), k))
	}
	return &Speculator{P: p, N: n, K: k, W: w, B: b}
}

// Predict sets y = W̃(Px) + b̃. It panics unless len(y) == N and
// len(x) == P.D().
func (s *Speculator) Predict(y, x []float32) {
	if len(y) != s.N || len(x) != s.P.D() {
		panic(fmt.Sprintf("spec: Speculator.Predict: len(y)=%d len(x)=%d, want %d and %d", len(y), len(x), s.N, s.P.D()))
	}
	sc := s.getScratch()
	s.P.Apply(sc.z, x)
	s.predict(y, sc.z, sc.zq)
	s.scratch.Put(sc)
}

// Speculate is Predict under the name of speculate.Speculator, the
// runtime's interface, which a Speculator satisfies.
func (s *Speculator) Speculate(approx, x []float32) { s.Predict(approx, x) }

// PredictProjected sets y = W̃z + b̃ for an input already projected, z = Px.
// It panics unless len(y) == N and len(z) == K.
func (s *Speculator) PredictProjected(y, z []float32) {
	if len(y) != s.N || len(z) != s.K {
		panic(fmt.Sprintf("spec: Speculator.PredictProjected: len(y)=%d len(z)=%d, want %d and %d", len(y), len(z), s.N, s.K))
	}
	if !s.intKernel() {
		s.predict(y, z, nil)
		return
	}
	sc := s.getScratch()
	s.predict(y, z, sc.zq)
	s.scratch.Put(sc)
}

func (s *Speculator) getScratch() *predictScratch {
	if sc, ok := s.scratch.Get().(*predictScratch); ok {
		return sc
	}
	return &predictScratch{z: make([]float32, s.K), zq: make([]int8, s.K)}
}

// intKernel reports whether Predict runs on integer kernels.
func (s *Speculator) intKernel() bool {
	return s.Q != nil && (s.Q.Bits == quant.Int8 || s.Q.Bits == quant.Int4)
}

// predict sets y = W̃z + b̃; zq is scratch for the integer kernels.
func (s *Speculator) predict(y, z []float32, zq []int8) {
	if !s.intKernel() {
		kernels.Gemv(y, s.W, s.K, z, s.B)
		return
	}
	zs := kernels.QuantizeInt8(zq, z)
	if s.Q.Bits == quant.Int8 {
		kernels.GemvInt8(y, s.Q.I8, s.Q.RowScales(), s.K, zq, zs, s.B)
	} else {
		kernels.GemvInt4(y, s.Q.Packed, s.Q.RowScales(), s.K, zq, zs, s.B)
	}
}

// Quantize returns a copy of s whose W̃ is quantized to the given width
// with one scale per row (thesis Table 3.5). The bias stays float32; it and
// P are shared with s. It returns an error wrapping quant.ErrBits for an unsupported
// width.
func (s *Speculator) Quantize(bits quant.Bits) (*Speculator, error) {
	if len(s.W) != s.N*s.K {
		return nil, fmt.Errorf("spec: Speculator.Quantize: no float32 weights to quantize (W has %d of %d×%d)", len(s.W), s.N, s.K)
	}
	q, err := quant.Quantize(s.W, s.N, s.K, bits, true)
	if err != nil {
		return nil, fmt.Errorf("spec: Speculator.Quantize: %w", err)
	}
	return &Speculator{P: s.P, N: s.N, K: s.K, W: q.Dequantize(), B: s.B, Q: q}, nil
}

// WeightBytes returns the storage of W̃: 4·N·K for FP32, else the codes
// and scales of Q. The bias (4·N bytes) and P are not counted.
func (s *Speculator) WeightBytes() int {
	if s.Q == nil {
		return 4 * s.N * s.K
	}
	return s.Q.Bytes()
}

// FitMSE returns the thesis's loss (eq. 3.12, eq. 6.4) on the given data:
// the mean over samples of ‖y − ỹ‖², for inputs xs (S×D) and targets ys
// (S×N), accumulated in float64. It returns an error wrapping ErrNoSamples
// for empty data and ErrNotFinite for a NaN or infinity in the data.
func (s *Speculator) FitMSE(xs, ys []float32) (float64, error) {
	d := s.P.D()
	m := rowsOf("Speculator.FitMSE", xs, d)
	if my := rowsOf("Speculator.FitMSE", ys, s.N); my != m {
		panic(fmt.Sprintf("spec: Speculator.FitMSE: %d inputs but %d targets", m, my))
	}
	if m == 0 {
		return 0, fmt.Errorf("spec: Speculator.FitMSE: %w", ErrNoSamples)
	}
	if err := checkFinite("input", xs, d); err != nil {
		return 0, err
	}
	if err := checkFinite("target", ys, s.N); err != nil {
		return 0, err
	}
	var total float64
	var mu sync.Mutex
	parallelRows(m, func(lo, hi int) {
		yt := make([]float32, s.N)
		var part float64
		for i := lo; i < hi; i++ {
			s.Predict(yt, xs[i*d:(i+1)*d])
			for j, v := range ys[i*s.N : (i+1)*s.N] {
				e := float64(v) - float64(yt[j])
				part += e * e
			}
		}
		mu.Lock()
		total += part
		mu.Unlock()
	})
	mse := total / float64(m)
	if math.IsNaN(mse) || math.IsInf(mse, 0) {
		return 0, fmt.Errorf("spec: Speculator.FitMSE: loss %v: %w", mse, ErrNotFinite)
	}
	return mse, nil
}
