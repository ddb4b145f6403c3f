package experiments

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/elasticml/elastic/baseline/hnsw"
	"github.com/elasticml/elastic/baseline/svdsoftmax"
	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/spec"
)

// The methods Compare knows.
const (
	MethodFull   = "full"
	MethodScreen = "screen"
	MethodSVD    = "svd"
	MethodHNSW   = "hnsw"
)

// Methods returns the methods Compare knows, in their default order.
func Methods() []string { return []string{MethodFull, MethodScreen, MethodSVD, MethodHNSW} }

// The spaces an HNSW graph is built in.
const (
	// SpaceIP is the graph on inner products (hnsw.Config{IPPT: false}).
	SpaceIP = "ip"
	// SpaceIPPT is the graph on Euclidean distances after the
	// inner-product preserving transformation (hnsw.Config{IPPT: true}).
	SpaceIPPT = "ippt"
)

// Spaces returns the HNSW spaces, in the order Compare builds them.
func Spaces() []string { return []string{SpaceIP, SpaceIPPT} }

// Config configures Compare. The numeric ranges (m ≥ 1, bit widths, k/d
// in (0, 1], ...) are the command's flags' domains; Check refuses what
// they cannot.
type Config struct {
	Workload string // the workload's name, shown in the result ("synth", "lm", ...)
	Command  string // a command line that repeats the run, recorded in the result
	Load     Loader // loads the workload on Compare's pool

	Threads int    // pool workers; <= 0 means GOMAXPROCS
	Seed    uint64 // the projection of every screener and the HNSW levels
	Reps    int    // timed rounds per budget
	Methods []string
	Cold    bool // evict all caches before every timed call
	LLCMiB  int  // with Cold: the last-level cache in MiB; 0 reads it from sysfs

	Ms       []int   // screen: top-m budgets
	Bits     int     // screen: weight width (32: float)
	KRatio   float64 // screen: k/d
	BitsList []int   // sensitivity: also screeners of these widths at KRatio
	KRatios  []float64

	SVDWindows, SVDCands []int

	HNSWEf             []int
	HNSWM              int
	HNSWEfConstruction int
	HNSWSpaces         []string // SpaceIP, SpaceIPPT or both, built in this order

	// Plot, if not empty, is the PNG file Compare draws the result to.
	Plot string
	// Progress receives one timestamped line per stage; nil for none.
	Progress io.Writer
}

func (c *Config) has(method string) bool { return slices.Contains(c.Methods, method) }

// Check validates what can be checked before any data is read.
func (c *Config) Check() error {
	switch {
	case c.LLCMiB > 0 && !c.Cold:
		return errors.New("--llc-mib sizes the evictor of --cold; without --cold the timing is warm")
	case len(c.Methods) == 0:
		return errors.New("--methods: none given")
	case c.Load == nil:
		return errors.New("experiments: Config.Load is nil")
	}
	for _, m := range c.Methods {
		if !slices.Contains(Methods(), m) {
			return fmt.Errorf("unknown method %q in --methods (want %s)", m, strings.Join(Methods(), ", "))
		}
	}
	if c.has(MethodScreen) && len(c.Ms) == 0 {
		return errors.New("--m: none given")
	}
	if c.has(MethodSVD) && (len(c.SVDWindows) == 0 || len(c.SVDCands) == 0) {
		return errors.New("--svd-windows and --svd-cands: none given")
	}
	if c.has(MethodHNSW) {
		if len(c.HNSWEf) == 0 {
			return errors.New("--hnsw-ef: none given")
		}
		if len(c.HNSWSpaces) == 0 {
			return errors.New("--hnsw-space: none given")
		}
		for _, s := range c.HNSWSpaces {
			if !slices.Contains(Spaces(), s) {
				return fmt.Errorf("unknown HNSW space %q (want %s)", s, strings.Join(Spaces(), ", "))
			}
		}
	}
	return nil
}

// checkSizes validates the budgets against the classifier.
func (c *Config) checkSizes(l, d int) error {
	if l < clsmetrics.RefK {
		return fmt.Errorf("the classifier has %d classes; the comparison scores a top-%d and needs at least that many", l, clsmetrics.RefK)
	}
	if c.has(MethodScreen) {
		for _, m := range c.Ms {
			if m > l {
				return fmt.Errorf("--m %d exceeds the %d classes", m, l)
			}
		}
	}
	if c.has(MethodSVD) {
		for _, w := range c.SVDWindows {
			if w > d {
				return fmt.Errorf("--svd-windows %d exceeds the hidden width %d", w, d)
			}
		}
		for _, n := range c.SVDCands {
			if n > l {
				return fmt.Errorf("--svd-cands %d exceeds the %d classes", n, l)
			}
		}
	}
	return nil
}

// screenerConfig is one screener of the sweep.
type screenerConfig struct {
	bits   int
	kRatio float64
}

// screeners returns the screeners to fit: the one of Bits and KRatio,
// then, for the sensitivity study, each width of BitsList at KRatio and
// each k/d of KRatios at Bits, without repeats.
func (c *Config) screeners() []screenerConfig {
	cs := []screenerConfig{{c.Bits, c.KRatio}}
	add := func(s screenerConfig) {
		if !slices.Contains(cs, s) {
			cs = append(cs, s)
		}
	}
	for _, b := range c.BitsList {
		add(screenerConfig{b, c.KRatio})
	}
	for _, k := range c.KRatios {
		add(screenerConfig{c.Bits, k})
	}
	return cs
}

// Row is one budget of one method.
type Row struct {
	clsmetrics.SweepRow
	// Accuracy is the top-1 accuracy against the labels, when known.
	Accuracy *float64      `json:"accuracy,omitempty"`
	Screen   *ScreenDetail `json:"screen,omitempty"`
	// Space is the HNSW graph's space (SpaceIP or SpaceIPPT) of an hnsw row.
	Space string `json:"space,omitempty"`
	// series is the plot line of the row when not its Method: SVD-softmax
	// draws one line per preview window, each traced by the candidates,
	// and HNSW one per space.
	series string
}

// Label is the row's method as the table and the plot show it: the
// method, and the space of an HNSW row.
func (r *Row) Label() string {
	if r.Space != "" {
		return r.Method + " " + r.Space
	}
	return r.Method
}

// ScreenDetail is what only screening reports.
type ScreenDetail struct {
	M        int     `json:"m"`
	K        int     `json:"k"`
	Bits     int     `json:"bits"`
	KRatio   float64 `json:"k_ratio"`
	Coverage float64 `json:"coverage"`
	ScreenMs float64 `json:"screen_ms"`
	SelectMs float64 `json:"select_ms"`
	ExactMs  float64 `json:"exact_ms"`
}

// ScreenerInfo describes one fitted screener.
type ScreenerInfo struct {
	Method     string  `json:"method"`
	Bits       int     `json:"bits"`
	KRatio     float64 `json:"k_ratio"`
	K          int     `json:"k"`
	FitSeconds float64 `json:"fit_s"`
	MSE        float64 `json:"fit_mse"`
	ZeroMSE    float64 `json:"zero_mse"`
	BytesRatio float64 `json:"bytes_ratio"`
}

// HNSWGraph describes one built HNSW graph.
type HNSWGraph struct {
	Space        string  `json:"space"`
	BuildSeconds float64 `json:"build_s"`
	Links        int     `json:"links"`
}

// Result is a comparison: the workload, how it was timed, what was fitted
// or built, and one row per budget of every method.
type Result struct {
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
	Timing      string         `json:"timing"` // "warm", or "cold" with Config.Cold
	LLCBytes    int            `json:"llc_bytes"`
	EvictBytes  int            `json:"evict_bytes,omitempty"` // written before every timed call when cold: 2 × LLCBytes
	Screeners   []ScreenerInfo `json:"screeners,omitempty"`
	SVDSeconds  float64        `json:"svd_factor_s,omitempty"`
	// HNSW lists the graphs built, one per space. HNSWSeconds and
	// HNSWLinks repeat the build of a single graph (omitted when there are
	// two), as before there was a choice of space.
	HNSW        []HNSWGraph `json:"hnsw_graphs,omitempty"`
	HNSWSeconds float64     `json:"hnsw_build_s,omitempty"`
	HNSWLinks   int         `json:"hnsw_links,omitempty"`
	Rows        []Row       `json:"rows"`
	PlotFile    string      `json:"plot,omitempty"`
}

// compare is one run of Compare.
type compare struct {
	cfg  *Config
	res  *Result
	data *Workload
	task *clsmetrics.Task
	pool *kernels.Pool
	say  func(string, ...any)
}

// Compare loads the workload, computes the full classifier's top-5 on its
// test vectors and runs every method of cfg.Methods on them, in order, on
// one pool of cfg.Threads workers; with cfg.Plot it draws the result.
// It returns an error, before anything is loaded, for a Config that Check
// refuses, and afterwards for budgets the classifier cannot take (an m
// beyond its classes, say), a workload without calibration vectors, and
// any error of a fit, a build or a sweep.
func Compare(cfg Config) (*Result, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	say := func(format string, a ...any) {
		fmt.Fprintf(progress, "[%5.1fs] "+format+"\n", append([]any{time.Since(start).Seconds()}, a...)...)
	}
	pool := kernels.NewPool(cfg.Threads)
	defer pool.Close()
	data, err := cfg.Load(pool, say)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkSizes(data.L, data.D); err != nil {
		return nil, err
	}
	nCalib := len(data.Calib) / data.D
	if nCalib == 0 {
		return nil, errors.New("no calibration vectors")
	}
	say("full top-5 of %d test inputs…", len(data.Test)/data.D)
	task, err := clsmetrics.NewTask(pool, data.W, data.B, data.L, data.D, data.Test)
	if err != nil {
		return nil, err
	}
	res := &Result{
		Command: cfg.Command, Workload: cfg.Workload, Source: data.Source, Classes: data.L, Dim: data.D,
		Calibration: nCalib, Tests: task.N, Threads: pool.Workers(), Impl: kernels.Impl(), Reps: cfg.Reps,
		Timing: "warm", LLCBytes: cfg.LLCMiB << 20,
	}
	if res.LLCBytes == 0 {
		res.LLCBytes = bench.LastLevelCache()
	}
	if cfg.Cold {
		ev := bench.NewEvictor(pool, 2*res.LLCBytes)
		task.Evict = ev.Evict
		res.Timing, res.EvictBytes = "cold", ev.Bytes()
		say("cold timing: writing %d MiB before every timed call", ev.Bytes()>>20)
	}
	if data.Labels != nil {
		res.Labels = data.LabelMeaning
	}
	c := &compare{cfg: &cfg, res: res, data: data, task: task, pool: pool, say: say}
	for _, method := range cfg.Methods {
		var rows []Row
		var err error
		switch method {
		case MethodFull:
			rows, err = c.full()
		case MethodScreen:
			rows, err = c.screen()
		case MethodSVD:
			rows, err = c.svd()
		case MethodHNSW:
			rows, err = c.hnsw()
		}
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, rows...)
	}
	if len(res.HNSW) == 1 {
		res.HNSWSeconds, res.HNSWLinks = res.HNSW[0].BuildSeconds, res.HNSW[0].Links
	}
	if cfg.Plot != "" {
		if err := res.SavePlot(cfg.Plot); err != nil {
			return nil, err
		}
		res.PlotFile = cfg.Plot
		say("wrote %s", cfg.Plot)
	}
	return res, nil
}

// accuracy returns the top-1 accuracy of predict against the labels, nil
// when they are unknown.
func (c *compare) accuracy(predict func(i int) (int32, error)) (*float64, error) {
	if c.data.Labels == nil {
		return nil, nil
	}
	hit := 0
	for i, y := range c.data.Labels {
		p, err := predict(i)
		if err != nil {
			return nil, err
		}
		if p == y {
			hit++
		}
	}
	a := float64(hit) / float64(len(c.data.Labels))
	return &a, nil
}

func (c *compare) full() ([]Row, error) {
	c.say("timing full classification…")
	t := c.task
	ms, _ := t.Time(c.pool, c.cfg.Reps, t.FullQuery(c.pool))
	a, err := c.accuracy(func(i int) (int32, error) { return t.Top1[i], nil })
	if err != nil {
		return nil, err
	}
	// Against itself the speed-up is 1 by definition; the measured paired
	// ratio would only show the noise.
	return []Row{{SweepRow: clsmetrics.SweepRow{
		Method: MethodFull, Budget: "dense GEMV", MsPerQuery: ms, Top1: 1, Top5Recall: 1, Speedup: 1,
	}, Accuracy: a}}, nil
}

// BitsName names a screener width: FP32 for 32, else the quant width.
func BitsName(b int) string {
	if b == int(screen.FP32) {
		return "FP32"
	}
	return quant.Bits(b).String()
}

func (c *compare) screen() ([]Row, error) {
	t, data, cfg := c.task, c.data, c.cfg
	lin := spec.NewLinear(data.W, data.B, data.L, data.D)
	cfgs := cfg.screeners()
	var out []Row
	for _, sc := range cfgs {
		name := MethodScreen
		if len(cfgs) > 1 {
			name = fmt.Sprintf("screen %s k/d=%g", BitsName(sc.bits), sc.kRatio)
		}
		c.say("fitting the %s screener at k/d=%g on %d vectors…", BitsName(sc.bits), sc.kRatio, len(data.Calib)/data.D)
		t0 := time.Now()
		s, err := screen.Fit(lin, data.Calib, screen.Options{KRatio: sc.kRatio, Bits: quant.Bits(sc.bits), Seed: cfg.Seed, NoBound: true}, c.pool)
		if err != nil {
			return nil, err
		}
		c.res.Screeners = append(c.res.Screeners, ScreenerInfo{
			Method: name, Bits: sc.bits, KRatio: sc.kRatio, K: s.K, FitSeconds: time.Since(t0).Seconds(),
			MSE: s.MSE, ZeroMSE: s.ZeroMSE, BytesRatio: s.BytesRatio(),
		})
		cl, err := screen.NewClassifier(lin, s, c.pool)
		if err != nil {
			return nil, err
		}
		c.say("timing %s at m = %v…", name, cfg.Ms)
		rows, err := screen.Sweep(t, cl, cfg.Ms, cfg.Reps)
		if err != nil {
			return nil, err
		}
		z := make([]float32, data.L)
		var top []int32
		for _, r := range rows {
			if err := cl.SetSelection(screen.Selection{Mode: screen.TopM, M: r.M}); err != nil {
				return nil, err
			}
			a, err := c.accuracy(func(i int) (int32, error) {
				cand, err := cl.Forward(z, t.Query(i))
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
			out = append(out, Row{SweepRow: r.SweepRow, Accuracy: a, Screen: &ScreenDetail{
				M: r.M, K: r.K, Bits: r.Bits, KRatio: sc.kRatio, Coverage: r.Coverage,
				ScreenMs: r.ScreenMs, SelectMs: r.SelectMs, ExactMs: r.ExactMs,
			}})
		}
	}
	return out, nil
}

func (c *compare) svd() ([]Row, error) {
	t, cfg := c.task, c.cfg
	c.say("factoring the classifier for SVD-softmax…")
	t0 := time.Now()
	m, err := svdsoftmax.New(c.pool, t.W, t.B, t.Rows, t.Cols)
	if err != nil {
		return nil, err
	}
	c.res.SVDSeconds = time.Since(t0).Seconds()
	var out []Row
	for _, win := range cfg.SVDWindows {
		s := m.Searcher(win, c.pool)
		for _, n := range cfg.SVDCands {
			c.say("timing svd-softmax window=%d n=%d…", win, n)
			rows, err := svdsoftmax.Sweep(t, m, c.pool, []int{win}, []int{n}, cfg.Reps)
			if err != nil {
				return nil, err
			}
			if len(rows) != 1 {
				return nil, fmt.Errorf("svd-softmax window=%d n=%d: no result", win, n)
			}
			a, err := c.accuracy(func(i int) (int32, error) {
				top, err := s.TopK(t.Query(i), n, 1)
				if err != nil {
					return 0, err
				}
				return top[0], nil
			})
			if err != nil {
				return nil, err
			}
			out = append(out, Row{SweepRow: rows[0], Accuracy: a, series: fmt.Sprintf("%s window=%d", rows[0].Method, win)})
		}
	}
	return out, nil
}

func (c *compare) hnsw() ([]Row, error) {
	t, cfg := c.task, c.cfg
	var out []Row
	for _, space := range cfg.HNSWSpaces {
		c.say("building the HNSW graph (%s space, M=%d, efConstruction=%d) on %d threads…", space, cfg.HNSWM, cfg.HNSWEfConstruction, c.pool.Workers())
		t0 := time.Now()
		x, err := hnsw.Build(c.pool, t.W, t.B, t.Rows, t.Cols, hnsw.Config{
			M: cfg.HNSWM, EfConstruction: cfg.HNSWEfConstruction, Seed: cfg.Seed, IPPT: space == SpaceIPPT})
		if err != nil {
			return nil, err
		}
		g := HNSWGraph{Space: space, BuildSeconds: time.Since(t0).Seconds(), Links: x.Links()}
		c.res.HNSW = append(c.res.HNSW, g)
		c.say("built in %.1f s; timing ef = %v…", g.BuildSeconds, cfg.HNSWEf)
		s := x.Searcher()
		for _, ef := range cfg.HNSWEf {
			rows, err := hnsw.Sweep(t, x, c.pool, []int{ef}, cfg.Reps)
			if err != nil {
				return nil, err
			}
			if len(rows) != 1 {
				return nil, fmt.Errorf("hnsw ef=%d: no result", ef)
			}
			a, err := c.accuracy(func(i int) (int32, error) {
				ids, _, err := s.Search(t.Query(i), 1, ef)
				if err != nil {
					return 0, err
				}
				return ids[0], nil
			})
			if err != nil {
				return nil, err
			}
			out = append(out, Row{SweepRow: rows[0], Accuracy: a, Space: space})
		}
	}
	return out, nil
}
