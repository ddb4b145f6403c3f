package spec

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// SGDConfig sets the minibatch stochastic gradient descent of FitSGD. The
// zero value is usable.
type SGDConfig struct {
	// LearningRate is the step size. Zero picks 0.5/mean‖ẑ‖², which keeps
	// every step stable because the loss's curvature never exceeds
	// 2·mean‖ẑ‖².
	LearningRate float64

	// Epochs is the number of passes over the data; zero means 10.
	Epochs int

	// BatchSize is the number of samples per step; zero means 32.
	BatchSize int

	// Seed seeds the per-epoch shuffle; the same seed gives the same fit.
	Seed uint64
}

// sgdStream is the second PCG word, fixed so that Seed alone names a run.
const sgdStream = 0x9e3779b97f4a7c15

// FitSGD fits a speculator with projection p to the targets ys (S×N) of the
// inputs xs (S×D) by minibatch SGD on the thesis's loss, eq. 3.12 and
// eq. 6.4: each step moves W̃ and b̃ against the gradient of
// (1/B) Σ ‖y − (W̃Px + b̃)‖² over a minibatch of B shuffled samples
// (thesis Algorithms 1 and 3). The weights start at zero, which is as good
// as a random start for this convex loss and needs no seed.
//
// It exists as the thesis's baseline: Stats.Solve reaches the exact
// minimiser of the same loss in one pass, so FitSGD is useful only to
// reproduce the thesis or for losses the closed form cannot express.
//
// It returns an error wrapping ErrNoSamples for empty data and ErrNotFinite
// for non-finite data or a diverging run.
func FitSGD(p Projector, xs, ys []float32, cfg SGDConfig) (*Speculator, error) {
	k, d := p.K(), p.D()
	m := rowsOf("FitSGD", xs, d)
	if m == 0 {
		return nil, fmt.Errorf("spec: FitSGD: %w", ErrNoSamples)
	}
	if len(ys)%m != 0 || len(ys) == 0 {
		panic(fmt.Sprintf("spec: FitSGD: len(ys)=%d is not a positive multiple of %d samples", len(ys), m))
	}
	n := len(ys) / m
	if cfg.LearningRate < 0 || cfg.Epochs < 0 || cfg.BatchSize < 0 {
		panic(fmt.Sprintf("spec: FitSGD: bad config %+v", cfg))
	}
	epochs := cfg.Epochs
	if epochs == 0 {
		epochs = 10
	}
	bs := cfg.BatchSize
	if bs == 0 {
		bs = 32
	}
	bs = min(bs, m)
	if err := checkFinite("input", xs, d); err != nil {
		return nil, err
	}
	if err := checkFinite("target", ys, n); err != nil {
		return nil, err
	}

	// P is fixed (Algorithm 3, line 1), so Px is computed once.
	zs := make([]float32, m*k)
	project(p, zs, xs, m)
	k1 := k + 1
	lr := cfg.LearningRate
	if lr == 0 {
		var sq float64
		for _, v := range zs {
			sq += float64(v) * float64(v)
		}
		lr = 0.5 / (sq/float64(m) + 1)
	}

	wa := make([]float64, n*k1) // [W̃ | b̃]
	zb := make([]float64, bs*k1)
	rb := make([]float64, bs*n)
	rng := rand.New(rand.NewPCG(cfg.Seed, sgdStream))
	perm := make([]int, m)
	for i := range perm {
		perm[i] = i
	}
	impl := blas64.Implementation()
	for range epochs {
		rng.Shuffle(m, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for i0 := 0; i0 < m; i0 += bs {
			b := min(bs, m-i0)
			for r, s := range perm[i0 : i0+b] {
				row := zb[r*k1 : (r+1)*k1]
				widen(row[:k], zs[s*k:(s+1)*k])
				row[k] = 1
				for j, v := range ys[s*n : (s+1)*n] {
					rb[r*n+j] = -float64(v)
				}
			}
			// Residual R = ẐWaᵀ − Y, then Wa −= (2·lr/b)·RᵀẐ.
			impl.Dgemm(blas.NoTrans, blas.Trans, b, n, k1, 1, zb, k1, wa, k1, 1, rb, n)
			impl.Dgemm(blas.Trans, blas.NoTrans, n, k1, b, -2*lr/float64(b), rb, n, zb, k1, 1, wa, k1)
		}
		if v := wa[0]; math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("spec: FitSGD: diverged at learning rate %g: %w", lr, ErrNotFinite)
		}
	}

	s := &Speculator{P: p, N: n, K: k, W: make([]float32, n*k), B: make([]float32, n)}
	for i := range n {
		for j := range k {
			s.W[i*k+j] = float32(wa[i*k1+j])
		}
		s.B[i] = float32(wa[i*k1+k])
	}
	if err := checkFinite("fitted weight", s.W, k); err != nil {
		return nil, fmt.Errorf("spec: FitSGD: diverged at learning rate %g: %w", lr, err)
	}
	if err := checkFinite("fitted bias", s.B, 1); err != nil {
		return nil, fmt.Errorf("spec: FitSGD: diverged at learning rate %g: %w", lr, err)
	}
	return s, nil
}
