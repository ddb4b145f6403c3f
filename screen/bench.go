package screen

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

// MaxBenchBytes caps the classifier copies RunBench holds. 10M×512 in
// float32 (20 GB) exceeds it and is refused rather than swapped; in
// float16 (BenchConfig.Half, 10 GB) it fits.
const MaxBenchBytes = 12 << 30

// MaxBenchCalib caps the held-out inputs RunBench draws to choose m:
// a δ of 10⁻⁶ needs about a million.
const MaxBenchCalib = 1 << 20

// DefaultDelta is the miscoverage at which RunBench chooses m when none
// is given: the full top-1 is among the candidates with probability at
// least 99.5%, the agreement target.
const DefaultDelta = 0.005

// BenchConfig describes one `elastic bench screen` run on a synthetic
// classifier (package synth, default model).
type BenchConfig struct {
	Classes, Dim int
	// Half stores the classifier's W in float16 (synth.Config.Half): both
	// the full baseline and the exact rows then run the float16 GEMVs.
	Half   bool
	KRatio float64    // 0: DefaultKRatio
	Bits   quant.Bits // 0: INT4
	// M is the number of candidates per input; 0 chooses it by conformal
	// calibration at Delta on held-out inputs.
	M        int
	Delta    float64 // 0: DefaultDelta
	Batch    int     // inputs per call; 0 means 1
	Reps     int     // timed calls (median reported)
	Threads  int     // pool workers; <= 0 means GOMAXPROCS
	Seed     uint64
	LLC      int       // last-level cache bytes; 0 means bench.LastLevelCache()
	Progress io.Writer // optional progress lines
}

// BenchResult holds a run. Times are medians in milliseconds; Speedup is
// the median of per-round ratios (bench.PairedRatio).
type BenchResult struct {
	Weights string `json:"weights"`
	DType   string `json:"classifier_dtype"`
	Impl    string `json:"impl"`
	Classes int    `json:"classes"`
	Dim     int    `json:"dim"`
	K       int    `json:"k"`
	Bits    int    `json:"bits"`
	Batch   int    `json:"batch"`
	Threads int    `json:"threads"`
	Reps    int    `json:"reps"`

	LLCBytes       int    `json:"llc_bytes"`
	ClassifierCopy int    `json:"classifier_copies"`
	ScreenerCopy   int    `json:"screener_copies"`
	ColdNote       string `json:"cold_note"`

	ClassifierBytes    int     `json:"classifier_bytes"`
	ScreenerBytes      int     `json:"screener_bytes"`
	ScreenerBytesRatio float64 `json:"screener_bytes_ratio"`
	CodeRatio          float64 `json:"screener_code_ratio"`

	GenS       float64 `json:"generate_s"`
	FitSeconds float64 `json:"fit_s"`
	MSE        float64 `json:"fit_mse"`
	ZeroMSE    float64 `json:"zero_mse"`

	M         int        `json:"m"`
	Conformal *Conformal `json:"conformal,omitempty"`

	FullMs        float64 `json:"full_ms"`
	ScreenMs      float64 `json:"screen_ms"`
	Speedup       float64 `json:"speedup"`
	PhaseScreenMs float64 `json:"phase_screen_ms"`
	PhaseSelectMs float64 `json:"phase_select_ms"`
	PhaseExactMs  float64 `json:"phase_exact_ms"`
	// PhaseNote says when a phase's work is timed within another's.
	PhaseNote string  `json:"phase_note,omitempty"`
	Overhead  float64 `json:"overhead_fraction"`

	Candidates    float64 `json:"candidates"`
	Top1Agreement float64 `json:"top1_agreement"`
	Top5Recall    float64 `json:"top5_recall"`
	Coverage      float64 `json:"coverage"`
	QualityInputs int     `json:"quality_inputs"`
	QualityNote   string  `json:"quality_note,omitempty"`
}

// RunBench generates a synthetic classifier, fits an INT4 (by default)
// screener to it on synthetic hidden vectors, chooses m if asked, and
// times, interleaved in one process, the full classifier (the pool's dense
// GEMV at batch 1, its GEMM for a batch) against screening, split into
// screen (projection and low-precision GEMV), select (top-m) and exact
// (row-gather GEMV over the candidates, or the batch's union); where the
// selection is fused into the GEMV (batch 1, INT4) it is timed in
// screen, and PhaseNote says so. Weights are cold:
// classifier and screener each rotate through copies spanning twice the
// last-level cache, except that a classifier of at least that size is not
// copied, since streaming it already evicts itself. Quality is measured on
// the timed inputs afterwards.
func RunBench(cfg BenchConfig) (*BenchResult, error) {
	if cfg.Batch == 0 {
		cfg.Batch = 1
	}
	if cfg.Delta == 0 {
		cfg.Delta = DefaultDelta
	}
	o := Options{KRatio: cfg.KRatio, Bits: cfg.Bits, Seed: cfg.Seed, NoBound: true}.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	wSize, dtype := 4, "float32"
	if cfg.Half {
		wSize, dtype = 2, "float16"
	}
	wBytes := (wSize*cfg.Dim + 4) * cfg.Classes
	switch {
	case cfg.Classes < 2 || cfg.Dim < 1:
		return nil, fmt.Errorf("%w: %d classes of width %d", ErrParam, cfg.Classes, cfg.Dim)
	case cfg.Classes > MaxBenchBytes/(wSize*cfg.Dim+4):
		hint := ""
		if !cfg.Half {
			hint = "; float16 weights (--half) take half"
		}
		return nil, fmt.Errorf("%w: a %d×%d %s classifier takes %.1f GiB, above the %d GiB bench budget%s",
			ErrParam, cfg.Classes, cfg.Dim, dtype, float64(wSize*cfg.Classes)*float64(cfg.Dim)/(1<<30), MaxBenchBytes>>30, hint)
	case cfg.Half && cfg.Batch > 1:
		return nil, fmt.Errorf("%w: batch %d with float16 weights (the float16 kernels are GEMVs; use batch 1)", ErrParam, cfg.Batch)
	case cfg.Reps < 1 || cfg.Batch < 1:
		return nil, fmt.Errorf("%w: reps %d, batch %d", ErrParam, cfg.Reps, cfg.Batch)
	case cfg.M < 0 || cfg.M > cfg.Classes:
		return nil, fmt.Errorf("%w: m = %d outside [0, %d]", ErrParam, cfg.M, cfg.Classes)
	case !(cfg.Delta > 0 && cfg.Delta < 1):
		return nil, fmt.Errorf("%w: δ = %v outside (0, 1)", ErrParam, cfg.Delta)
	case cfg.M == 0 && MinCalib(cfg.Delta) > MaxBenchCalib:
		return nil, fmt.Errorf("%w: δ = %v needs %d calibration inputs to choose m, more than the %d the bench draws; raise δ or give m",
			ErrParam, cfg.Delta, MinCalib(cfg.Delta), MaxBenchCalib)
	}
	if cfg.LLC <= 0 {
		cfg.LLC = bench.LastLevelCache()
	}
	say := func(format string, a ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", a...)
		}
	}
	pool := kernels.NewPool(cfg.Threads)
	defer pool.Close()
	l, d := cfg.Classes, cfg.Dim

	say("generating a %d×%d %s synthetic classifier…", l, d, dtype)
	t0 := time.Now()
	sc := synth.Default(l, d)
	sc.Seed = cfg.Seed
	sc.Half = cfg.Half
	model, err := synth.New(sc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParam, err)
	}
	res := &BenchResult{
		Weights: "synthetic (screen/synth defaults)", DType: dtype, Impl: kernels.Impl(),
		Classes: l, Dim: d, Bits: int(o.Bits), Batch: cfg.Batch, Threads: pool.Workers(), Reps: cfg.Reps,
		LLCBytes: cfg.LLC, ClassifierBytes: wBytes, GenS: time.Since(t0).Seconds(),
	}
	var lin *spec.Linear
	if cfg.Half {
		lin = spec.NewLinearHalf(model.W16, model.B, l, d)
	} else {
		lin = spec.NewLinear(model.W, model.B, l, d)
	}

	k := o.projDim(d)
	nFit := max(4096, 4*(k+1))
	say("fitting the screener (k=%d, %v) on %d hidden vectors…", k, o.Bits, nFit)
	t0 = time.Now()
	calib, _ := model.Sample(nFit, cfg.Seed+1)
	s, err := Fit(lin, calib, o, pool)
	if err != nil {
		return nil, err
	}
	res.FitSeconds = time.Since(t0).Seconds()
	res.K, res.MSE, res.ZeroMSE = s.K, s.MSE, s.ZeroMSE
	// Against the classifier as stored: for float16 twice Screener's own
	// ratios, which are against float32.
	f32 := 4 * float64(l) * float64(d+1)
	res.ScreenerBytes = s.Bytes()
	res.ScreenerBytesRatio = s.BytesRatio() * f32 / float64(wBytes)
	res.CodeRatio = s.CodeRatio() * 4 / float64(wSize)

	c := newClassifier(lin, s, pool)
	res.M = cfg.M
	if cfg.M == 0 {
		n := max(400, MinCalib(cfg.Delta)+1)
		say("conformal calibration of m at δ=%g on %d held-out vectors…", cfg.Delta, n)
		held, _ := model.Sample(n, cfg.Seed+2)
		cf, err := c.Calibrate(held, cfg.Delta)
		if err != nil {
			return nil, err
		}
		res.Conformal = &cf
		res.M = max(cf.M, 5) // at least 5 so that top-5 is defined
	}

	// Cold copies.
	nw := 1
	if wBytes < 2*cfg.LLC {
		nw = min(bench.Copies(wBytes, cfg.LLC), max(1, MaxBenchBytes/wBytes))
	}
	ns := bench.Copies(s.Bytes(), cfg.LLC)
	res.ClassifierCopy, res.ScreenerCopy = nw, ns
	switch {
	case nw == 1 && wBytes >= 2*cfg.LLC:
		res.ColdNote = fmt.Sprintf("one classifier copy (%d MiB) already spans twice the %d MiB LLC; screener rotated over %d copies", wBytes>>20, cfg.LLC>>20, ns)
	case 2*nw*wBytes < 4*cfg.LLC:
		res.ColdNote = "classifier copies capped by memory: its weights are partly cache-resident"
	default:
		res.ColdNote = fmt.Sprintf("classifier rotated over %d copies, screener over %d", nw, ns)
	}
	say("building %d classifier and %d screener copies…", nw, ns)
	lins := []*spec.Linear{lin}
	for range nw - 1 {
		if cfg.Half {
			lins = append(lins, spec.NewLinearHalf(kernels.Clone(lin.W16), slices.Clone(lin.B), l, d))
			continue
		}
		lins = append(lins, spec.NewLinear(kernels.Clone(lin.W), slices.Clone(lin.B), l, d))
	}
	scs := []*Screener{s}
	for range ns - 1 {
		scs = append(scs, s.clone())
	}
	cs := make([]*Classifier, max(nw, ns))
	for i := range cs {
		cs[i] = newClassifier(lins[i%nw], scs[i%ns], pool)
		if err := cs[i].SetSelection(Selection{Mode: TopM, M: res.M}); err != nil {
			return nil, err
		}
	}
	runtime.GC()

	b := cfg.Batch
	hs, _ := model.Sample(cfg.Reps*b, cfg.Seed+3)
	zf := make([]float32, b*l)
	zs := make([]float32, b*l)
	input := func(i int) []float32 { return hs[(i%cfg.Reps)*b*d : (i%cfg.Reps+1)*b*d] }
	full := func(i int) {
		cl := cs[i%len(cs)]
		if b == 1 {
			cl.Full(zf, input(i))
			return
		}
		w := cl.Lin
		pool.Gemm(false, true, b, l, d, 1, input(i), d, w.W, d, 0, zf, l)
		for r := range b {
			kernels.Axpy(1, w.B, zf[r*l:(r+1)*l])
		}
	}
	// At batch 1 an INT4 screener selects inside its GEMV.
	fused := b == 1 && c.run.fuses()
	phase := [3][]float64{make([]float64, cfg.Reps+1), make([]float64, cfg.Reps+1), make([]float64, cfg.Reps+1)}
	var np int
	var cands float64
	// The batch's union is built in a buffer of its own: Select returns
	// its work buffer, which the next item's Select overwrites.
	var ubuf []int32
	screened := func(i int) {
		cl := cs[i%len(cs)]
		h := input(i)
		t0 := time.Now()
		var union []int32
		if fused {
			union = cl.run.screenTop(pool, zs, h, res.M, cl.work)
		} else {
			for r := range b {
				cl.run.screen(pool, zs[r*l:(r+1)*l], h[r*d:(r+1)*d])
			}
		}
		t1 := time.Now()
		switch {
		case fused:
		case b == 1:
			union = cl.Select(zs)
		default:
			cl.nextEpoch()
			u := ubuf[:0]
			for r := range b {
				for _, j := range cl.Select(zs[r*l : (r+1)*l]) {
					if cl.stamp[j] != cl.epoch {
						cl.stamp[j] = cl.epoch
						u = append(u, j)
					}
				}
			}
			union, ubuf = u, u
		}
		t2 := t1
		if !fused {
			t2 = time.Now()
		}
		if b == 1 {
			exactGemv(pool, zs, cl.Lin, h, union)
		} else {
			cl.gatherGemv(zs, h, b, union)
		}
		t3 := time.Now()
		phase[0][np] = ms(t1.Sub(t0))
		phase[1][np] = ms(t2.Sub(t1))
		phase[2][np] = ms(t3.Sub(t2))
		if np > 0 {
			cands += float64(len(union))
		}
		np++
	}
	say("timing full vs screened, %d rounds…", cfg.Reps)
	ts, raw := bench.MeasureRounds(cfg.Reps, full, screened)
	res.FullMs, res.ScreenMs = ts[0].Median, ts[1].Median
	res.Speedup = bench.PairedRatio(raw[0], raw[1])
	res.PhaseScreenMs = median(phase[0][1:np])
	res.PhaseSelectMs = median(phase[1][1:np])
	res.PhaseExactMs = median(phase[2][1:np])
	res.Overhead = (res.PhaseScreenMs + res.PhaseSelectMs) / res.FullMs
	if fused {
		res.PhaseNote = "the top-m selection runs inside the screen phase's INT4 GEMV (kernels.Pool.GemvInt4TopK) and is timed there; select_ms is 0"
	}
	res.Candidates = cands / float64(np-1)

	say("quality on the %d timed inputs…", cfg.Reps*b)
	if err := c.SetSelection(Selection{Mode: TopM, M: res.M}); err != nil {
		return nil, err
	}
	q, err := c.Evaluate(hs, nil)
	if err != nil {
		return nil, err
	}
	res.Top1Agreement, res.Top5Recall, res.Coverage, res.QualityInputs = q.Top1, q.Top5, q.Coverage, q.N
	if b > 1 {
		res.QualityNote = fmt.Sprintf("quality is per input at batch 1 (m=%d each), a lower bound for the batch's union", res.M)
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

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

// clone returns a copy of the screener whose weights share no memory with
// s's, so a benchmark's copies are cold. P (a few index lists) is shared,
// and so is the dequantized view of W̃ when the integer kernels never read
// it.
func (s *Screener) clone() *Screener {
	c := *s
	w := s.Spec.W
	if !s.intKernel() {
		w = slices.Clone(w)
	}
	sp := &spec.Speculator{P: s.Spec.P, N: s.Spec.N, K: s.Spec.K, W: w, B: slices.Clone(s.Spec.B)}
	if q := s.Spec.Q; q != nil {
		m := *q
		m.Scales = slices.Clone(q.Scales)
		m.I8 = slices.Clone(q.I8)
		m.I16 = slices.Clone(q.I16)
		m.Packed = slices.Clone(q.Packed)
		sp.Q = &m
	}
	c.Spec = sp
	return &c
}
