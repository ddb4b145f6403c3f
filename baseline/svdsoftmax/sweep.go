package svdsoftmax

import (
	"fmt"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// MethodName is the Method of the sweep rows this package reports.
const MethodName = "svd-softmax"

// Sweep evaluates m, which must factor the task's classifier, at every
// combination of preview window and candidate count n (combinations with
// window outside [1, Cols()] or n outside [clsmetrics.RefK, Rows()] are
// skipped) with clsmetrics.Task.Sweep. For each it scores the top-1 and
// top-5 of all task inputs against the full classifier, and times
// single-input queries on p (nil for one thread) over reps rounds
// interleaved with the full classification. It panics if m and t disagree
// in shape.
func Sweep(t *clsmetrics.Task, m *Model, p *kernels.Pool, windows, cands []int, reps int) ([]clsmetrics.SweepRow, error) {
	if t.Rows != m.rows || t.Cols != m.cols {
		panic(fmt.Sprintf("svdsoftmax: Sweep model %d×%d for task %d×%d", m.rows, m.cols, t.Rows, t.Cols))
	}
	var budgets []clsmetrics.Budget
	for _, win := range windows {
		if win < 1 || win > m.cols {
			continue
		}
		var s *Searcher
		for _, n := range cands {
			if n < clsmetrics.RefK || n > m.rows {
				continue
			}
			budgets = append(budgets, clsmetrics.Budget{
				Method: MethodName, Name: fmt.Sprintf("window=%d n=%d", win, n),
				// One searcher per window, made when its first budget is scored.
				Setup: func() error {
					if s == nil {
						s = m.Searcher(win, p)
					}
					return nil
				},
				Predict: func(i int) ([]int32, error) { return s.TopK(t.Query(i), n, clsmetrics.RefK) },
				Query:   func(i int) { _, _ = s.TopK(t.Query(i), n, clsmetrics.RefK) },
			})
		}
	}
	return t.Sweep(p, reps, budgets)
}
