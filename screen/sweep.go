package screen

import (
	"fmt"
	"slices"
	"time"

	"github.com/elasticml/elastic/clsmetrics"
)

// MethodName is the Method of the sweep rows this package reports.
const MethodName = "screen"

// SweepRow is one top-m budget of a screening sweep: the row every method
// reports, plus what only screening has — the coverage of the candidates
// and the time of each phase.
type SweepRow struct {
	clsmetrics.SweepRow
	M    int `json:"m"`
	K    int `json:"k"`
	Bits int `json:"bits"`
	// Coverage is the fraction of inputs whose full top-1 is a candidate.
	Coverage float64 `json:"coverage"`
	// ScreenMs, SelectMs and ExactMs are the median times of the phases of
	// one query: the projection and low-precision GEMV, the top-m
	// selection, and the row-gather GEMV over the candidates with the top-5
	// among them. They sum to about MsPerQuery. An INT4 screener selects
	// inside its GEMV, as Forward does, and its SelectMs is 0.
	ScreenMs float64 `json:"screen_ms"`
	SelectMs float64 `json:"select_ms"`
	ExactMs  float64 `json:"exact_ms"`
}

// Sweep evaluates c, whose classifier must be the task's, at top-m
// selection for every m in budgets with clsmetrics.Task.Sweep. For each it
// scores the top-1 and top-5 of all task inputs against the full
// classifier, and times single-input queries on c's pool over reps rounds
// interleaved with the full classification on the same pool, so its
// speed-ups are paired against the same baseline as the other methods'.
// A timed query screens, selects (inside the GEMV where Forward would),
// computes the candidates' exact logits and picks the top RefK among
// them, the output the full baseline produces. c's selection is restored
// on return.
//
// It returns an error wrapping ErrParam for an m outside [1, l] and
// ErrNotFinite for a NaN logit. It panics if c and t disagree in shape.
func Sweep(t *clsmetrics.Task, c *Classifier, budgets []int, reps int) ([]SweepRow, error) {
	if t.Rows != c.Lin.N || t.Cols != c.Lin.D {
		panic(fmt.Sprintf("screen: Sweep classifier %d×%d for task %d×%d", c.Lin.N, c.Lin.D, t.Rows, t.Cols))
	}
	defer func(s Selection) { c.sel = s }(c.sel)
	z := make([]float32, t.Rows)
	var top []int32
	// What only screening measures, per budget: candidates covering the
	// full top-1 and the phase times of every timed call (the first is
	// Time's warm-up).
	covered := make([]int, len(budgets))
	phase := make([][3][]float64, len(budgets))
	bs := make([]clsmetrics.Budget, len(budgets))
	fused := c.run.fuses()
	for j, m := range budgets {
		for k := range phase[j] {
			phase[j][k] = make([]float64, 0, max(reps, 1)+1)
		}
		bs[j] = clsmetrics.Budget{
			Method: MethodName, Name: fmt.Sprintf("m=%d", m),
			Setup: func() error { return c.SetSelection(Selection{Mode: TopM, M: m}) },
			Predict: func(i int) ([]int32, error) {
				cand, err := c.Forward(z, t.Query(i))
				if err != nil {
					return nil, err
				}
				if slices.Contains(cand, t.Top1[i]) {
					covered[j]++
				}
				top = Top(top, z, cand, clsmetrics.RefK)
				return top, nil
			},
			Query: func(i int) {
				h := t.Query(i)
				t0 := time.Now()
				var cand []int32
				if fused {
					cand = c.run.screenTop(c.pool, z, h, m, c.work)
				} else {
					c.run.screen(c.pool, z, h)
				}
				t1 := time.Now()
				if !fused {
					cand = c.Select(z)
				}
				t2 := time.Now()
				exactGemv(c.pool, z, c.Lin, h, cand)
				top = Top(top, z, cand, clsmetrics.RefK)
				t3 := time.Now()
				phase[j][0] = append(phase[j][0], ms(t1.Sub(t0)))
				phase[j][1] = append(phase[j][1], ms(t2.Sub(t1)))
				phase[j][2] = append(phase[j][2], ms(t3.Sub(t2)))
			},
		}
	}
	base, err := t.Sweep(c.pool, reps, bs)
	if err != nil {
		return nil, err
	}
	rows := make([]SweepRow, len(base))
	for j, r := range base {
		rows[j] = SweepRow{
			SweepRow: r, M: budgets[j], K: c.S.K, Bits: int(c.S.Bits),
			Coverage: float64(covered[j]) / float64(t.N),
			ScreenMs: median(phase[j][0][1:]), SelectMs: median(phase[j][1][1:]), ExactMs: median(phase[j][2][1:]),
		}
	}
	return rows, nil
}
