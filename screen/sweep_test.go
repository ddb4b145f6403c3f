package screen

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

func TestSweep(t *testing.T) {
	const l, d = 2000, 64
	f := newFixture(t, l, d, Options{NoBound: true})
	p := kernels.NewPool(2)
	defer p.Close()
	f.c.SetPool(p)
	test, _ := f.model.Sample(100, 11)
	task, err := clsmetrics.NewTask(p, f.lin.W, f.lin.B, l, d, test)
	if err != nil {
		t.Fatal(err)
	}
	budgets := []int{1, 4, 32, l}
	rows, err := Sweep(task, f.c, budgets, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(budgets) {
		t.Fatalf("%d rows for %d budgets", len(rows), len(budgets))
	}
	if sel := f.c.Selection(); sel.Mode != TopM || sel.M != 16 {
		t.Errorf("selection after Sweep %+v, want the default top-16 restored", sel)
	}
	for i, r := range rows {
		m := budgets[i]
		if r.Method != MethodName || r.Budget != fmt.Sprintf("m=%d", m) || r.M != m || r.K != f.s.K || r.Bits != int(f.s.Bits) {
			t.Errorf("row %d: %+v", i, r)
		}
		for _, v := range []float64{r.MsPerQuery, r.Speedup, r.ScreenMs, r.SelectMs, r.ExactMs} {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Errorf("m=%d: a time or speed-up is %v: %+v", m, v, r)
			}
		}
		if !(r.MsPerQuery > 0 && r.Speedup > 0) {
			t.Errorf("m=%d: %v ms, speed-up %v", m, r.MsPerQuery, r.Speedup)
		}
		// The prediction is the best candidate by exact logit, so it is
		// the full top-1 exactly when that is a candidate.
		if r.Top1 != r.Coverage {
			t.Errorf("m=%d: top-1 agreement %v != coverage %v", m, r.Top1, r.Coverage)
		}
		if i > 0 && r.Coverage < rows[i-1].Coverage {
			t.Errorf("coverage fell from %v at m=%d to %v at m=%d", rows[i-1].Coverage, budgets[i-1], r.Coverage, m)
		}
		// The same numbers as Evaluate, which scores against its own
		// full GEMV rather than the task's GEMM.
		if err := f.c.SetSelection(Selection{Mode: TopM, M: m}); err != nil {
			t.Fatal(err)
		}
		q, err := f.c.Evaluate(test, nil)
		if err != nil {
			t.Fatal(err)
		}
		if q.Top1 != r.Top1 || math.Abs(q.Top5-r.Top5Recall) > 1e-12 || q.Coverage != r.Coverage {
			t.Errorf("m=%d: Sweep top-1 %v top-5 %v coverage %v; Evaluate %v %v %v", m, r.Top1, r.Top5Recall, r.Coverage, q.Top1, q.Top5, q.Coverage)
		}
	}
	if last := rows[len(rows)-1]; last.Top1 != 1 || last.Top5Recall != 1 || last.Coverage != 1 {
		t.Errorf("m = l: top-1 %v, top-5 %v, coverage %v; want all 1", last.Top1, last.Top5Recall, last.Coverage)
	}
	if rows[2].Top1 < 0.9 {
		t.Errorf("m=32 of %d: top-1 agreement %v, want ≥ 0.9", l, rows[2].Top1)
	}

	for _, m := range []int{0, l + 1} {
		if _, err := Sweep(task, f.c, []int{m}, 1); !errors.Is(err, ErrParam) {
			t.Errorf("m=%d: err %v, want ErrParam", m, err)
		}
	}
	other, err := clsmetrics.NewTask(nil, f.lin.W[:(l-1)*d], f.lin.B[:l-1], l-1, d, test)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Sweep on a task of another shape did not panic")
		}
	}()
	_, _ = Sweep(other, f.c, []int{8}, 1)
}

func BenchmarkSweep(b *testing.B) {
	f := newFixture(b, 20000, 128, Options{NoBound: true})
	test, _ := f.model.Sample(50, 11)
	task, err := clsmetrics.NewTask(nil, f.lin.W, f.lin.B, 20000, 128, test)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Sweep(task, f.c, []int{64}, 5); err != nil {
			b.Fatal(err)
		}
	}
}

// Sweep the candidate count of a screener over 4000 classes; every row is
// timed against the same full classification.
func ExampleSweep() {
	m, _ := synth.New(synth.Default(4000, 64))
	lin := spec.NewLinear(m.W, m.B, 4000, 64)
	calib, _ := m.Sample(1024, 1)
	s, err := Fit(lin, calib, Options{NoBound: true}, nil)
	if err != nil {
		panic(err)
	}
	c, err := NewClassifier(lin, s, nil)
	if err != nil {
		panic(err)
	}
	test, _ := m.Sample(200, 2)
	task, err := clsmetrics.NewTask(nil, m.W, m.B, 4000, 64, test)
	if err != nil {
		panic(err)
	}
	rows, err := Sweep(task, c, []int{32, 4000}, 5)
	if err != nil {
		panic(err)
	}
	for _, r := range rows {
		fmt.Printf("%s %s: top-1 agreement ≥ 0.9: %v, timed: %v\n", r.Method, r.Budget, r.Top1 >= 0.9, r.MsPerQuery > 0)
	}
	fmt.Printf("all %d classes exact: top-1 %.3f, top-5 recall %.3f\n", rows[1].M, rows[1].Top1, rows[1].Top5Recall)
	// Output:
	// screen m=32: top-1 agreement ≥ 0.9: true, timed: true
	// screen m=4000: top-1 agreement ≥ 0.9: true, timed: true
	// all 4000 classes exact: top-1 1.000, top-5 recall 1.000
}
