package train_test

import (
	"context"
	"fmt"
	"math"

	"github.com/elasticml/elastic/train"
)

// quadratic fits w to minimise (w − 3)² by gradient descent, one step per
// train step; its "checkpoints" are printed.
type quadratic struct{ w float64 }

func (q *quadratic) BeginEpoch(int) error           { return nil }
func (q *quadratic) Loss(int, int) (float64, error) { return (q.w - 3) * (q.w - 3), nil }
func (q *quadratic) Update(int, int) error          { q.w -= 0.1 * 2 * (q.w - 3); return nil }
func (q *quadratic) Validate(int) (float64, error)  { return math.Abs(q.w - 3), nil }
func (q *quadratic) Report(s train.Status) error {
	if s.EpochEnd {
		fmt.Printf("epoch %d: mean loss %.3f, distance %.3f, improved %v\n", s.Epoch, s.Loss, s.Score, s.Improved)
	}
	return nil
}
func (q *quadratic) Save(c train.Checkpoint) error {
	if c.Kind == train.EpochEnd {
		fmt.Printf("checkpoint w=%.3f, resume at epoch %d step %d\n", q.w, c.Pos.Epoch, c.Pos.Step)
	}
	return nil
}

func ExampleRun() {
	q := &quadratic{}
	res, err := train.Run(context.Background(), train.Config{
		Epochs: 2, Steps: 5, Goal: train.Lower, Best: math.Inf(1), Name: "quadratic", StepName: "step",
	}, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d steps, best distance %.3f, next %+v\n", res.Done, res.Best, res.Pos)
	// Output:
	// epoch 1: mean loss 4.463, distance 0.983, improved true
	// checkpoint w=2.017, resume at epoch 2 step 0
	// epoch 2: mean loss 0.479, distance 0.322, improved true
	// checkpoint w=2.678, resume at epoch 3 step 0
	// 10 steps, best distance 0.322, next {Epoch:3 Step:0}
}
