package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/spec"
)

// FitConfig describes one `elastic bench fit` run: fitting a speculator to
// a random N×D linear map from S streamed calibration inputs.
type FitConfig struct {
	N, D, K, Samples int
	Chunk            int // samples generated and added per call (streaming)
	Held             int // held-out samples for the fit MSE
	Seed             uint64
	Progress         io.Writer
}

// FitResult reports the closed-form fit's wall times (seconds) and quality.
type FitResult struct {
	Impl         string  `json:"impl"`
	N            int     `json:"n"`
	D            int     `json:"d"`
	K            int     `json:"k"`
	Samples      int     `json:"samples"`
	Threads      int     `json:"threads"`
	AccumulateS  float64 `json:"accumulate_s"`
	SolveS       float64 `json:"solve_s"`
	TotalS       float64 `json:"total_s"`
	HeldMSE      float64 `json:"held_mse_fp32"`
	HeldMSEInt8  float64 `json:"held_mse_int8"`
	TargetEnergy float64 `json:"target_mean_sq_norm"`
	SpecBytes    int     `json:"speculator_bytes_int8"`
	ExactBytes   int     `json:"exact_bytes_fp32"`
}

// RunFit times the closed-form speculator fit (eq. 3.12 / 6.4): streaming
// accumulation of the Gram and cross moments, then the Cholesky solve. The
// map and inputs are random (seeded); the inputs are generated outside the
// timed region.
func RunFit(cfg FitConfig) (*FitResult, error) {
	if cfg.N < 1 || cfg.D < 1 || cfg.K < 1 || cfg.K > cfg.D || cfg.Samples < cfg.K+1 {
		return nil, fmt.Errorf("%w: need n, d ≥ 1, 1 ≤ k ≤ d and samples > k (got n=%d d=%d k=%d samples=%d)",
			ErrConfig, cfg.N, cfg.D, cfg.K, cfg.Samples)
	}
	if cfg.Chunk < 1 {
		cfg.Chunk = 1000
	}
	if cfg.Held < 1 {
		cfg.Held = 200
	}
	p := kernels.NewPool(0)
	defer p.Close()
	res := &FitResult{Impl: kernels.Impl(), N: cfg.N, D: cfg.D, K: cfg.K, Samples: cfg.Samples, Threads: p.Workers()}

	w := make([]float32, cfg.N*cfg.D)
	fillUniform(p, w, cfg.Seed)
	b := make([]float32, cfg.N)
	fillUniform(p, b, cfg.Seed+1)
	proj, err := rproj.New(cfg.K, cfg.D, rproj.DefaultSparsity, cfg.Seed+2)
	if err != nil {
		return nil, err
	}
	lin := spec.NewLinear(w, b, cfg.N, cfg.D)
	st := spec.NewLinearStats(lin, proj)

	rng := rand.New(rand.NewPCG(cfg.Seed, 0xf17))
	xs := make([]float32, cfg.Chunk*cfg.D)
	var acc time.Duration
	for done := 0; done < cfg.Samples; {
		m := min(cfg.Chunk, cfg.Samples-done)
		for i := range xs[:m*cfg.D] {
			xs[i] = float32(rng.NormFloat64())
		}
		t0 := time.Now()
		if err := st.Add(xs[:m*cfg.D]); err != nil {
			return nil, err
		}
		acc += time.Since(t0)
		done += m
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "\raccumulated %d/%d samples", done, cfg.Samples)
		}
	}
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress)
	}
	t0 := time.Now()
	sp, err := st.Solve(0)
	if err != nil {
		return nil, err
	}
	res.SolveS = time.Since(t0).Seconds()
	res.AccumulateS = acc.Seconds()
	res.TotalS = res.AccumulateS + res.SolveS

	held := make([]float32, cfg.Held*cfg.D)
	for i := range held {
		held[i] = float32(rng.NormFloat64())
	}
	ys := lin.Targets(held)
	if res.HeldMSE, err = sp.FitMSE(held, ys); err != nil {
		return nil, err
	}
	q, err := sp.Quantize(quant.Int8)
	if err != nil {
		return nil, err
	}
	if res.HeldMSEInt8, err = q.FitMSE(held, ys); err != nil {
		return nil, err
	}
	var e float64
	for _, v := range ys {
		e += float64(v) * float64(v)
	}
	res.TargetEnergy = e / float64(cfg.Held)
	res.SpecBytes = q.WeightBytes()
	res.ExactBytes = 4 * cfg.N * (cfg.D + 1)
	return res, nil
}
