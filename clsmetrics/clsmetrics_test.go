package clsmetrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

func normals(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func TestTopKIndices(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		x    []float32
		k    int
		want []int32
	}{
		{[]float32{1, 5, 3, 5, -2}, 3, []int32{1, 3, 2}}, // tie: smaller index first
		{[]float32{1, nan, 3}, 3, []int32{2, 0, 1}},      // NaN last
		{[]float32{2, 1}, 5, []int32{0, 1}},              // k clamped
		{[]float32{2, 1}, 0, []int32{}},
		{nil, 1, []int32{}},
	} {
		got := TopKIndices(tc.x, tc.k, nil)
		if !slices.Equal(got, tc.want) {
			t.Errorf("TopKIndices(%v, %d) = %v, want %v", tc.x, tc.k, got, tc.want)
		}
	}
	// Against a full sort on a long input, with scratch reuse.
	x := normals(100_000, 1)
	work := make([]int32, len(x))
	got := slices.Clone(TopKIndices(x, 50, work))
	all := make([]int32, len(x))
	for i := range all {
		all[i] = int32(i)
	}
	SortByScore(all, x)
	if !slices.Equal(got, all[:50]) {
		t.Errorf("TopKIndices disagrees with a full sort")
	}
}

func TestAgreementAndRecall(t *testing.T) {
	ref := []int32{1, 2, 3, 4}
	if got := Agreement([]int32{1, 0, 3, 0}, ref); got != 0.5 {
		t.Errorf("Agreement = %v, want 0.5", got)
	}
	if got := RecallAtK([][]int32{{5, 1}, {2}, {}, {7, 8, 9}}, ref); got != 0.5 {
		t.Errorf("RecallAtK = %v, want 0.5", got)
	}
	pred := [][]int32{{1, 2, 3, 4, 5}, {1, 2, 9, 9, 9}, {}}
	want := [][]int32{{5, 4, 3, 2, 1}, {2, 1, 3, 4, 5}, {}}
	if got := TopKRecall(pred, want); math.Abs(got-(1+0.4+1)/3) > 1e-15 {
		t.Errorf("TopKRecall = %v, want %v", got, (1+0.4+1)/3)
	}
	if !math.IsNaN(Agreement(nil, nil)) || !math.IsNaN(RecallAtK(nil, nil)) || !math.IsNaN(TopKRecall(nil, nil)) {
		t.Error("empty input should give NaN")
	}
	defer func() {
		if recover() == nil {
			t.Error("Agreement with different lengths did not panic")
		}
	}()
	Agreement([]int32{1}, ref)
}

func TestNLLAndPerplexity(t *testing.T) {
	// Uniform logits over n classes: NLL = log n, perplexity = n, however
	// large the logits (the maximum is subtracted).
	for _, v := range []float32{0, 1000, -1000} {
		z := []float32{v, v, v, v}
		nll, err := NLL(z, 2)
		if err != nil || math.Abs(nll-math.Log(4)) > 1e-12 {
			t.Errorf("NLL of uniform %v = %v, %v; want log 4", v, nll, err)
		}
		if p := Perplexity([]float64{nll, nll}); math.Abs(p-4) > 1e-9 {
			t.Errorf("Perplexity = %v, want 4", p)
		}
	}
	z := []float32{1, 2, 3}
	want := -(3 - math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)))
	if nll, _ := NLL(z, 2); math.Abs(nll-want) > 1e-12 {
		t.Errorf("NLL = %v, want %v", nll, want)
	}
	if _, err := NLL([]float32{1, float32(math.NaN())}, 0); !errors.Is(err, ErrNaN) {
		t.Errorf("NLL with NaN: err = %v, want ErrNaN", err)
	}
	if !math.IsNaN(Perplexity(nil)) {
		t.Error("Perplexity(nil) should be NaN")
	}
}

func TestNewTaskMatchesBruteForce(t *testing.T) {
	const rows, cols, n = 3000, 24, 30
	w, b, h := normals(rows*cols, 1), normals(rows, 2), normals(n*cols, 3)
	p := kernels.NewPool(2)
	defer p.Close()
	task, err := NewTask(p, w, b, rows, cols, h)
	if err != nil {
		t.Fatal(err)
	}
	for q := range n {
		z := make([]float64, rows)
		for r := range rows {
			s := float64(b[r])
			for j := range cols {
				s += float64(w[r*cols+j]) * float64(h[q*cols+j])
			}
			z[r] = s
		}
		ord := make([]int, rows)
		for i := range ord {
			ord[i] = i
		}
		slices.SortFunc(ord, func(a, b int) int {
			switch {
			case z[a] > z[b]:
				return -1
			case z[a] < z[b]:
				return 1
			}
			return a - b
		})
		// Allow a swap only between float64 near-ties.
		for k, c := range task.Top5[q] {
			if int(c) != ord[k] && math.Abs(z[c]-z[ord[k]]) > 1e-4 {
				t.Fatalf("input %d: top-5 %v, want %v", q, task.Top5[q], ord[:RefK])
			}
		}
		if task.Top1[q] != task.Top5[q][0] {
			t.Fatalf("input %d: Top1 %d != Top5[0] %d", q, task.Top1[q], task.Top5[q][0])
		}
	}
	if top1, top5 := task.Score(task.Top1, task.Top5); top1 != 1 || top5 != 1 {
		t.Errorf("the reference scores %v, %v against itself", top1, top5)
	}
	ms, speedup := task.Time(p, 3, task.FullQuery(nil))
	if ms <= 0 || speedup <= 0 {
		t.Errorf("Time = %v ms, speed-up %v", ms, speedup)
	}
	bad := slices.Clone(h)
	bad[7] = float32(math.Inf(1))
	if _, err := NewTask(nil, w, b, rows, cols, bad); !errors.Is(err, ErrNaN) {
		t.Errorf("Inf input: err = %v, want ErrNaN", err)
	}
}
