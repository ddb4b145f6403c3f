package dsg

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/fmnist"
	"github.com/elasticml/elastic/internal/rounds"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

// BenchConfig describes one `elastic bench dsg` run: training steps of
// one model, dense and with DSG at each sparsity, timed round by round in
// one process.
type BenchConfig struct {
	Arch    Arch
	Batch   int       // images per step [64]
	Gammas  []float64 // DSG sparsities, each in [0, 1) [0, 0.5, 0.8, 0.9]
	Sparse  Sparse    // DSG options (Gamma ignored) [channel masks ranked over the batch, ZVC stash]
	Rounds  int       // timed rounds [10]
	Threads int       // pool workers; <= 0 means GOMAXPROCS
	Seed    uint64
	// Init, if not empty, is a checkpoint of Arch whose weights every
	// model starts from (random weights from Seed otherwise).
	Init string
	// DataDir holds Fashion-MNIST; the step's batch is the first Batch
	// training images (real data). Synthetic uses standard-normal pixels
	// instead.
	DataDir   string
	Synthetic bool
	Peak      time.Duration // FMA peak probe duration [300 ms]
	Progress  io.Writer
}

// BenchLayer is one convolution or FC layer's wall time in a training
// step (forward and backward; for DSG the search included), medians in
// milliseconds, and the median per-round dense/DSG ratios.
type BenchLayer struct {
	Name        string  `json:"name"`
	GFLOP       float64 `json:"dense_gflop"` // dense forward + backward
	DenseMs     float64 `json:"dense_ms"`
	DSGMs       float64 `json:"dsg_ms"`
	Speedup     float64 `json:"speedup"`
	DenseFwdMs  float64 `json:"dense_fwd_ms"`
	DSGFwdMs    float64 `json:"dsg_fwd_ms"`
	FwdSpeedup  float64 `json:"fwd_speedup"`
	SearchMs    float64 `json:"search_ms"`
	DenseGFLOPS float64 `json:"dense_gflops"`
}

// BenchPoint is the run at one sparsity.
type BenchPoint struct {
	Sparsity    float64 `json:"sparsity"`
	DenseStepMs float64 `json:"dense_step_ms"`
	DSGStepMs   float64 `json:"dsg_step_ms"`
	StepSpeedup float64 `json:"step_speedup"`
	SearchMs    float64 `json:"search_ms"`
	// StashBytesDense is the sparse layers' inputs kept for backward as
	// float32; StashBytesDSG the same stash as held (ZVC, measured).
	StashBytesDense  int          `json:"stash_bytes_dense"`
	StashBytesDSG    int          `json:"stash_bytes_dsg"`
	StashCompression float64      `json:"stash_compression"`
	Layers           []BenchLayer `json:"layers"`
}

// BenchResult holds a whole run.
type BenchResult struct {
	Impl        string       `json:"impl"`
	Model       Arch         `json:"model"`
	Batch       int          `json:"batch"`
	Threads     int          `json:"threads"`
	Rounds      int          `json:"rounds"`
	Data        string       `json:"data"`
	Init        string       `json:"init,omitempty"`
	DSG         Sparse       `json:"dsg"`
	SearchMACs  int          `json:"search_macs_per_image"`
	MACs        int          `json:"macs_per_image"`
	PeakGFLOPS  float64      `json:"peak_gflops"`
	DenseGFLOPS float64      `json:"dense_layers_gflops"` // dense step's conv and FC layers
	DenseOfPeak float64      `json:"dense_fraction_of_peak"`
	GemmGFLOPS  float64      `json:"gemm_gflops"` // one large GEMM, the model's largest conv forward
	GemmOfPeak  float64      `json:"gemm_fraction_of_peak"`
	GemmShape   [3]int       `json:"gemm_mnk"`
	Points      []BenchPoint `json:"points"`
}

func (c BenchConfig) withDefaults() BenchConfig {
	if c.Arch == "" {
		c.Arch = VGG8
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.Gammas == nil {
		c.Gammas = []float64{0, 0.5, 0.8, 0.9}
	}
	if c.Rounds == 0 {
		c.Rounds = 10
	}
	if c.Threads <= 0 {
		c.Threads = runtime.GOMAXPROCS(0)
	}
	if c.Peak == 0 {
		c.Peak = 300 * time.Millisecond
	}
	if c.Sparse.Granularity == "" {
		c.Sparse.Granularity = GranChannel
		if c.Sparse.Select == "" {
			c.Sparse.Select = SelectBatch
		}
	}
	return c
}

// benchModel is one model of the run with its optimizer and profile.
type benchModel struct {
	m      *Net
	opt    nn.Optimizer
	params []*nn.Param
	fwd    [][]time.Duration // per round (the first: warm-up), per layer
	bwd    [][]time.Duration
	search [][]time.Duration // per round, per layer
}

func (b *benchModel) step(x []float32, labels []int32) {
	nn.ZeroGrad(b.params)
	var sp []*sparseLayer
	for _, l := range b.m.layers {
		if s, ok := l.(*sparseLayer); ok {
			s.clock, s.searchDur = true, 0
			sp = append(sp, s)
		}
	}
	b.m.Loss(x, labels, true, true)
	b.m.LossBackward()
	b.opt.Step(0.01)
	b.fwd = append(b.fwd, append([]time.Duration(nil), b.m.prof.fwd...))
	b.bwd = append(b.bwd, append([]time.Duration(nil), b.m.prof.bwd...))
	s := make([]time.Duration, len(b.m.layers))
	for i, l := range b.m.layers {
		if l, ok := l.(*sparseLayer); ok {
			s[i] = l.searchDur
		}
	}
	b.search = append(b.search, s)
}

// ms returns per timed round (the warm-up dropped) the time of layer i:
// its forward, backward, both, or (search) its search.
func (b *benchModel) ms(i int, fwd, bwd, search bool) []float64 {
	out := make([]float64, len(b.fwd)-1)
	for r := range out {
		var d time.Duration
		if fwd {
			d += b.fwd[r+1][i]
		}
		if bwd {
			d += b.bwd[r+1][i]
		}
		if search {
			d += b.search[r+1][i]
		}
		out[r] = float64(d.Nanoseconds()) / 1e6
	}
	return out
}

// searchMs is the whole search's time per timed round.
func (b *benchModel) searchMs() []float64 {
	out := make([]float64, len(b.search)-1)
	for r := range out {
		for _, d := range b.search[r+1] {
			out[r] += float64(d.Nanoseconds()) / 1e6
		}
	}
	return out
}

// weightLayers returns the indices, names and dense forward + backward
// floating-point operations of m's convolution and FC layers for a batch
// (the first layer computes no input gradient).
func weightLayers(m *Net, batch int) (idx []int, names []string, flops []float64) {
	for i, l := range m.layers {
		var macs int
		switch l := l.(type) {
		case linear:
			macs = l.In * l.Out
		case conv:
			macs = l.OutH * l.OutW * l.OutC * l.Kernel * l.Kernel * l.InC
		case *sparseLayer:
			macs = l.denseMACs()
		default:
			continue
		}
		passes := 3.0
		if len(idx) == 0 {
			passes = 2
		}
		idx = append(idx, i)
		names = append(names, l.name())
		flops = append(flops, passes*2*float64(macs)*float64(batch))
	}
	return idx, names, flops
}

// gemmProbe times the largest convolution's forward GEMM of m at the
// batch alone and returns its m, n, k and GFLOPS.
func gemmProbe(pool *kernels.Pool, m *Net, batch, reps int) ([3]int, float64) {
	var best [3]int
	for _, l := range m.layers {
		if c, ok := l.(conv); ok {
			s := [3]int{batch * c.OutH * c.OutW, c.OutC, c.Kernel * c.Kernel * c.InC}
			if s[0]*s[1]*s[2] > best[0]*best[1]*best[2] {
				best = s
			}
		}
	}
	if best[0] == 0 {
		return best, 0
	}
	M, N, K := best[0], best[1], best[2]
	a, b, cm := make([]float32, M*K), make([]float32, N*K), make([]float32, M*N)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%5) - 2
	}
	t := bench.Measure(reps, func(int) { pool.Gemm(false, true, M, N, K, 1, a, K, b, K, 0, cm, N) })
	return best, 2 * float64(M) * float64(N) * float64(K) / t.Median / 1e6
}

func median(x []float64) float64 { return rounds.Median(x) }

// RunBench times, in one process and round by round, a training step
// (forward, loss, backward, SGD-momentum update) of the dense model and
// of the same model with DSG at each sparsity, all from the same
// weights; per layer it reports forward and forward+backward times, the
// DSG layers' search included. It also probes the FMA peak and the GEMM
// throughput of the dense layers. γ = 0 runs the DSG machinery (search,
// selection keeping every channel, stash) without dropping anything.
func RunBench(c BenchConfig) (*BenchResult, error) {
	c = c.withDefaults()
	if c.Batch < 2 && c.Arch != MLP {
		return nil, fmt.Errorf("%w: batch %d: BatchNorm needs at least 2 images", ErrConfig, c.Batch)
	}
	if c.Rounds < 1 {
		return nil, fmt.Errorf("%w: %d rounds", ErrConfig, c.Rounds)
	}
	for _, g := range c.Gammas {
		sp := c.Sparse
		sp.Gamma = g
		if err := sp.validate(); err != nil {
			return nil, err
		}
	}
	pool := kernels.NewPool(c.Threads)
	defer pool.Close()
	newNet := func() (*Net, error) {
		if c.Init != "" {
			m, _, _, err := Load(c.Init, c.Arch)
			return m, err
		}
		return New(c.Arch, c.Seed)
	}
	x := make([]float32, c.Batch*fmnist.Pixels)
	labels := make([]int32, c.Batch)
	data := "real (Fashion-MNIST training images)"
	if c.Synthetic {
		data = "synthetic (standard-normal pixels, random labels)"
		rng := rand.New(rand.NewPCG(c.Seed, 0x62656e63))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range labels {
			labels[i] = int32(rng.IntN(fmnist.Classes))
		}
	} else {
		set, err := fmnist.Load(c.DataDir, fmnist.Train)
		if err != nil {
			return nil, err
		}
		idx := make([]int, c.Batch)
		for i := range idx {
			idx[i] = i
		}
		gather(x, labels, set, idx)
	}
	var models []*benchModel
	for i := 0; i <= len(c.Gammas); i++ {
		m, err := newNet()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			sp := c.Sparse
			sp.Gamma = 0.5 // enable, then set the run's γ (0 included)
			if err := m.EnableDSG(sp, c.Seed); err != nil {
				return nil, err
			}
			if err := m.SetSparsity(c.Gammas[i-1]); err != nil {
				return nil, err
			}
		}
		m.SetPool(pool)
		m.prof = &profile{fwd: make([]time.Duration, len(m.layers)), bwd: make([]time.Duration, len(m.layers))}
		ps := m.Params()
		models = append(models, &benchModel{m: m, params: ps, opt: nn.NewMomentum(ps, 0.9, 5e-4)})
	}
	res := &BenchResult{Impl: kernels.Impl(), Model: c.Arch, Batch: c.Batch, Threads: c.Threads,
		Rounds: c.Rounds, Data: data, Init: c.Init, DSG: c.Sparse.withDefaults(), MACs: models[0].m.MACs()}
	if len(models) > 1 {
		res.SearchMACs = models[1].m.SearchMACs()
	}
	res.PeakGFLOPS = kernels.PeakGFLOPS(pool, c.Peak)
	fns := make([]func(int), len(models))
	for i, b := range models {
		fns[i] = func(int) { b.step(x, labels) }
	}
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "bench dsg: %s batch %d, %d models × %d rounds\n", c.Arch, c.Batch, len(models), c.Rounds)
	}
	_, raw := bench.MeasureRounds(c.Rounds, fns...)
	res.GemmShape, res.GemmGFLOPS = gemmProbe(pool, models[0].m, c.Batch, c.Rounds)
	res.GemmOfPeak = res.GemmGFLOPS / res.PeakGFLOPS

	dense := models[0]
	di, names, flops := weightLayers(dense.m, c.Batch)
	var denseLayerMs, totalFlop float64
	for li, i := range di {
		denseLayerMs += median(dense.ms(i, true, true, false))
		totalFlop += flops[li]
	}
	res.DenseGFLOPS = totalFlop / denseLayerMs / 1e6
	res.DenseOfPeak = res.DenseGFLOPS / res.PeakGFLOPS
	for gi, g := range c.Gammas {
		b := models[gi+1]
		p := BenchPoint{Sparsity: g, DenseStepMs: median(raw[0]), DSGStepMs: median(raw[gi+1]),
			StepSpeedup: bench.PairedRatio(raw[0], raw[gi+1]), SearchMs: median(b.searchMs())}
		p.StashBytesDense, p.StashBytesDSG = b.m.StashBytes()
		if p.StashBytesDSG > 0 {
			p.StashCompression = float64(p.StashBytesDense) / float64(p.StashBytesDSG)
		}
		si, _, _ := weightLayers(b.m, c.Batch)
		for li := range names {
			dAll, sAll := dense.ms(di[li], true, true, false), b.ms(si[li], true, true, false)
			dF, sF := dense.ms(di[li], true, false, false), b.ms(si[li], true, false, false)
			l := BenchLayer{Name: names[li], GFLOP: flops[li] / 1e9,
				DenseMs: median(dAll), DSGMs: median(sAll), Speedup: bench.PairedRatio(dAll, sAll),
				DenseFwdMs: median(dF), DSGFwdMs: median(sF), FwdSpeedup: bench.PairedRatio(dF, sF),
				SearchMs: median(b.ms(si[li], false, false, true))}
			l.DenseGFLOPS = flops[li] / l.DenseMs / 1e6
			p.Layers = append(p.Layers, l)
		}
		res.Points = append(res.Points, p)
	}
	return res, nil
}
