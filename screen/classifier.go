package screen

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/spec"
	"github.com/elasticml/elastic/speculate"
)

// Mode is how candidates are chosen from the screener's logits: the
// runtime's one selection enum (sel.Mode), of which screening takes TopM,
// Gap and Certified.
type Mode = sel.Mode

const (
	// TopM takes the M largest approximate logits (thesis §6.3.2).
	TopM = sel.ModeTopM
	// Gap takes every class whose approximate logit is within Gap of the
	// largest: the thesis's thresholding, made shift-invariant like the
	// softmax, so one threshold serves every input. Calibrate chooses it.
	Gap = sel.ModeGap
	// Certified starts from the top M and doubles M until the residual
	// Bound proves that no other class can beat the best exact candidate,
	// so the top-1 is always the full classifier's.
	Certified = sel.ModeCertified
)

// ParseMode parses a Mode's name: topm, gap or certified.
func ParseMode(s string) (Mode, error) {
	m, err := sel.ParseMode(s, TopM, Gap, Certified)
	if err != nil {
		return 0, fmt.Errorf("%w: selection: %w", ErrParam, err)
	}
	return m, nil
}

// Selection chooses candidates.
type Selection struct {
	Mode Mode
	// M is the number of candidates for TopM and the starting number for
	// Certified, in [1, l].
	M int
	// Gap is the threshold of mode Gap, ≥ 0.
	Gap float32
}

func (s Selection) check(l int) error {
	switch s.Mode {
	case TopM, Certified:
		if s.M < 1 || s.M > l {
			return fmt.Errorf("%w: m = %d outside [1, %d] classes", ErrParam, s.M, l)
		}
	case Gap:
		if !(s.Gap >= 0) || math.IsInf(float64(s.Gap), 1) {
			return fmt.Errorf("%w: gap %v", ErrParam, s.Gap)
		}
	default:
		return fmt.Errorf("%w: mode %v", ErrParam, s.Mode)
	}
	return nil
}

// Classifier is a classifier z = Wh + b (eq. 6.1) run by approximate
// screening: the screener's logits z̃ (eq. 6.3) choose candidates, only
// their rows of W are read, and the output is the mixed logit vector,
// exact on candidates and approximate elsewhere (Figure 6.5).
//
// It is a composition of the runtime (package speculate): the screener is
// the Speculator, the selection a sel selector (or, for an INT4 screener
// at top-m, a Fused speculator that selects inside its GEMV), the rows of
// W the Executor, and Forward one speculate.Step; the certified mode is a
// refinement loop around the same parts.
//
// A Classifier is not safe for concurrent use.
type Classifier struct {
	Lin *spec.Linear // W (l×d), b; aliased, not copied
	S   *Screener

	pool   *kernels.Pool
	sel    Selection
	run    *runner
	zt     []float32 // approximate logits
	work   []int32   // TopK scratch, length l
	cand   []int32   // candidates of the last call
	stamp  []uint32  // batch union and certified-scan membership
	epoch  uint32
	gbuf   []float32 // gathered rows for the batch GEMM
	gout   []float32
	rounds int
	sp     spread    // per-input bound quantities
	tmp    []float32 // length d
	step   *speculate.Step
	shift  float32 // added to the approximate tail logits (tail.go)
}

// NewClassifier returns the screened form of the classifier lin with
// screener s, running on pool (nil: the caller only), at top-m selection
// with m = min(l, 16). It returns an error wrapping ErrMismatch if s was
// fitted to another classifier (shape or fingerprint; the fingerprint
// hashes all of W once).
func NewClassifier(lin *spec.Linear, s *Screener, pool *kernels.Pool) (*Classifier, error) {
	if err := s.check(lin, true); err != nil {
		return nil, err
	}
	return newClassifier(lin, s, pool), nil
}

func newClassifier(lin *spec.Linear, s *Screener, pool *kernels.Pool) *Classifier {
	c := &Classifier{
		Lin: lin, S: s, pool: pool,
		sel: Selection{Mode: TopM, M: min(lin.N, 16)},
		run: newRunner(s), zt: make([]float32, lin.N), work: make([]int32, lin.N),
		stamp: make([]uint32, lin.N), tmp: make([]float32, lin.D),
	}
	if b := s.Bound; b != nil {
		c.sp = spread{coef: make([]float32, lin.D), block: make([]float32, len(b.Blocks)-1)}
	}
	c.step = speculate.NewStep(lin.N, screenSpec{c}, sel.TopM{M: c.sel.M}, exactRows{c})
	c.shift = c.defaultShift(c.sel)
	c.compose()
	return c
}

// compose sets the step's parts for the current selection: top-m with
// an INT4 screener selects inside the screener's GEMV (fusedTopM); top-m
// otherwise and the gap selection run the sel selector on the screener's
// logits.
func (c *Classifier) compose() {
	switch {
	case c.sel.Mode == Gap:
		c.step.Spec, c.step.Sel = screenSpec{c}, sel.Gap{Gap: c.sel.Gap}
	case c.run.fuses():
		c.step.Spec, c.step.Sel = fusedTopM{c}, nil
	default:
		c.step.Spec, c.step.Sel = screenSpec{c}, poolTopM{c}
	}
}

// screenSpec is the screener as the runtime's Speculator: z̃ = W̃Ph + b̃.
type screenSpec struct{ c *Classifier }

func (s screenSpec) Speculate(zt, h []float32) { s.c.run.screen(s.c.pool, zt, h) }

// fusedTopM is the INT4 screener with the top-m selection inside its
// GEMV (kernels.GemvInt4TopK): the same candidates as screenSpec then
// poolTopM, without a second pass over the l logits.
type fusedTopM struct{ c *Classifier }

func (f fusedTopM) Speculate(zt, h []float32) { f.c.run.screen(f.c.pool, zt, h) }

func (f fusedTopM) SpeculateSelect(zt, h []float32, dst []int32) []int32 {
	return f.c.run.screenTop(f.c.pool, zt, h, f.c.sel.M, dst[:cap(dst)])
}

// poolTopM is sel.TopM on the classifier's pool.
type poolTopM struct{ c *Classifier }

func (t poolTopM) Select(dst []int32, zt []float32) []int32 {
	s, _ := t.c.pool.TopK(dst[:cap(dst)], zt, t.c.sel.M, false)
	return s
}

// exactRows is the classifier's W as the runtime's Executor.
type exactRows struct{ c *Classifier }

func (e exactRows) Execute(z, h []float32, idx []int32) { exactGemv(e.c.pool, z, e.c.Lin, h, idx) }

// SetPool sets the pool the kernels run on (nil: the caller only).
func (c *Classifier) SetPool(p *kernels.Pool) { c.pool = p }

// Selection returns the current selection.
func (c *Classifier) Selection() Selection { return c.sel }

// SetSelection installs s. It returns an error wrapping ErrParam for m
// outside [1, l], a negative or NaN gap, or Certified without a Bound; on
// error the selection is unchanged.
func (c *Classifier) SetSelection(s Selection) error {
	if err := s.check(c.Lin.N); err != nil {
		return err
	}
	if s.Mode == Certified && c.S.Bound == nil {
		return fmt.Errorf("%w: certified selection needs a screener fitted with its bound", ErrParam)
	}
	c.sel = s
	c.shift = c.defaultShift(s)
	c.compose()
	return nil
}

// Rounds reports how many candidate sets the last certified Forward tried
// (1 when the first was proved; 0 in other modes).
func (c *Classifier) Rounds() int { return c.rounds }

func (c *Classifier) check(op string, z, h []float32) {
	if len(z) != c.Lin.N || len(h) != c.Lin.D {
		panic(fmt.Sprintf("screen: Classifier.%s: len(z)=%d len(h)=%d, want %d and %d", op, len(z), len(h), c.Lin.N, c.Lin.D))
	}
}

// Full sets z = Wh + b with the dense multithreaded GEMV: the baseline.
func (c *Classifier) Full(z, h []float32) {
	c.check("Full", z, h)
	fullGemv(c.pool, z, c.Lin, h)
}

// Screen sets zt to the approximate logits z̃ = W̃Ph + b̃ (eq. 6.3).
func (c *Classifier) Screen(zt, h []float32) {
	c.check("Screen", zt, h)
	c.run.screen(c.pool, zt, h)
}

// Select returns the candidates the current TopM or Gap selection picks
// from approximate logits zt, ascending, in a buffer reused by the next
// call; TopM runs on the pool when one is set. Certified selection needs the exact logits and is only
// available through Forward; here it acts as TopM.
func (c *Classifier) Select(zt []float32) []int32 {
	if len(zt) != c.Lin.N {
		panic(fmt.Sprintf("screen: Classifier.Select: len(zt)=%d, want %d", len(zt), c.Lin.N))
	}
	if c.sel.Mode == Gap {
		c.cand = sel.Gap{Gap: c.sel.Gap}.Select(c.work, zt)
	} else {
		c.cand = poolTopM{c}.Select(c.work, zt)
	}
	return c.cand
}

// ExactRows sets z[j] = W_j·h + b_j for the listed rows only; the other
// entries of z keep their values. The indices must be distinct.
func (c *Classifier) ExactRows(z, h []float32, idx []int32) {
	c.check("ExactRows", z, h)
	exactGemv(c.pool, z, c.Lin, h, idx)
}

// Forward sets z to the mixed logits of h — exact for the candidates,
// the screener's elsewhere, plus the tail shift (SetTailShift) — and returns the candidates in a buffer reused
// by the next call. It returns an error wrapping ErrNotFinite, with z
// undefined, if h or the logits hold a NaN or infinity.
func (c *Classifier) Forward(z, h []float32) ([]int32, error) {
	c.check("Forward", z, h)
	if err := checkFinite("hidden vector", h, len(h)); err != nil {
		return nil, err
	}
	c.rounds = 0
	if c.sel.Mode == Certified {
		return c.certified(z, h)
	}
	cand := c.step.Select(z, h)
	if c.shift != 0 {
		// The shift moves the tail; the exact rows overwrite the rest.
		for i := range z {
			z[i] += c.shift
		}
	}
	c.step.Execute(z, h)
	c.cand = cand
	return cand, finiteAt(z, cand)
}

// finiteAt checks z on the candidates: a NaN anywhere in h or W reaches
// every exact logit, and a NaN approximate logit is never a candidate
// (TopK ranks NaN last) unless all are.
func finiteAt(z []float32, idx []int32) error {
	for _, j := range idx {
		if v := z[j]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: logit %d is %v", ErrNotFinite, j, v)
		}
	}
	return nil
}

// certSlack is the relative margin the certificate leaves for float32
// rounding in the exact and approximate logits.
const certSlack = 1e-5

// certified runs the Certified selection: top-m candidates, exact logits,
// then a proof from the Bound that every non-candidate j has
// z_j ≤ z̃_j + e_j < best exact candidate; m doubles until the proof holds
// (at m = l everything is exact).
func (c *Classifier) certified(z, h []float32) ([]int32, error) {
	l := c.Lin.N
	c.run.screen(c.pool, c.zt, h)
	b := c.S.Bound
	b.measure(&c.sp, h, c.run.xerr(), c.tmp)
	for m := c.sel.M; ; m = min(2*m, l) {
		c.rounds++
		copy(z, c.zt)
		cand, thresh := kernels.TopK(c.work, c.zt, m, false)
		c.cand = cand
		exactGemv(c.pool, z, c.Lin, h, cand)
		if err := finiteAt(z, cand); err != nil {
			return nil, err
		}
		if m == l {
			return cand, nil
		}
		best := float32(math.Inf(-1))
		for _, j := range cand {
			best = max(best, z[j])
		}
		slack := certSlack * (1 + abs32(best) + abs32(thresh))
		// Every non-candidate has z̃_j ≤ thresh, so a uniform bound may
		// settle it without a scan.
		if thresh+b.uniform(&c.sp)+slack < best {
			return cand, nil
		}
		if c.scan(cand, best-slack) {
			return cand, nil
		}
	}
}

// scan reports whether every non-candidate j has z̃_j + e_j < limit.
func (c *Classifier) scan(cand []int32, limit float32) bool {
	c.epoch++
	if c.epoch == 0 {
		clear(c.stamp)
		c.epoch = 1
	}
	for _, j := range cand {
		c.stamp[j] = c.epoch
	}
	b := c.S.Bound
	for j, v := range c.zt {
		if v+b.row(j, &c.sp) >= limit && c.stamp[j] != c.epoch {
			return false
		}
	}
	return true
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// Flush evicts every weight a screened step reads — W (and its float16
// form), b, the screener's codes, scales, bias and projection — from all
// cache levels (kernels.Flush), for cold-cache measurements; it reports
// whether this build can flush (kernels.CanFlush).
func (c *Classifier) Flush() bool {
	ok := kernels.Flush(c.Lin.W) && kernels.Flush(c.Lin.W16) && kernels.Flush(c.Lin.B)
	return c.run.flush() && ok
}
