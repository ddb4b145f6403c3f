package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/baseline/hnsw"
	"github.com/elasticml/elastic/baseline/svdsoftmax"
	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/report"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
	"github.com/elasticml/elastic/wordnet"
)

// The methods `screen compare` knows, in their default order.
const (
	methodFull   = "full"
	methodScreen = "screen"
	methodSVD    = "svd"
	methodHNSW   = "hnsw"
)

var compareMethods = []string{methodFull, methodScreen, methodSVD, methodHNSW}

var compareWorkloads = []string{"synth", "lm", "file", "wordnet"}

// compareFlags configure `elastic screen compare`.
type compareFlags struct {
	workload string
	cls      classifierFlags // lm and file workloads; --tokens and --threads for all

	classes, dim int // synth
	seed         uint64

	model        string // wordnet
	wnDir        string
	splitSeed    uint64
	lemmaSamples bool

	tests, reps int
	methods     []string
	cold        bool
	llcMiB      int

	ms       []int
	bits     int
	kRatio   float64
	bitsList []int
	kRatios  []float64

	svdWindows, svdCands []int

	hnswEf        []int
	hnswM, hnswEC int

	asJSON bool
	plot   string
}

func newScreenCompare(stdout, stderr io.Writer) *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Quality vs speed-up of screening, SVD-softmax, HNSW and full classification on one workload",
		Long: `compare measures, in one process and on one classifier, the top-1 agreement
with the full classifier, top-5 recall, accuracy (when labels are known) and
speed-up of approximate screening at each top-m of --m, SVD-softmax at each
preview window × candidate count, HNSW graph search at each efSearch, and the
full classification itself (thesis Figure 6.10). Every method is timed at
batch 1, round by round against the same full dense GEMV + top-5 on the same
pool (clsmetrics.Task.Time), so the speed-ups share one baseline. With
--bits-list or --k-ratios it also sweeps the screener's precision at
--k-ratio and its k/d at --bits (Figure 6.11), one curve per screener.

Timing is warm by default: the classifier and each method's structures stay
in the caches between queries, so a classifier smaller than the last-level
cache is read at cache speed, not streamed from memory as on a server whose
other layers displace it. --cold evicts all caches before every timed call
(untimed): it writes through a buffer of twice the last-level cache (or
--llc-mib) on the pool, so every method and the full classification read
their data from memory. Each eviction moves about four times the cache's
bytes, so cold runs take longer.

Workloads:
  synth    a synthetic classifier (package screen/synth) of --classes × --dim;
           calibration and test vectors are drawn from its input model
  lm       a language model (--classifier): the decoder is the classifier, the
           last layer's state over training tokens calibrates and over
           validation tokens tests; the label is the next token
  file     tensors --weight/--bias of --classifier and the vectors of --hidden:
           the last --tests rows test, the ones before calibrate
  wordnet  a wn checkpoint (--model): the tanh layer's output over a sample of
           training examples calibrates, over test examples tests; the label
           is the synset

--tokens is the number of calibration vectors in every workload.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScreenCompare(stdout, stderr, &f)
		},
	}
	f.cls.add(cmd, "calibration vectors: drawn (synth), training tokens (lm), rows of --hidden (file), training examples (wordnet)", 20000)
	fl := cmd.Flags()
	fl.StringVar(&f.workload, "workload", "synth", "synth, lm, file or wordnet")
	intFlag(fl, &f.classes, "classes", 267744, atLeast(clsmetrics.RefK), "synth: classes l")
	intFlag(fl, &f.dim, "dim", 512, closed(1, synth.MaxDim), "synth: hidden width d")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the synthetic classifier and vectors, the projection, the HNSW levels and the WordNet samples")
	fl.StringVar(&f.model, "model", "", "wordnet: checkpoint written by wn train")
	fl.StringVar(&f.wnDir, "wordnet-dir", "", "wordnet: WordNet directory (default "+wordnet.DefaultDir+")")
	fl.Uint64Var(&f.splitSeed, "split-seed", 1, "wordnet: seed of the held-out split the model was trained with")
	fl.BoolVar(&f.lemmaSamples, "lemma-samples", true, "wordnet: the model was trained with lemma samples")
	intFlag(fl, &f.tests, "tests", 1000, atLeast(1), "test inputs, scored for quality and cycled through for timing")
	intFlag(fl, &f.reps, "reps", 20, atLeast(1), "timed rounds per budget (one method query and one full query each)")
	fl.BoolVar(&f.cold, "cold", false, "evict all caches before every timed call (default warm: structures stay cached between queries)")
	intFlag(fl, &f.llcMiB, "llc-mib", 0, llcDomain(), "with --cold: last-level cache in MiB; the evictor writes twice that (default: read from sysfs)")
	fl.StringSliceVar(&f.methods, "methods", compareMethods, "methods to run, in order: full, screen, svd, hnsw")
	intsFlag(fl, &f.ms, "m", []int{8, 16, 32, 64, 128, 256}, atLeast(1), "screen: candidate counts (top-m)")
	intFlag(fl, &f.bits, "bits", 4, bitWidths(), "screen: weight width (32: float)")
	floatFlag(fl, &f.kRatio, "k-ratio", screen.DefaultKRatio, unitRight(), "screen: k/d")
	intsFlag(fl, &f.bitsList, "bits-list", nil, bitWidths(), "sensitivity: also screeners of these widths at --k-ratio (e.g. 32,8,4,2)")
	floatsFlag(fl, &f.kRatios, "k-ratios", nil, unitRight(), "sensitivity: also screeners of these k/d at --bits (e.g. 0.125,0.25,0.5)")
	intsFlag(fl, &f.svdWindows, "svd-windows", []int{16, 32, 64}, atLeast(1), "svd: preview windows (leading singular directions)")
	intsFlag(fl, &f.svdCands, "svd-cands", []int{128, 512, 2048}, atLeast(clsmetrics.RefK), "svd: candidates recomputed at full width")
	intsFlag(fl, &f.hnswEf, "hnsw-ef", []int{16, 32, 64, 128, 256}, atLeast(1), "hnsw: efSearch values")
	intFlag(fl, &f.hnswM, "hnsw-m", 16, closed(2, 256), "hnsw: links per node (2M on the bottom layer)")
	intFlag(fl, &f.hnswEC, "hnsw-ef-construction", 100, atLeast(1), "hnsw: candidate list size while building")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object instead of the markdown table")
	fl.StringVar(&f.plot, "plot", "", "write top-1 agreement vs speed-up, one line per method (per window for svd), to this PNG file")
	return cmd
}

func (f *compareFlags) has(method string) bool { return slices.Contains(f.methods, method) }

// screenerConfig is one screener of the sweep.
type screenerConfig struct {
	bits   int
	kRatio float64
}

// screeners returns the screeners to fit: the one of --bits and --k-ratio,
// then, for the sensitivity study, each width of --bits-list at --k-ratio
// and each k/d of --k-ratios at --bits, without repeats.
func (f *compareFlags) screeners() []screenerConfig {
	cs := []screenerConfig{{f.bits, f.kRatio}}
	add := func(c screenerConfig) {
		if !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	for _, b := range f.bitsList {
		add(screenerConfig{b, f.kRatio})
	}
	for _, k := range f.kRatios {
		add(screenerConfig{f.bits, k})
	}
	return cs
}

// check validates what can be checked before any data is read.
func (f *compareFlags) check() error {
	if !slices.Contains(compareWorkloads, f.workload) {
		return fmt.Errorf("unknown --workload %q (want %s)", f.workload, strings.Join(compareWorkloads, ", "))
	}
	switch f.workload {
	case "synth":
		if int64(f.classes)*int64(f.dim+1)*4 > screen.MaxBenchBytes {
			return fmt.Errorf("--classes %d × --dim %d: the float32 classifier exceeds the %d GiB budget", f.classes, f.dim, screen.MaxBenchBytes>>30)
		}
		// The classifier, the drawn vectors and the methods' copies of W.
		need := budget.Add(budget.Mul(4*3, f.classes, f.dim+1), budget.Mul(4, f.cls.tokens, f.dim), budget.Mul(4, f.tests, f.dim+f.classes))
		if err := budget.Check(fmt.Sprintf("--classes %d × --dim %d with --tokens %d and --tests %d", f.classes, f.dim, f.cls.tokens, f.tests), need); err != nil {
			return err
		}
	case "lm":
		if f.cls.hidden != "" {
			return errors.New("--hidden goes with --workload file; --workload lm runs the model for its vectors")
		}
		f.cls.useLM = true
	case "file":
		if f.cls.hidden == "" || f.cls.useLM {
			return errors.New("--workload file needs --hidden and no --lm (use --workload lm for a language model)")
		}
	case "wordnet":
		if f.model == "" {
			return errors.New("--workload wordnet needs --model, a checkpoint written by wn train")
		}
		if f.splitSeed == 0 {
			return errors.New("--split-seed must be positive")
		}
	}
	// Numeric ranges are checked by the flags' domains when parsed.
	switch {
	case f.llcMiB > 0 && !f.cold:
		return errors.New("--llc-mib sizes the evictor of --cold; without --cold the timing is warm")
	case len(f.methods) == 0:
		return errors.New("--methods: none given")
	}
	for _, m := range f.methods {
		if !slices.Contains(compareMethods, m) {
			return fmt.Errorf("unknown method %q in --methods (want %s)", m, strings.Join(compareMethods, ", "))
		}
	}
	if f.has(methodScreen) {
		if len(f.ms) == 0 {
			return errors.New("--m: none given")
		}
	}
	if f.has(methodSVD) {
		if len(f.svdWindows) == 0 || len(f.svdCands) == 0 {
			return errors.New("--svd-windows and --svd-cands: none given")
		}
	}
	if f.has(methodHNSW) {
		if len(f.hnswEf) == 0 {
			return errors.New("--hnsw-ef: none given")
		}
	}
	return nil
}

// checkSizes validates the budgets against the classifier.
func (f *compareFlags) checkSizes(l, d int) error {
	if l < clsmetrics.RefK {
		return fmt.Errorf("the classifier has %d classes; the comparison scores a top-%d and needs at least that many", l, clsmetrics.RefK)
	}
	if f.has(methodScreen) {
		for _, m := range f.ms {
			if m > l {
				return fmt.Errorf("--m %d exceeds the %d classes", m, l)
			}
		}
	}
	if f.has(methodSVD) {
		for _, w := range f.svdWindows {
			if w > d {
				return fmt.Errorf("--svd-windows %d exceeds the hidden width %d", w, d)
			}
		}
		for _, n := range f.svdCands {
			if n > l {
				return fmt.Errorf("--svd-cands %d exceeds the %d classes", n, l)
			}
		}
	}
	return nil
}

// compareData is a workload: a classifier with calibration and test
// vectors, and test labels when known.
type compareData struct {
	source       string
	w, b         []float32
	l, d         int
	calib, test  []float32
	labels       []int32
	labelMeaning string
}

func (f *compareFlags) load(pool *kernels.Pool, say func(string, ...any)) (*compareData, error) {
	switch f.workload {
	case "synth":
		say("generating a %d×%d synthetic classifier…", f.classes, f.dim)
		cfg := synth.Default(f.classes, f.dim)
		cfg.Seed = f.seed
		m, err := synth.New(cfg)
		if err != nil {
			return nil, err
		}
		calib, _ := m.Sample(f.cls.tokens, f.seed+1)
		test, labels := m.Sample(f.tests, f.seed+2)
		return &compareData{
			source: fmt.Sprintf("synthetic (screen/synth defaults, seed %d)", f.seed),
			w:      m.W, b: m.B, l: f.classes, d: f.dim, calib: calib, test: test,
			labels: labels, labelMeaning: "the class each input was drawn for",
		}, nil
	case "lm":
		src, err := f.cls.open()
		if err != nil {
			return nil, err
		}
		say("running %s over %d training tokens (calibration) and %d validation tokens (test)…", f.cls.path, f.cls.tokens, f.tests)
		calib, _, err := f.cls.vectorsN(src, corpus.Train, f.cls.tokens, pool)
		if err != nil {
			return nil, err
		}
		test, labels, err := f.cls.vectorsN(src, corpus.Valid, f.tests, pool)
		if err != nil {
			return nil, err
		}
		lin := src.lin
		return &compareData{source: f.cls.path, w: lin.W, b: lin.B, l: lin.N, d: lin.D,
			calib: calib, test: test, labels: labels, labelMeaning: "the next token"}, nil
	case "file":
		src, err := f.cls.open()
		if err != nil {
			return nil, err
		}
		lin := src.lin
		hs, labels, err := readHidden(f.cls.hidden, lin.N, lin.D, f.cls.tokens+f.tests)
		if err != nil {
			return nil, err
		}
		n := len(hs) / lin.D
		if n <= f.tests {
			return nil, fmt.Errorf("%s holds %d vectors: need more than --tests %d, the rest calibrating", f.cls.hidden, n, f.tests)
		}
		cut := n - f.tests
		if labels != nil {
			labels = labels[cut:]
		}
		return &compareData{source: f.cls.path + " with " + f.cls.hidden, w: lin.W, b: lin.B, l: lin.N, d: lin.D,
			calib: hs[:cut*lin.D], test: hs[cut*lin.D:], labels: labels, labelMeaning: "the file's labels"}, nil
	}
	say("loading %s and the WordNet data set…", f.model)
	m, meta, err := wordnet.LoadModel(f.model)
	if err != nil {
		return nil, err
	}
	ds, err := wordnet.LoadDataset(wordnet.Options{Dir: f.wnDir, Seed: f.splitSeed, LemmaSamples: f.lemmaSamples})
	if err != nil {
		return nil, err
	}
	if err := ds.Check(m, meta); err != nil {
		return nil, fmt.Errorf("%s: %w", f.model, err)
	}
	m.SetPool(pool)
	tr, te := ds.Train.Sample(f.cls.tokens, f.seed), ds.Test.Sample(f.tests, f.seed+1)
	say("hidden vectors of %d training and %d test examples…", tr.Len(), te.Len())
	calib, _, _ := m.HiddenVectors(tr)
	test, _, d := m.HiddenVectors(te)
	return &compareData{source: f.model, w: m.Decoder.Data, b: m.Bias.Data, l: m.Config().Classes, d: d,
		calib: calib, test: test, labels: te.Labels, labelMeaning: "the synset"}, nil
}

// compareRow is one budget of one method.
type compareRow struct {
	clsmetrics.SweepRow
	// Accuracy is the top-1 accuracy against the labels, when known.
	Accuracy *float64      `json:"accuracy,omitempty"`
	Screen   *screenDetail `json:"screen,omitempty"`
	// series is the plot line of the row when not its Method: SVD-softmax
	// draws one line per preview window, each traced by the candidates.
	series string
}

// screenDetail is what only screening reports.
type screenDetail struct {
	M        int     `json:"m"`
	K        int     `json:"k"`
	Bits     int     `json:"bits"`
	KRatio   float64 `json:"k_ratio"`
	Coverage float64 `json:"coverage"`
	ScreenMs float64 `json:"screen_ms"`
	SelectMs float64 `json:"select_ms"`
	ExactMs  float64 `json:"exact_ms"`
}

// screenerInfo describes one fitted screener.
type screenerInfo struct {
	Method     string  `json:"method"`
	Bits       int     `json:"bits"`
	KRatio     float64 `json:"k_ratio"`
	K          int     `json:"k"`
	FitSeconds float64 `json:"fit_s"`
	MSE        float64 `json:"fit_mse"`
	ZeroMSE    float64 `json:"zero_mse"`
	BytesRatio float64 `json:"bytes_ratio"`
}

type compareResult struct {
	Command     string         `json:"command"`
	Workload    string         `json:"workload"`
	Source      string         `json:"source"`
	Classes     int            `json:"classes"`
	Dim         int            `json:"dim"`
	Calibration int            `json:"calibration"`
	Tests       int            `json:"tests"`
	Labels      string         `json:"labels,omitempty"`
	Threads     int            `json:"threads"`
	Impl        string         `json:"impl"`
	Reps        int            `json:"reps"`
	Timing      string         `json:"timing"` // "warm", or "cold" with --cold
	LLCBytes    int            `json:"llc_bytes"`
	EvictBytes  int            `json:"evict_bytes,omitempty"` // written before every timed call when cold: 2 × LLCBytes
	Screeners   []screenerInfo `json:"screeners,omitempty"`
	SVDSeconds  float64        `json:"svd_factor_s,omitempty"`
	HNSWSeconds float64        `json:"hnsw_build_s,omitempty"`
	HNSWLinks   int            `json:"hnsw_links,omitempty"`
	Rows        []compareRow   `json:"rows"`
	PlotFile    string         `json:"plot,omitempty"`
}

func runScreenCompare(stdout, stderr io.Writer, f *compareFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	start := time.Now()
	say := func(format string, a ...any) {
		fmt.Fprintf(stderr, "[%5.1fs] "+format+"\n", append([]any{time.Since(start).Seconds()}, a...)...)
	}
	pool := kernels.NewPool(f.cls.threads)
	defer pool.Close()
	data, err := f.load(pool, say)
	if err != nil {
		return err
	}
	if err := f.checkSizes(data.l, data.d); err != nil {
		return err
	}
	nCalib := len(data.calib) / data.d
	if nCalib == 0 {
		return errors.New("no calibration vectors")
	}
	say("full top-5 of %d test inputs…", len(data.test)/data.d)
	task, err := clsmetrics.NewTask(pool, data.w, data.b, data.l, data.d, data.test)
	if err != nil {
		return err
	}
	res := &compareResult{
		Command: f.command(), Workload: f.workload, Source: data.source, Classes: data.l, Dim: data.d,
		Calibration: nCalib, Tests: task.N, Threads: pool.Workers(), Impl: kernels.Impl(), Reps: f.reps,
		Timing: "warm", LLCBytes: f.llcMiB << 20,
	}
	if res.LLCBytes == 0 {
		res.LLCBytes = bench.LastLevelCache()
	}
	if f.cold {
		ev := bench.NewEvictor(pool, 2*res.LLCBytes)
		task.Evict = ev.Evict
		res.Timing, res.EvictBytes = "cold", ev.Bytes()
		say("cold timing: writing %d MiB before every timed call", ev.Bytes()>>20)
	}
	if data.labels != nil {
		res.Labels = data.labelMeaning
	}
	acc := func(predict func(i int) (int32, error)) (*float64, error) {
		if data.labels == nil {
			return nil, nil
		}
		hit := 0
		for i, y := range data.labels {
			p, err := predict(i)
			if err != nil {
				return nil, err
			}
			if p == y {
				hit++
			}
		}
		a := float64(hit) / float64(len(data.labels))
		return &a, nil
	}
	for _, method := range f.methods {
		var rows []compareRow
		var err error
		switch method {
		case methodFull:
			rows, err = compareFull(task, pool, f.reps, acc, say)
		case methodScreen:
			rows, err = f.compareScreen(res, task, data, pool, acc, say)
		case methodSVD:
			rows, err = f.compareSVD(res, task, pool, acc, say)
		case methodHNSW:
			rows, err = f.compareHNSW(res, task, pool, acc, say)
		}
		if err != nil {
			return err
		}
		res.Rows = append(res.Rows, rows...)
	}
	if f.plot != "" {
		if err := plotCompare(res, f.plot); err != nil {
			return err
		}
		res.PlotFile = f.plot
		say("wrote %s", f.plot)
	}
	if f.asJSON {
		return writeJSON(stdout, res)
	}
	return printCompare(stdout, res)
}

type accuracyFunc func(predict func(i int) (int32, error)) (*float64, error)

func compareFull(t *clsmetrics.Task, pool *kernels.Pool, reps int, acc accuracyFunc, say func(string, ...any)) ([]compareRow, error) {
	say("timing full classification…")
	ms, _ := t.Time(pool, reps, t.FullQuery(pool))
	a, err := acc(func(i int) (int32, error) { return t.Top1[i], nil })
	if err != nil {
		return nil, err
	}
	// Against itself the speed-up is 1 by definition; the measured paired
	// ratio would only show the noise.
	return []compareRow{{SweepRow: clsmetrics.SweepRow{
		Method: methodFull, Budget: "dense GEMV", MsPerQuery: ms, Top1: 1, Top5Recall: 1, Speedup: 1,
	}, Accuracy: a}}, nil
}

func bitsName(b int) string {
	if b == int(screen.FP32) {
		return "FP32"
	}
	return quant.Bits(b).String()
}

func (f *compareFlags) compareScreen(res *compareResult, t *clsmetrics.Task, data *compareData, pool *kernels.Pool, acc accuracyFunc, say func(string, ...any)) ([]compareRow, error) {
	lin := spec.NewLinear(data.w, data.b, data.l, data.d)
	cfgs := f.screeners()
	var out []compareRow
	for _, cfg := range cfgs {
		name := methodScreen
		if len(cfgs) > 1 {
			name = fmt.Sprintf("screen %s k/d=%g", bitsName(cfg.bits), cfg.kRatio)
		}
		say("fitting the %s screener at k/d=%g on %d vectors…", bitsName(cfg.bits), cfg.kRatio, len(data.calib)/data.d)
		t0 := time.Now()
		s, err := screen.Fit(lin, data.calib, screen.Options{KRatio: cfg.kRatio, Bits: quant.Bits(cfg.bits), Seed: f.seed, NoBound: true}, pool)
		if err != nil {
			return nil, err
		}
		res.Screeners = append(res.Screeners, screenerInfo{
			Method: name, Bits: cfg.bits, KRatio: cfg.kRatio, K: s.K, FitSeconds: time.Since(t0).Seconds(),
			MSE: s.MSE, ZeroMSE: s.ZeroMSE, BytesRatio: s.BytesRatio(),
		})
		c, err := screen.NewClassifier(lin, s, pool)
		if err != nil {
			return nil, err
		}
		say("timing %s at m = %v…", name, f.ms)
		rows, err := screen.Sweep(t, c, f.ms, f.reps)
		if err != nil {
			return nil, err
		}
		z := make([]float32, data.l)
		var top []int32
		for _, r := range rows {
			if err := c.SetSelection(screen.Selection{Mode: screen.TopM, M: r.M}); err != nil {
				return nil, err
			}
			a, err := acc(func(i int) (int32, error) {
				cand, err := c.Forward(z, t.Query(i))
				if err != nil {
					return 0, err
				}
				top = screen.Top(top, z, cand, 1)
				return top[0], nil
			})
			if err != nil {
				return nil, err
			}
			r.Method = name
			out = append(out, compareRow{SweepRow: r.SweepRow, Accuracy: a, Screen: &screenDetail{
				M: r.M, K: r.K, Bits: r.Bits, KRatio: cfg.kRatio, Coverage: r.Coverage,
				ScreenMs: r.ScreenMs, SelectMs: r.SelectMs, ExactMs: r.ExactMs,
			}})
		}
	}
	return out, nil
}

func (f *compareFlags) compareSVD(res *compareResult, t *clsmetrics.Task, pool *kernels.Pool, acc accuracyFunc, say func(string, ...any)) ([]compareRow, error) {
	say("factoring the classifier for SVD-softmax…")
	t0 := time.Now()
	m, err := svdsoftmax.New(pool, t.W, t.B, t.Rows, t.Cols)
	if err != nil {
		return nil, err
	}
	res.SVDSeconds = time.Since(t0).Seconds()
	var out []compareRow
	for _, win := range f.svdWindows {
		s := m.Searcher(win, pool)
		for _, n := range f.svdCands {
			say("timing svd-softmax window=%d n=%d…", win, n)
			rows, err := svdsoftmax.Sweep(t, m, pool, []int{win}, []int{n}, f.reps)
			if err != nil {
				return nil, err
			}
			if len(rows) != 1 {
				return nil, fmt.Errorf("svd-softmax window=%d n=%d: no result", win, n)
			}
			a, err := acc(func(i int) (int32, error) {
				top, err := s.TopK(t.Query(i), n, 1)
				if err != nil {
					return 0, err
				}
				return top[0], nil
			})
			if err != nil {
				return nil, err
			}
			out = append(out, compareRow{SweepRow: rows[0], Accuracy: a, series: fmt.Sprintf("%s window=%d", rows[0].Method, win)})
		}
	}
	return out, nil
}

func (f *compareFlags) compareHNSW(res *compareResult, t *clsmetrics.Task, pool *kernels.Pool, acc accuracyFunc, say func(string, ...any)) ([]compareRow, error) {
	say("building the HNSW graph (M=%d, efConstruction=%d) on %d threads…", f.hnswM, f.hnswEC, pool.Workers())
	t0 := time.Now()
	x, err := hnsw.Build(pool, t.W, t.B, t.Rows, t.Cols, hnsw.Config{M: f.hnswM, EfConstruction: f.hnswEC, Seed: f.seed})
	if err != nil {
		return nil, err
	}
	res.HNSWSeconds = time.Since(t0).Seconds()
	res.HNSWLinks = x.Links()
	say("built in %.1f s; timing ef = %v…", res.HNSWSeconds, f.hnswEf)
	s := x.Searcher()
	var out []compareRow
	for _, ef := range f.hnswEf {
		rows, err := hnsw.Sweep(t, x, pool, []int{ef}, f.reps)
		if err != nil {
			return nil, err
		}
		if len(rows) != 1 {
			return nil, fmt.Errorf("hnsw ef=%d: no result", ef)
		}
		a, err := acc(func(i int) (int32, error) {
			ids, _, err := s.Search(t.Query(i), 1, ef)
			if err != nil {
				return 0, err
			}
			return ids[0], nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, compareRow{SweepRow: rows[0], Accuracy: a})
	}
	return out, nil
}

// command returns a command line that repeats the run.
func (f *compareFlags) command() string {
	ints := func(v []int) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
	a := []string{"elastic screen compare", "--workload " + f.workload}
	switch f.workload {
	case "synth":
		a = append(a, fmt.Sprintf("--classes %d --dim %d", f.classes, f.dim))
	case "lm":
		a = append(a, "--classifier "+f.cls.path)
	case "file":
		a = append(a, fmt.Sprintf("--classifier %s --weight %s --bias %q --hidden %s", f.cls.path, f.cls.weight, f.cls.bias, f.cls.hidden))
	case "wordnet":
		a = append(a, "--model "+f.model)
	}
	a = append(a, fmt.Sprintf("--seed %d --tokens %d --tests %d --reps %d --threads %d --methods %s",
		f.seed, f.cls.tokens, f.tests, f.reps, f.cls.threads, strings.Join(f.methods, ",")))
	if f.cold {
		a = append(a, "--cold")
		if f.llcMiB > 0 {
			a = append(a, fmt.Sprintf("--llc-mib %d", f.llcMiB))
		}
	}
	if f.has(methodScreen) {
		a = append(a, fmt.Sprintf("--m %s --bits %d --k-ratio %g", ints(f.ms), f.bits, f.kRatio))
		if len(f.bitsList) > 0 {
			a = append(a, "--bits-list "+ints(f.bitsList))
		}
		if len(f.kRatios) > 0 {
			s := make([]string, len(f.kRatios))
			for i, k := range f.kRatios {
				s[i] = strconv.FormatFloat(k, 'g', -1, 64)
			}
			a = append(a, "--k-ratios "+strings.Join(s, ","))
		}
	}
	if f.has(methodSVD) {
		a = append(a, "--svd-windows "+ints(f.svdWindows), "--svd-cands "+ints(f.svdCands))
	}
	if f.has(methodHNSW) {
		a = append(a, fmt.Sprintf("--hnsw-ef %s --hnsw-m %d --hnsw-ef-construction %d", ints(f.hnswEf), f.hnswM, f.hnswEC))
	}
	return strings.Join(a, " ")
}

func printCompare(w io.Writer, r *compareResult) error {
	t := report.Table{
		Title: fmt.Sprintf("Quality vs speed-up: %s workload, %d×%d classifier, %d test inputs, %d threads, %s caches",
			r.Workload, r.Classes, r.Dim, r.Tests, r.Threads, r.Timing),
		Command: r.Command,
		Header:  []string{"method", "budget", "ms/query", "speed-up", "top-1 agree", "top-5 recall"},
	}
	if r.Labels != "" {
		t.Header = append(t.Header, "accuracy")
	}
	t.Header = append(t.Header, "screen / select / exact ms")
	for _, row := range r.Rows {
		cells := []any{row.Method, row.Budget, report.Cell{Format: "%.3f", Value: row.MsPerQuery},
			report.Cell{Format: "%.2f×", Value: row.Speedup},
			report.Cell{Format: "%.4f", Value: row.Top1}, report.Cell{Format: "%.4f", Value: row.Top5Recall}}
		if r.Labels != "" {
			cells = append(cells, report.Cell{Format: "%.4f", Value: *row.Accuracy})
		}
		if s := row.Screen; s != nil {
			cells = append(cells, fmt.Sprintf("%.3f / %.3f / %.3f", s.ScreenMs, s.SelectMs, s.ExactMs))
		} else {
			cells = append(cells, "")
		}
		t.AddRow(cells...)
	}
	t.Notes = append(t.Notes, fmt.Sprintf("Source: %s; %d calibration vectors; kernels %s; %d timed rounds per row, "+
		"each one query of the method and one of the full classification (dense GEMV + top-5) on the same pool; "+
		"speed-up is the median of the per-round ratios (1 for full by definition).", r.Source, r.Calibration, r.Impl, r.Reps))
	if r.Timing == "cold" {
		t.Notes = append(t.Notes, fmt.Sprintf("Timing: cold. Before every timed call, untimed, a %d MiB buffer (twice the last-level cache) was written through "+
			"on the pool, evicting the classifier and every method's structures from all caches.", r.EvictBytes>>20))
	} else {
		t.Notes = append(t.Notes, fmt.Sprintf("Timing: warm. Structures stay in the caches between queries "+
			"(the float32 classifier is %.1f MiB, the last-level cache %d MiB); --cold evicts them before every timed call.",
			float64(4*r.Classes*(r.Dim+1))/(1<<20), r.LLCBytes>>20))
	}
	if r.Labels != "" {
		t.Notes = append(t.Notes, "Accuracy: top-1 against "+r.Labels+".")
	}
	t.Notes = append(t.Notes, "An INT4 screener selects its top m inside the screening GEMV (kernels.Pool.GemvInt4TopK), "+
		"as Classifier.Forward does; its select time is part of the screen time and shows as 0.")
	for _, s := range r.Screeners {
		t.Notes = append(t.Notes, fmt.Sprintf("%s: %s k=%d, %.2f%% of the classifier's bytes, fitted in %.1f s, eq. 6.4 MSE %.4g (%.4g for zero).",
			s.Method, bitsName(s.Bits), s.K, 100*s.BytesRatio, s.FitSeconds, s.MSE, s.ZeroMSE))
	}
	if r.SVDSeconds > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("SVD-softmax factorization: %.1f s.", r.SVDSeconds))
	}
	if r.HNSWSeconds > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("HNSW build: %.1f s on %d threads, %d links.", r.HNSWSeconds, r.Threads, r.HNSWLinks))
	}
	if r.PlotFile != "" {
		t.Notes = append(t.Notes, "Plot: "+r.PlotFile+".")
	}
	return t.Markdown(w)
}

// plotCompare draws top-1 agreement against speed-up, one line per method
// (per window for SVD-softmax) in order of first appearance, each sorted by
// speed-up.
func plotCompare(r *compareResult, path string) error {
	p := report.Plot{
		Title:  fmt.Sprintf("%s workload, %d×%d", r.Workload, r.Classes, r.Dim),
		XLabel: "speed-up over full classification (×)",
		YLabel: "top-1 agreement with the full classifier",
	}
	byMethod := map[string][]clsmetrics.SweepRow{}
	var order []string
	for _, row := range r.Rows {
		key := cmp.Or(row.series, row.Method)
		if _, ok := byMethod[key]; !ok {
			order = append(order, key)
		}
		byMethod[key] = append(byMethod[key], row.SweepRow)
	}
	for _, name := range order {
		rows := byMethod[name]
		slices.SortStableFunc(rows, func(a, b clsmetrics.SweepRow) int { return cmp.Compare(a.Speedup, b.Speedup) })
		s := report.Series{Name: name}
		for _, row := range rows {
			s.X = append(s.X, row.Speedup)
			s.Y = append(s.Y, row.Top1)
		}
		p.Series = append(p.Series, s)
	}
	return p.SavePNG(path, 7, 4.5)
}
