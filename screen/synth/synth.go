package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"github.com/elasticml/elastic/kernels"
)

// ErrConfig is returned, wrapped, for an invalid Config.
var ErrConfig = errors.New("synth: invalid configuration")

// Config sets the generative model; see the package comment. Fields are
// used as given: start from Default.
type Config struct {
	Classes, Dim int
	// Rank is r, the dimension of the latent space the rows share.
	Rank int
	// Decay is α: latent coordinate t (1-based) has standard deviation
	// ∝ t^(−α/2), so W's spectrum decays like a trained layer's.
	Decay float64
	// Noise is σ: each row is its latent part plus σ times an isotropic
	// full-rank part of the same expected norm.
	Noise float64
	// Zipf is s: class i (0-based, by frequency) has prior ∝ (i+1)^(−s).
	Zipf float64
	// BiasScale multiplies the centred log prior to give the bias.
	BiasScale float64
	// NormSpread is the standard deviation of log row norm around its
	// trend, and NormFreq the slope of that trend in standardized log
	// frequency (frequent classes get longer rows).
	NormSpread, NormFreq float64
	// Peak is β, the norm of a hidden vector's signal part: the logit of
	// its class exceeds the bias by about β times that row's norm.
	Peak float64
	// LatentNoise is ρ, the relative size of hidden-vector noise inside
	// the latent space (real ambiguity between similar classes), and
	// HiddenNoise η that of isotropic noise in all d dimensions.
	LatentNoise, HiddenNoise float64
	Seed                     uint64
	// Half stores W in float16 (Model.W16), each row rounded once after it
	// is generated in float32: the 10M×512 classifier takes 10 GB so, not
	// 20. Hidden vectors are drawn from the stored rows.
	Half bool
}

// Default returns the documented default model for l classes of width d.
func Default(l, d int) Config {
	return Config{
		Classes: l, Dim: d, Rank: max(1, d/2), Decay: 1, Noise: 0.5,
		Zipf: 1, BiasScale: 1, NormSpread: 0.2, NormFreq: 0.1,
		Peak: 8, LatentNoise: 0.3, HiddenNoise: 0.5, Seed: 1,
	}
}

// MaxDim is the widest model New generates. Gram–Schmidt on the Rank
// latent rows costs Rank²·Dim; at the default rank d/2 a width of 4096
// takes seconds, while 100,000 would run for days.
const MaxDim = 4096

func (c Config) check() error {
	switch {
	case c.Classes < 2 || c.Dim < 1 || c.Dim > MaxDim:
		return fmt.Errorf("%w: %d classes of width %d (want ≥ 2 classes, width in [1, %d])", ErrConfig, c.Classes, c.Dim, MaxDim)
	case c.Rank < 1 || c.Rank > c.Dim:
		return fmt.Errorf("%w: rank %d outside [1, %d]", ErrConfig, c.Rank, c.Dim)
	}
	for _, v := range []float64{c.Decay, c.Noise, c.Zipf, c.BiasScale, c.NormSpread, c.NormFreq, c.Peak, c.LatentNoise, c.HiddenNoise} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: parameter %v", ErrConfig, v)
		}
	}
	if int64(c.Classes)*int64(c.Dim) > math.MaxInt32*int64(32) {
		return fmt.Errorf("%w: %d×%d is too large", ErrConfig, c.Classes, c.Dim)
	}
	return nil
}

// Model is a generated classifier and the generator of its inputs.
type Model struct {
	Cfg  Config
	W    []float32 // Classes×Dim, row-major; nil when Cfg.Half
	W16  []uint16  // Classes×Dim binary16, row-major, when Cfg.Half
	B    []float32 // Classes
	Norm []float32 // ‖W_i‖
	v    []float32 // Rank×Dim latent basis, rows scaled by the spectrum
	q    []float32 // Rank×Dim orthonormal rows spanning the latent space
	cum  []float64 // cumulative prior, for sampling classes
}

// blockRows is the number of rows generated from one seed, so that the
// result is independent of the number of workers.
const blockRows = 1024

// New generates the classifier of cfg. The same Config gives the same
// bits on every machine with the same kernels.
func New(cfg Config) (*Model, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	l, d, r := cfg.Classes, cfg.Dim, cfg.Rank
	m := &Model{Cfg: cfg, B: make([]float32, l), Norm: make([]float32, l)}
	if cfg.Half {
		m.W16 = kernels.Make[uint16](l * d)
	} else {
		m.W = kernels.Make[float32](l * d)
	}

	// Latent basis V = diag(√λ)·Q with Q's rows orthonormal (Gram–Schmidt
	// on Gaussian rows) and Σλ_t = 1, so a latent vector with unit-variance
	// coordinates maps to expected norm 1.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5c7ee))
	lam := make([]float64, r)
	var tot float64
	for t := range r {
		lam[t] = math.Pow(float64(t+1), -cfg.Decay)
		tot += lam[t]
	}
	m.q = make([]float32, r*d)
	q64 := make([]float64, d)
	for t := range r {
		for j := range q64 {
			q64[j] = rng.NormFloat64()
		}
		for pass := 0; pass < 2; pass++ { // twice is enough for float32
			for u := range t {
				prev := m.q[u*d : (u+1)*d]
				var dot float64
				for j, v := range prev {
					dot += float64(v) * q64[j]
				}
				for j, v := range prev {
					q64[j] -= dot * float64(v)
				}
			}
		}
		var nrm float64
		for _, v := range q64 {
			nrm += v * v
		}
		nrm = math.Sqrt(nrm)
		for j, v := range q64 {
			m.q[t*d+j] = float32(v / nrm)
		}
	}
	m.v = make([]float32, r*d)
	for t := range r {
		s := float32(math.Sqrt(lam[t] / tot))
		for j := range d {
			m.v[t*d+j] = s * m.q[t*d+j]
		}
	}

	// Prior, bias and row norms.
	logp := make([]float64, l)
	var lse, mean float64
	for i := range l {
		logp[i] = -cfg.Zipf * math.Log(float64(i+1))
	}
	top := logp[0]
	for _, v := range logp {
		lse += math.Exp(v - top)
	}
	lse = top + math.Log(lse)
	m.cum = make([]float64, l)
	var acc, sd float64
	for i := range l {
		logp[i] -= lse
		acc += math.Exp(logp[i])
		m.cum[i] = acc
		mean += logp[i] / float64(l)
	}
	for _, v := range logp {
		sd += (v - mean) * (v - mean) / float64(l)
	}
	sd = math.Sqrt(sd)
	for i := range l {
		m.B[i] = float32(cfg.BiasScale * (logp[i] - mean))
		zf := 0.0
		if sd > 0 {
			zf = (logp[i] - mean) / sd
		}
		m.Norm[i] = float32(math.Exp(cfg.NormFreq*zf + cfg.NormSpread*rng.NormFloat64()))
	}

	// Rows, block by block in parallel.
	nb := (l + blockRows - 1) / blockRows
	var wg sync.WaitGroup
	next := make(chan int, nb)
	for b := range nb {
		next <- b
	}
	close(next)
	for range min(runtime.GOMAXPROCS(0), nb) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := make([]float32, blockRows*r)
			var w []float32 // a block of float32 rows before rounding
			if cfg.Half {
				w = make([]float32, blockRows*d)
			}
			for b := range next {
				m.rows(b, u, w)
			}
		}()
	}
	wg.Wait()
	return m, nil
}

// rows generates block b of W: latent part U·V by GEMM, plus noise,
// normalised to the row's norm; for float16 storage in buf, then rounded.
func (m *Model) rows(b int, u, buf []float32) {
	cfg := m.Cfg
	l, d, r := cfg.Classes, cfg.Dim, cfg.Rank
	lo, hi := b*blockRows, min((b+1)*blockRows, l)
	n := hi - lo
	rng := rand.New(rand.NewPCG(cfg.Seed^0x9e3779b97f4a7c15, uint64(b)))
	for i := range u[:n*r] {
		u[i] = float32(rng.NormFloat64())
	}
	var w []float32
	if cfg.Half {
		w = buf[:n*d]
	} else {
		w = m.W[lo*d : hi*d]
	}
	kernels.Gemm(false, false, n, d, r, 1, u[:n*r], r, m.v, d, 0, w, d)
	noise := cfg.Noise / math.Sqrt(float64(d))
	for i := range n {
		row := w[i*d : (i+1)*d]
		var s float64
		for j := range row {
			row[j] += float32(noise * rng.NormFloat64())
			s += float64(row[j]) * float64(row[j])
		}
		f := float64(m.Norm[lo+i]) / math.Sqrt(s)
		for j := range row {
			row[j] = float32(float64(row[j]) * f)
		}
	}
	if cfg.Half {
		kernels.ToHalf(m.W16[lo*d:hi*d], w)
	}
}

// Bytes returns the storage of W and b.
func (m *Model) Bytes() int { return 4*len(m.W) + 2*len(m.W16) + 4*len(m.B) }

// Row returns row i of W in float32: a subslice of W, or for float16
// storage its widening into buf (length Dim).
func (m *Model) Row(buf []float32, i int) []float32 {
	d := m.Cfg.Dim
	if !m.Cfg.Half {
		return m.W[i*d : (i+1)*d]
	}
	kernels.FromHalf(buf, m.W16[i*d:(i+1)*d])
	return buf
}

// Sample draws n hidden vectors (n×Dim) and the classes they were drawn
// for: a class y from the prior, then
//
//	h = β·(ΠW_y/‖ΠW_y‖ + ρ·ξV + η·ε),
//
// with Π the orthogonal projection on the latent space, ξ standard normal
// in it (so ξV has expected norm 1) and ε isotropic of expected norm 1.
// The same seed gives the same sample.
func (m *Model) Sample(n int, seed uint64) (hs []float32, labels []int32) {
	cfg := m.Cfg
	d, r := cfg.Dim, cfg.Rank
	rng := rand.New(rand.NewPCG(seed, 0x4a1d))
	hs = make([]float32, n*d)
	labels = make([]int32, n)
	xi := make([]float32, r)
	tmp, sig, wide := make([]float32, d), make([]float32, d), make([]float32, d)
	coef := make([]float32, r)
	eta := cfg.HiddenNoise / math.Sqrt(float64(d))
	for s := range n {
		y := sort.SearchFloat64s(m.cum, rng.Float64()*m.cum[len(m.cum)-1])
		y = min(y, cfg.Classes-1)
		labels[s] = int32(y)
		for t := range xi {
			xi[t] = float32(rng.NormFloat64())
		}
		// tmp = ξV and sig = QᵀQ·W_y, the latent-space part of W_y.
		row := m.Row(wide, y)
		kernels.Gemv(coef, m.q, d, row, nil)
		clear(tmp)
		clear(sig)
		for t := range r {
			kernels.Axpy(xi[t], m.v[t*d:(t+1)*d], tmp)
			kernels.Axpy(coef[t], m.q[t*d:(t+1)*d], sig)
		}
		var sn float64
		for _, v := range sig {
			sn += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(sn)
		h := hs[s*d : (s+1)*d]
		for j := range h {
			v := float64(sig[j])*inv + cfg.LatentNoise*float64(tmp[j]) + eta*rng.NormFloat64()
			h[j] = float32(cfg.Peak * v)
		}
	}
	return hs, labels
}
