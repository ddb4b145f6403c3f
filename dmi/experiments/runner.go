package experiments

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/report"
)

// ErrTable reports a table number Run does not know.
var ErrTable = errors.New("experiments: unknown table")

// IDs returns the tables Run builds, in the thesis's order.
func IDs() []string { return []string{"3.1", "3.2", "3.4", "3.5", "B.1", "B.2", "B.3", "B.4"} }

// Model is a language model and where it came from.
type Model struct {
	Path  string        // shown in the tables
	LM    *lm.Model     // its weights
	State lm.TrainState // its checkpoint's training state
	// Little, if not nil, holds little modules fitted to LM (dmi fit);
	// they stand in for a fit at their own ε and width.
	Little *dmi.Set
}

// Describe says what the model is and how far it was trained, from its
// checkpoint's metadata.
func (m *Model) Describe() string {
	s := m.State
	done := max(s.Epoch-1, 0) // Epoch is the one in progress
	best := ", not validated yet"
	if !math.IsInf(s.BestVal, 1) && s.BestVal != 0 {
		best = fmt.Sprintf(", best valid PPL %.2f", lm.Perplexity(s.BestVal))
	}
	var trained string
	switch {
	case s.Epoch == 0:
		trained = "no training metadata (an exported state dict)"
	case s.Batch > 0:
		trained = fmt.Sprintf("PARTIALLY trained: stopped %d windows into epoch %d after %s%s", s.Batch, s.Epoch, epochs(done), best)
	case done == 0:
		trained = "UNTRAINED: no complete epoch"
	default:
		trained = fmt.Sprintf("%s%s, lr now %g", epochs(done), best, s.LR)
	}
	return fmt.Sprintf("`%s` (%v; %s)", m.Path, m.LM.Config(), trained)
}

func epochs(n int) string {
	if n == 1 {
		return "1 complete epoch"
	}
	return fmt.Sprintf("%d complete epochs", n)
}

// Shape is the width of a timed layer; Input 0 means Hidden.
type Shape struct{ Hidden, Input int }

func (s Shape) String() string {
	if s.Input == 0 {
		return fmt.Sprintf("%d", s.Hidden)
	}
	return fmt.Sprintf("(%d, %d)", s.Hidden, s.Input)
}

// Timing configures the dmi.RunBench measurements. They use random
// weights at the thesis's layer shapes, not the models'.
type Timing struct {
	Off     bool // no timing; the time columns say "not run"
	Reps    int  // timed steps per point; 0 means 200
	Threads int  // pool workers; <= 0 means GOMAXPROCS
	LLC     int  // last-level cache bytes; 0 means detected
	// Hidden and Small are the single-layer widths of Tables 3.2, B.1 and
	// B.2 (0: 1500 and 750); GNMT the two shapes of Table B.3 (zero:
	// (1024, 1024) and (1024, 2048)).
	Hidden, Small int
	GNMT          [2]Shape
}

// Config is what Run needs.
type Config struct {
	Main  Model  // the model every table uses
	Other *Model // optional: one of the other cell (Table 3.2's second group, B.1 or B.2)
	Small *Model // optional: Main's cell with half its hidden units (B.1/B.2, B.4)

	Eval     []int32 // evaluation tokens, streamed at batch 1
	EvalName string  // says where Eval comes from, e.g. "the first 5000 tokens of the valid split"
	Calib    []int32 // calibration tokens for fitting little modules

	Seed   uint64       // projections, noise and random timing weights
	Ratios []float64    // insensitive ratios of 3.2 and B.1–B.3; nil means 0.1, 0.3, 0.5, 0.7, 0.9
	Ratio  float64      // the fixed ratio of 3.4, 3.5 and B.4; 0 means 0.5
	Noise  []float64    // Table 3.1's σ in units of each gate's RMS; nil means 0.5
	Eps    []float64    // Table 3.4's ε; nil means 0.3, 0.5, 0.7
	Bits   []quant.Bits // Table 3.5's widths; nil means FP32, INT16, INT8, INT4, INT2
	Prune  []float64    // Table B.4's sparsities; nil means 0.8, 0.9
	Timing Timing

	Pool     *kernels.Pool          // runs GEMVs and fitting; nil: the caller only
	Progress io.Writer              // optional progress lines
	Command  func(id string) string // optional: the command that reproduces table id
}

func (c Config) withDefaults() Config {
	if c.Ratios == nil {
		c.Ratios = []float64{0.1, 0.3, 0.5, 0.7, 0.9}
	}
	if c.Ratio == 0 {
		c.Ratio = 0.5
	}
	if c.Noise == nil {
		c.Noise = []float64{0.5}
	}
	if c.Eps == nil {
		c.Eps = []float64{0.3, 0.5, 0.7}
	}
	if c.Bits == nil {
		c.Bits = []quant.Bits{dmi.FP32, quant.Int16, quant.Int8, quant.Int4, quant.Int2}
	}
	if c.Prune == nil {
		c.Prune = []float64{0.8, 0.9}
	}
	t := &c.Timing
	if t.Reps == 0 {
		t.Reps = 200
	}
	if t.Hidden == 0 {
		t.Hidden = 1500
	}
	if t.Small == 0 {
		t.Small = 750
	}
	if t.GNMT == [2]Shape{} {
		t.GNMT = [2]Shape{{1024, 1024}, {1024, 2048}}
	}
	return c
}

// Runner builds the tables, fitting each little module and timing each
// shape once however many tables use it. A Runner is not safe for
// concurrent use.
type Runner struct {
	cfg     Config
	sets    map[setKey]*dmi.Set
	losses  map[lossKey]float64
	benches map[benchKey]*dmi.BenchResult
	pruned  map[float64]*Model
}

type setKey struct {
	m    *lm.Model
	eps  float64
	bits quant.Bits
}

type lossKey struct {
	set   setKey
	ratio float64 // < 0: dense
}

type benchKey struct {
	cell          nn.Cell
	hidden, input int
	eps           float64
}

// New checks cfg and returns a Runner. The models must share a
// vocabulary with the tokens; Small must have Main's cell and Other the
// other cell.
func New(cfg Config) (*Runner, error) {
	cfg = cfg.withDefaults()
	if cfg.Main.LM == nil {
		return nil, errors.New("experiments: no main model")
	}
	if len(cfg.Eval) < 2 {
		return nil, fmt.Errorf("experiments: %d evaluation tokens, need at least 2", len(cfg.Eval))
	}
	main := cfg.Main.LM.Config()
	for _, m := range []*Model{&cfg.Main, cfg.Other, cfg.Small} {
		if m == nil {
			continue
		}
		if m.LM == nil {
			return nil, fmt.Errorf("experiments: model %s has no weights", m.Path)
		}
		if v := m.LM.Config().Vocab; v != main.Vocab {
			return nil, fmt.Errorf("experiments: %s has a vocabulary of %d, %s of %d", m.Path, v, cfg.Main.Path, main.Vocab)
		}
	}
	if cfg.Other != nil && cfg.Other.LM.Config().Cell == main.Cell {
		return nil, fmt.Errorf("experiments: other model %s has the main model's cell %v", cfg.Other.Path, main.Cell)
	}
	if cfg.Small != nil && cfg.Small.LM.Config().Cell != main.Cell {
		return nil, fmt.Errorf("experiments: small model %s is %v, the main model %v", cfg.Small.Path, cfg.Small.LM.Config().Cell, main.Cell)
	}
	for _, r := range append(slices.Clone(cfg.Ratios), cfg.Ratio) {
		if !(r >= 0 && r < 1) {
			return nil, fmt.Errorf("experiments: insensitive ratio %v outside [0, 1)", r)
		}
	}
	for _, p := range cfg.Prune {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("experiments: sparsity %v outside [0, 1]", p)
		}
	}
	if cfg.Timing.Reps < 1 {
		return nil, fmt.Errorf("experiments: %d timing repetitions", cfg.Timing.Reps)
	}
	return &Runner{
		cfg:     cfg,
		sets:    map[setKey]*dmi.Set{},
		losses:  map[lossKey]float64{},
		benches: map[benchKey]*dmi.BenchResult{},
		pruned:  map[float64]*Model{},
	}, nil
}

// Result is one table.
type Result struct {
	ID    string       `json:"table"`
	Table report.Table `json:"markdown"`
	Plots []NamedPlot  `json:"-"`
	// Data holds the numbers: *NoiseResult, *RatioResult, *DimResult,
	// *PrecisionResult or *PruneResult.
	Data any `json:"data"`
}

// NamedPlot is a plot and the file name (without directory) it is meant
// for.
type NamedPlot struct {
	Name string
	Plot report.Plot
}

// Run builds table id (one of IDs). It returns an error wrapping ErrTable
// for any other id.
func (r *Runner) Run(id string) (*Result, error) {
	var res *Result
	var err error
	switch id {
	case "3.1":
		res, err = r.noise()
	case "3.2", "B.1", "B.2", "B.3":
		res, err = r.ratio(id)
	case "3.4":
		res, err = r.dimension()
	case "3.5":
		res, err = r.precision()
	case "B.4":
		res, err = r.pruning()
	default:
		return nil, fmt.Errorf("%w: %q (want one of %s)", ErrTable, id, strings.Join(IDs(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	res.ID = id
	if r.cfg.Command != nil {
		res.Table.Command = r.cfg.Command(id)
	}
	return res, nil
}

func (r *Runner) say(format string, a ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", a...)
	}
}

// set returns m's little modules at ε and width bits, fitted on first use.
func (r *Runner) set(m *Model, eps float64, bits quant.Bits) (*dmi.Set, error) {
	k := setKey{m.LM, eps, bits}
	if s, ok := r.sets[k]; ok {
		return s, nil
	}
	if l := m.Little; l != nil && l.Eps == eps && l.Bits == bits && l.Seed == r.cfg.Seed {
		r.sets[k] = l
		return l, nil
	}
	r.say("fitting %v little modules (ε=%g) to %s on %d tokens…", bits, eps, m.Path, len(r.cfg.Calib))
	m.LM.SetPool(r.cfg.Pool)
	s, err := dmi.Fit(m.LM, r.cfg.Calib, dmi.Options{Eps: eps, Bits: bits, Seed: r.cfg.Seed})
	if err != nil {
		return nil, fmt.Errorf("fitting %s: %w", m.Path, err)
	}
	r.sets[k] = s
	return s, nil
}

// loss returns the mean cross-entropy on the evaluation tokens of m with
// the little modules at (ε, bits), dual-module at ratio or dense when
// ratio < 0. The dense loss does not depend on the little modules and is
// cached once per model.
func (r *Runner) loss(m *Model, eps float64, bits quant.Bits, ratio float64) (float64, error) {
	k := lossKey{setKey{m.LM, eps, bits}, ratio}
	if ratio < 0 {
		k.set.eps, k.set.bits = 0, 0
	}
	if v, ok := r.losses[k]; ok {
		return v, nil
	}
	if ratio < 0 {
		// Any fitted set will do for the dense step; prefer one in hand.
		for sk := range r.sets {
			if sk.m == m.LM {
				eps, bits = sk.eps, sk.bits
				break
			}
		}
	}
	s, err := r.set(m, eps, bits)
	if err != nil {
		return 0, err
	}
	d, err := dmi.NewLM(m.LM, s, r.cfg.Pool)
	if err != nil {
		return 0, err
	}
	if ratio >= 0 {
		if err := d.SetRatio(ratio); err != nil {
			return 0, err
		}
		r.say("%s: %v ε=%g ratio %.2f on %d tokens…", m.Path, bits, eps, ratio, len(r.cfg.Eval))
	} else {
		r.say("%s: dense on %d tokens…", m.Path, len(r.cfg.Eval))
	}
	v, err := d.Loss(r.cfg.Eval, ratio < 0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", m.Path, err)
	}
	r.losses[k] = v
	return v, nil
}

// ppl is loss as a perplexity at the default ε and INT8.
func (r *Runner) ppl(m *Model, ratio float64) (float64, error) {
	v, err := r.loss(m, dmi.DefaultEps, quant.Int8, ratio)
	return lm.Perplexity(v), err
}

// bench times one layer at the shape, with every ratio the tables use.
func (r *Runner) bench(cell nn.Cell, s Shape, eps float64) (*dmi.BenchResult, error) {
	if s.Input == 0 {
		s.Input = s.Hidden
	}
	k := benchKey{cell, s.Hidden, s.Input, eps}
	if b, ok := r.benches[k]; ok {
		return b, nil
	}
	ratios := slices.Clone(r.cfg.Ratios)
	if !slices.Contains(ratios, r.cfg.Ratio) {
		ratios = append(ratios, r.cfg.Ratio)
		slices.Sort(ratios)
	}
	t := r.cfg.Timing
	r.say("timing %v %v (ε=%g), random weights, %d reps per point…", cell, s, eps, t.Reps)
	b, err := dmi.RunBench(dmi.BenchConfig{
		Cell: cell, Hidden: s.Hidden, Input: s.Input, Ratios: ratios, Eps: eps, Bits: quant.Int8,
		Threads: t.Threads, Reps: t.Reps, Seed: r.cfg.Seed, LLC: t.LLC, Progress: r.cfg.Progress,
	})
	if err != nil {
		return nil, fmt.Errorf("timing %v %v: %w", cell, s, err)
	}
	r.benches[k] = b
	return b, nil
}

func point(b *dmi.BenchResult, ratio float64) (dmi.BenchPoint, bool) {
	for _, p := range b.Points {
		if p.Ratio == ratio {
			return p, true
		}
	}
	return dmi.BenchPoint{}, false
}

// byCell returns the configured model with the given cell, or nil.
func (r *Runner) byCell(c nn.Cell) *Model {
	if r.cfg.Main.LM.Config().Cell == c {
		return &r.cfg.Main
	}
	if r.cfg.Other != nil && r.cfg.Other.LM.Config().Cell == c {
		return r.cfg.Other
	}
	return nil
}

func (r *Runner) qualityNote() string {
	name := r.cfg.EvalName
	if name == "" {
		name = "the evaluation stream"
	}
	return fmt.Sprintf("Quality: perplexity of %s (%d tokens) streamed at batch 1 with the state carried, dense or through dmi.LM with top-K selection; little modules fitted on %d training tokens (seed %d).",
		name, len(r.cfg.Eval), len(r.cfg.Calib), r.cfg.Seed)
}

func (r *Runner) timingNote(b *dmi.BenchResult) string {
	if r.cfg.Timing.Off {
		return "Timing: not run."
	}
	threads, impl := 0, ""
	if b != nil {
		threads, impl = b.Threads, b.Impl
	}
	return fmt.Sprintf("Timing: one layer at batch 1 with RANDOM weights at the shapes in the column headers (the thesis's by default; not the models above), little module INT8 fitted to random inputs, median of %d steps with cold weights (dmi.RunBench), %d threads, kernels %s; ms per layer step.",
		r.cfg.Timing.Reps, threads, impl)
}

func ms(v float64) string { return fmt.Sprintf("%.3f", v) }
func x(v float64) string  { return fmt.Sprintf("%.2fx", v) }
func pct(v float64) string {
	return fmt.Sprintf("%.0f%%", 100*v)
}

const notRun = "not run"
