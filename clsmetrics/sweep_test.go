package clsmetrics

import (
	"errors"
	"math"
	"testing"
)

// Task.Sweep scores each budget's predictions against the full classifier
// and runs Setup before Predict, Predict on every input once, in order.
func TestTaskSweep(t *testing.T) {
	const rows, cols, n = 50, 8, 6
	task, err := NewTask(nil, normals(rows*cols, 3), nil, rows, cols, normals(n*cols, 4))
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	exact := Budget{Method: "m", Name: "exact",
		Setup: func() error { log = append(log, "setup"); return nil },
		Predict: func(i int) ([]int32, error) {
			log = append(log, "predict")
			return append([]int32(nil), task.Top5[i]...), nil
		},
		Query: func(int) {},
	}
	// Top-1 right on even inputs only; the full top-5 reversed has recall 1.
	half := Budget{Method: "m", Name: "half",
		Predict: func(i int) ([]int32, error) {
			r := make([]int32, RefK)
			for k := range r {
				r[k] = task.Top5[i][RefK-1-k]
			}
			if i%2 == 0 {
				r[0], r[RefK-1] = r[RefK-1], r[0]
			}
			return r, nil
		},
		Query: func(int) {},
	}
	// One class, never the top-1 and in the top-5 of none: top-5 recall 0.
	wrong := Budget{Method: "m", Name: "wrong",
		Predict: func(i int) ([]int32, error) {
			for c := range int32(rows) {
				if !contains(task.Top5[i], c) {
					return []int32{c}, nil
				}
			}
			return nil, errors.New("unreachable")
		},
		Query: func(int) {},
	}
	got, err := task.Sweep(nil, 2, []Budget{exact, half, wrong})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != n+1 || log[0] != "setup" {
		t.Errorf("calls %q, want setup then %d predicts", log, n)
	}
	want := []struct {
		name       string
		top1, top5 float64
	}{{"exact", 1, 1}, {"half", 0.5, 1}, {"wrong", 0, 0}}
	for k, w := range want {
		r := got[k]
		if r.Method != "m" || r.Budget != w.name || math.Abs(r.Top1-w.top1) > 1e-12 || math.Abs(r.Top5Recall-w.top5) > 1e-12 ||
			!(r.MsPerQuery >= 0) || !(r.Speedup > 0) {
			t.Errorf("row %d %+v, want %s top-1 %v top-5 %v", k, r, w.name, w.top1, w.top5)
		}
	}

	boom := errors.New("boom")
	for _, tc := range []struct {
		b    Budget
		want error
	}{
		{Budget{Setup: func() error { return boom }}, boom},
		{Budget{Predict: func(int) ([]int32, error) { return nil, boom }}, boom},
		{Budget{Predict: func(int) ([]int32, error) { return nil, nil }}, ErrNoPrediction},
	} {
		if _, err := task.Sweep(nil, 1, []Budget{tc.b}); !errors.Is(err, tc.want) {
			t.Errorf("err %v, want %v", err, tc.want)
		}
	}
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
