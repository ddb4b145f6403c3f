package dsg

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// RunBench reports a point per sparsity with every weight layer, the
// stash as measured (smaller at 80% than at 0, below float32: the
// dropped channels are zeros), and a plot of its own JSON; bad options are
// ErrConfig. No timing is asserted.
func TestRunBench(t *testing.T) {
	for _, a := range []Arch{MLP, LeNet} {
		r, err := RunBench(BenchConfig{Arch: a, Batch: 4, Rounds: 2, Gammas: []float64{0, 0.8}, Synthetic: true, Seed: 3,
			Threads: 2, Peak: time.Millisecond, Sparse: Sparse{Granularity: GranChannel, Select: SelectBatch, ZVC: true}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[Arch][]string{MLP: {"fc1", "fc2", "fc3"}, LeNet: {"conv1", "conv2", "fc1", "fc2", "fc3"}}[a]
		if len(r.Points) != 2 {
			t.Fatalf("%s: %d points", a, len(r.Points))
		}
		for _, p := range r.Points {
			if len(p.Layers) != len(want) {
				t.Fatalf("%s γ=%v: layers %+v, want %v", a, p.Sparsity, p.Layers, want)
			}
			for i, l := range p.Layers {
				if l.Name != want[i] || !(l.DenseMs > 0 && l.DSGMs > 0 && l.Speedup > 0) || l.GFLOP <= 0 {
					t.Errorf("%s γ=%v layer %d: %+v, want %s with positive times", a, p.Sparsity, i, l, want[i])
				}
			}
			if p.StashBytesDense == 0 || p.StepSpeedup <= 0 {
				t.Errorf("%s γ=%v: %+v", a, p.Sparsity, p)
			}
		}
		if p0, p8 := r.Points[0], r.Points[1]; p8.StashBytesDSG >= p0.StashBytesDSG || p8.StashCompression <= 1 {
			t.Errorf("%s: stash %d bytes at γ=0, %d (%.2f×) at 0.8; want smaller and compressed", a, p0.StashBytesDSG, p8.StashBytesDSG, p8.StashCompression)
		}
		if r.Impl == "" || r.PeakGFLOPS <= 0 || r.DenseGFLOPS <= 0 {
			t.Errorf("%s: impl %q, peak %v, dense %v", a, r.Impl, r.PeakGFLOPS, r.DenseGFLOPS)
		}
	}
	for _, c := range []BenchConfig{
		{Arch: LeNet, Batch: 1, Synthetic: true},
		{Arch: MLP, Batch: 2, Synthetic: true, Gammas: []float64{1}},
		{Arch: MLP, Batch: 2, Synthetic: true, Sparse: Sparse{Granularity: GranElement, Select: SelectBatch}},
		{Arch: MLP, Batch: 2, Synthetic: true, Sparse: Sparse{Granularity: GranChannel, SearchFraction: 2}},
	} {
		if _, err := RunBench(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
	if err := PlotBenchFiles(filepath.Join(t.TempDir(), "a.png"), filepath.Join(t.TempDir(), "b.png"), filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("plotting a missing file: no error")
	}
}
