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
// skipped). For each it scores the top-1
// and top-5 of all task inputs against the full classifier, and times
// single-input queries on p (nil for one thread) over reps rounds
// interleaved with the full classification, as clsmetrics.Task.Time does.
// It panics if m and t disagree in shape.
func Sweep(t *clsmetrics.Task, m *Model, p *kernels.Pool, windows, cands []int, reps int) ([]clsmetrics.SweepRow, error) {
	if t.Rows != m.rows || t.Cols != m.cols {
		panic(fmt.Sprintf("svdsoftmax: Sweep model %d×%d for task %d×%d", m.rows, m.cols, t.Rows, t.Cols))
	}
	var rows []clsmetrics.SweepRow
	pred1 := make([]int32, t.N)
	pred5 := make([][]int32, t.N)
	for _, win := range windows {
		if win < 1 || win > m.cols {
			continue
		}
		s := m.Searcher(win, p)
		for _, n := range cands {
			if n < clsmetrics.RefK || n > m.rows {
				continue
			}
			for i := range t.N {
				top, err := s.TopK(t.Query(i), n, clsmetrics.RefK)
				if err != nil {
					return nil, fmt.Errorf("svdsoftmax: Sweep input %d: %w", i, err)
				}
				pred1[i] = top[0]
				pred5[i] = append(pred5[i][:0], top...)
			}
			top1, top5 := t.Score(pred1, pred5)
			ms, speedup := t.Time(p, reps, func(i int) { _, _ = s.TopK(t.Query(i), n, clsmetrics.RefK) })
			rows = append(rows, clsmetrics.SweepRow{
				Method: MethodName, Budget: fmt.Sprintf("window=%d n=%d", win, n),
				MsPerQuery: ms, Top1: top1, Top5Recall: top5, Speedup: speedup,
			})
		}
	}
	return rows, nil
}
