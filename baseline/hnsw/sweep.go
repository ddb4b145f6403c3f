package hnsw

import (
	"fmt"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// MethodName is the Method of the sweep rows this package reports.
const MethodName = "hnsw"

// Sweep evaluates x, which must index the task's classifier, at every
// efSearch in efs: it scores the top-1 and top-5 of all task inputs against
// the full classifier and times single-input searches over reps rounds
// interleaved with the full classification on p (nil for one thread), as
// clsmetrics.Task.Time does. The searches themselves run on one thread. It
// panics if x and t disagree in shape.
func Sweep(t *clsmetrics.Task, x *Index, p *kernels.Pool, efs []int, reps int) ([]clsmetrics.SweepRow, error) {
	if t.Rows != x.rows || t.Cols != x.cols {
		panic(fmt.Sprintf("hnsw: Sweep index %d×%d for task %d×%d", x.rows, x.cols, t.Rows, t.Cols))
	}
	s := x.Searcher()
	pred1 := make([]int32, t.N)
	pred5 := make([][]int32, t.N)
	var rows []clsmetrics.SweepRow
	for _, ef := range efs {
		if ef < 1 {
			continue
		}
		for i := range t.N {
			ids, _, err := s.Search(t.Query(i), clsmetrics.RefK, ef)
			if err != nil {
				return nil, fmt.Errorf("hnsw: Sweep input %d: %w", i, err)
			}
			pred1[i] = ids[0]
			pred5[i] = append(pred5[i][:0], ids...)
		}
		top1, top5 := t.Score(pred1, pred5)
		ms, speedup := t.Time(p, reps, func(i int) { _, _, _ = s.Search(t.Query(i), clsmetrics.RefK, ef) })
		rows = append(rows, clsmetrics.SweepRow{
			Method: MethodName, Budget: fmt.Sprintf("ef=%d", ef),
			MsPerQuery: ms, Top1: top1, Top5Recall: top5, Speedup: speedup,
		})
	}
	return rows, nil
}
