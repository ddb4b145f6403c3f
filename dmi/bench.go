package dmi

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
)

// BenchConfig describes one `elastic bench dmi` run: a single recurrent
// layer with random weights, stepped at batch 1.
type BenchConfig struct {
	Cell          nn.Cell
	Hidden, Input int       // Input 0 means Hidden
	Ratios        []float64 // insensitive ratios, each in [0, 1)
	Eps           float64   // 0 means DefaultEps
	Bits          quant.Bits
	Threads       int // pool workers; <= 0 means GOMAXPROCS
	Reps          int // timed steps per configuration (median reported)
	Seed          uint64
	LLC           int       // last-level cache bytes; 0 means bench.LastLevelCache()
	Load          int       // busy-loop processes competing for the CPUs while timing (bench.StartLoad)
	Progress      io.Writer // optional progress lines
}

// BenchPoint is the timing at one insensitive ratio. Times are medians in
// milliseconds; Little is speculate + select, Big is the gather GEMVs,
// assembly and update. DenseMs is the dense step timed in the same rounds
// as the dual-module step, and Speedup the median of the per-round
// dense/dual-module ratios.
type BenchPoint struct {
	Ratio    float64 `json:"ratio"`
	DenseMs  float64 `json:"dense_ms"`
	DMIMs    float64 `json:"dmi_ms"`
	LittleMs float64 `json:"little_ms"`
	BigMs    float64 `json:"big_ms"`
	Speedup  float64 `json:"speedup"`
	// Exact is the number of rows computed by the big module per step.
	Exact int `json:"exact_rows"`
}

// BenchResult holds a whole run.
type BenchResult struct {
	Weights    string       `json:"weights"`
	Impl       string       `json:"impl"`
	Cell       string       `json:"cell"`
	Hidden     int          `json:"hidden"`
	Input      int          `json:"input"`
	Threads    int          `json:"threads"`
	Load       int          `json:"load"`
	Reps       int          `json:"reps"`
	Bits       int          `json:"bits"`
	Eps        float64      `json:"eps"`
	KX         int          `json:"k_x"`
	KH         int          `json:"k_h"`
	LLCBytes   int          `json:"llc_bytes"`
	Copies     int          `json:"copies"`
	BigBytes   int          `json:"big_bytes"`
	LittleByte int          `json:"little_bytes"`
	ProjBytes  int          `json:"projection_bytes"`
	LittleFrac float64      `json:"little_fraction"`
	CopyGBps   float64      `json:"copy_gbps"`
	DenseMs    float64      `json:"dense_ms"`
	DenseGBps  float64      `json:"dense_gbps"`
	DenseOfBW  float64      `json:"dense_fraction_of_copy"`
	Points     []BenchPoint `json:"points"`
}

// RunBench measures, in one process, copy bandwidth, the dense step (the
// pool's GEMVs over W_ih and W_hh plus the update) and the dual-module step
// at each ratio. Weights are cold: the run rotates through enough copies
// of the whole layer, big and little modules and projections, to span
// twice the last-level cache. The weights are random and the little
// module is fitted to random calibration inputs, which is enough for
// timing but says nothing of quality.
func RunBench(cfg BenchConfig) (*BenchResult, error) {
	if cfg.Input == 0 {
		cfg.Input = cfg.Hidden
	}
	switch {
	case cfg.Cell != nn.LSTMCell && cfg.Cell != nn.GRUCell:
		return nil, fmt.Errorf("%w: cell %v", ErrParam, cfg.Cell)
	case cfg.Hidden < 1 || cfg.Input < 1:
		return nil, fmt.Errorf("%w: hidden %d, input %d must be positive", ErrParam, cfg.Hidden, cfg.Input)
	case cfg.Reps < 1:
		return nil, fmt.Errorf("%w: reps %d", ErrParam, cfg.Reps)
	case len(cfg.Ratios) == 0:
		return nil, fmt.Errorf("%w: no ratios", ErrParam)
	case cfg.Load < 0 || cfg.Load > bench.MaxLoad:
		return nil, fmt.Errorf("%w: load %d outside [0, %d]", ErrParam, cfg.Load, bench.MaxLoad)
	}
	for _, r := range cfg.Ratios {
		if err := (Selection{Mode: TopK, Ratio: r}).check(); err != nil {
			return nil, err
		}
	}
	o := Options{Eps: cfg.Eps, Bits: cfg.Bits, Seed: cfg.Seed}.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	if cfg.LLC <= 0 {
		cfg.LLC = bench.LastLevelCache()
	}
	say := func(format string, a ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", a...)
		}
	}
	p := kernels.NewPool(cfg.Threads)
	defer p.Close()

	// One random layer, PyTorch-initialised, and its little module fitted
	// to random inputs in the range of real activations.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xd31))
	var layer nn.Recurrent
	if cfg.Cell == nn.LSTMCell {
		layer = nn.NewLSTM(cfg.Input, cfg.Hidden, 0, rng)
	} else {
		layer = nn.NewGRU(cfg.Input, cfg.Hidden, 0, rng)
	}
	w := layer.Weights()
	f, err := newLayerFit(w, 0, o)
	if err != nil {
		return nil, err
	}
	say("fitting the little module (k_x=%d, k_h=%d) on %d random samples…", f.bp.px.K(), f.bp.ph.K(), f.minSamples())
	xh := make([]float32, f.minSamples()*(w.In+w.Hidden))
	for i := range xh {
		xh[i] = float32(2*rng.Float64() - 1)
	}
	if err := f.add(xh); err != nil {
		return nil, err
	}
	lt, err := f.solve(o)
	if err != nil {
		return nil, err
	}

	res := &BenchResult{
		Weights: "random (timing only)", Impl: kernels.Impl(), Cell: cfg.Cell.String(),
		Hidden: cfg.Hidden, Input: cfg.Input, Threads: p.Workers(), Load: cfg.Load, Reps: cfg.Reps,
		Bits: int(o.Bits), Eps: o.Eps, KX: lt.X.K, KH: lt.H.K, LLCBytes: cfg.LLC,
		BigBytes:   4 * (len(w.WIH) + len(w.WHH) + len(w.BIH) + len(w.BHH)),
		LittleByte: lt.Bytes(), ProjBytes: lt.ProjectionBytes(),
	}
	res.LittleFrac = float64(res.LittleByte) / float64(res.BigBytes)

	say("copy bandwidth probe (%d MiB buffers)…", 4*cfg.LLC>>20)
	res.CopyGBps, _ = bench.CopyBandwidth(p, 4*cfg.LLC, min(cfg.Reps, 20))

	res.Copies = bench.Copies(res.BigBytes+res.LittleByte+res.ProjBytes, cfg.LLC)
	say("building %d copies of the layer (%d MiB each)…", res.Copies, (res.BigBytes+res.LittleByte+res.ProjBytes)>>20)
	layers := make([]*Layer, res.Copies)
	for c := range layers {
		wc, ltc := w, lt
		if c > 0 {
			wc.WIH, wc.WHH = kernels.Clone(w.WIH), kernels.Clone(w.WHH)
			wc.BIH, wc.BHH = slices.Clone(w.BIH), slices.Clone(w.BHH)
			ltc = lt.clone()
		}
		if layers[c], err = NewLayer(wc, ltc, p); err != nil {
			return nil, err
		}
	}
	runtime.GC()

	x := make([]float32, cfg.Input)
	h := make([]float32, cfg.Hidden)
	c := make([]float32, cfg.Hidden)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	for i := range h {
		h[i] = float32(2*rng.Float64() - 1)
	}
	h0 := slices.Clone(h)
	reset := func() { copy(h, h0); clear(c) }

	if cfg.Load > 0 {
		say("starting %d busy-loop processes…", cfg.Load)
		load, err := bench.StartLoad(cfg.Load)
		if err != nil {
			return nil, err
		}
		defer load.Stop()
	}
	say("dense step…")
	reset()
	dense := bench.Measure(cfg.Reps, func(i int) { layers[i%len(layers)].Dense(h, c, x) })
	res.DenseMs = dense.Median
	res.DenseGBps = float64(res.BigBytes) / (res.DenseMs * 1e6)
	res.DenseOfBW = res.DenseGBps / res.CopyGBps

	// Each ratio is timed in rounds that run a dense step and a
	// dual-module step back to back (on different cold copies), and the
	// speedup is the median of the per-round ratios, so a slow burst of a
	// shared machine hits both sides alike.
	hd, cd := slices.Clone(h0), make([]float32, cfg.Hidden)
	little := make([]float64, cfg.Reps+1)
	big := make([]float64, cfg.Reps+1)
	half := len(layers) / 2
	for _, r := range cfg.Ratios {
		say("dense and dual-module steps at ratio %.2f…", r)
		for _, l := range layers {
			if err := l.SetRatio(r); err != nil {
				return nil, err
			}
		}
		reset()
		copy(hd, h0)
		clear(cd)
		n := 0
		ts, raw := bench.MeasureRounds(cfg.Reps,
			func(i int) { layers[(i+half)%len(layers)].Dense(hd, cd, x) },
			func(i int) {
				l := layers[i%len(layers)]
				t0 := time.Now()
				l.Speculate(h, x)
				t1 := time.Now()
				l.Execute(h, c, x)
				little[n] = float64(t1.Sub(t0).Nanoseconds()) / 1e6
				big[n] = float64(time.Since(t1).Nanoseconds()) / 1e6
				n++
			})
		pt := BenchPoint{
			Ratio: r, DenseMs: ts[0].Median, DMIMs: ts[1].Median,
			LittleMs: median(little[1:n]), BigMs: median(big[1:n]), // [0] is the warm-up
			Exact:   len(layers[0].Sensitive()),
			Speedup: bench.PairedRatio(raw[0], raw[1]),
		}
		res.Points = append(res.Points, pt)
	}
	return res, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
