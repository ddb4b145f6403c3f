package clsmetrics

import (
	"errors"
	"fmt"

	"github.com/elasticml/elastic/kernels"
)

// ErrNoPrediction reports a method that returned no class for an input.
var ErrNoPrediction = errors.New("clsmetrics: no prediction")

// A Budget is one setting of an approximate method in a sweep: what it
// predicts at that setting and the query timed for it.
type Budget struct {
	Method string // the row's Method, e.g. "hnsw"
	Name   string // the row's Budget, e.g. "ef=64"
	// Setup, if not nil, runs once before the budget is scored, e.g. to set
	// the method's knob; its error ends the sweep.
	Setup func() error
	// Predict returns the method's top classes for test input i by
	// descending logit, at least one; the first is scored for top-1
	// agreement and up to RefK for top-5 recall. Sweep calls it once per
	// input, in order, before the budget is timed, and copies the result,
	// so it may reuse its buffer.
	Predict func(i int) ([]int32, error)
	// Query is the call timed for input i, its output discarded; its
	// errors were already caught by Predict on the same inputs.
	Query func(i int)
}

// Sweep scores and times every budget in order: the top-1 agreement and
// top-5 recall of Predict on all task inputs, then Query over reps rounds
// interleaved with the full classification on p (nil for one thread), as
// Time does, so every method's speed-up is paired against the same
// baseline. It returns one row per budget, or the first error of a Setup
// or Predict (wrapped, naming the input), or one wrapping
// ErrNoPrediction for an empty prediction.
func (t *Task) Sweep(p *kernels.Pool, reps int, budgets []Budget) ([]SweepRow, error) {
	pred1 := make([]int32, t.N)
	pred5 := make([][]int32, t.N)
	rows := make([]SweepRow, 0, len(budgets))
	for _, b := range budgets {
		if b.Setup != nil {
			if err := b.Setup(); err != nil {
				return nil, err
			}
		}
		for i := range t.N {
			top, err := b.Predict(i)
			if err != nil {
				return nil, fmt.Errorf("%s: Sweep %s input %d: %w", b.Method, b.Name, i, err)
			}
			if len(top) == 0 {
				return nil, fmt.Errorf("%s: Sweep %s input %d: %w", b.Method, b.Name, i, ErrNoPrediction)
			}
			pred1[i] = top[0]
			pred5[i] = append(pred5[i][:0], top[:min(len(top), RefK)]...)
		}
		top1, top5 := t.Score(pred1, pred5)
		ms, speedup := t.Time(p, reps, b.Query)
		rows = append(rows, SweepRow{
			Method: b.Method, Budget: b.Name,
			MsPerQuery: ms, Top1: top1, Top5Recall: top5, Speedup: speedup,
		})
	}
	return rows, nil
}
