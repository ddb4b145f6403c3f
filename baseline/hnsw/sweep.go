package hnsw

import (
	"fmt"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// MethodName is the Method of the sweep rows this package reports.
const MethodName = "hnsw"

// Sweep evaluates x, which must index the task's classifier, at every
// efSearch in efs (values below 1 are skipped) with clsmetrics.Task.Sweep:
// it scores the top-1 and top-5 of all task inputs against the full
// classifier and times single-input searches over reps rounds interleaved
// with the full classification on p (nil for one thread). The searches
// themselves run on one thread. It panics if x and t disagree in shape.
func Sweep(t *clsmetrics.Task, x *Index, p *kernels.Pool, efs []int, reps int) ([]clsmetrics.SweepRow, error) {
	if t.Rows != x.rows || t.Cols != x.cols {
		panic(fmt.Sprintf("hnsw: Sweep index %d×%d for task %d×%d", x.rows, x.cols, t.Rows, t.Cols))
	}
	s := x.Searcher()
	var budgets []clsmetrics.Budget
	for _, ef := range efs {
		if ef < 1 {
			continue
		}
		budgets = append(budgets, clsmetrics.Budget{
			Method: MethodName, Name: fmt.Sprintf("ef=%d", ef),
			Predict: func(i int) ([]int32, error) {
				ids, _, err := s.Search(t.Query(i), clsmetrics.RefK, ef)
				return ids, err
			},
			Query: func(i int) { _, _, _ = s.Search(t.Query(i), clsmetrics.RefK, ef) },
		})
	}
	return t.Sweep(p, reps, budgets)
}
