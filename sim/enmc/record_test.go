package enmc

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

func TestRecordSynth(t *testing.T) {
	o := RecordOptions{Classes: 4096, Dim: 64, K: 16, M: 32, Batch: 16, Calib: 1024, Seed: 5}
	task, err := RecordSynth(o)
	if err != nil {
		t.Fatal(err)
	}
	// The samples' own classes (the synthetic model's labels, same seeds
	// as RecordSynth) should mostly be among the screener's candidates:
	// the trace carries real screening decisions, not uniform draws.
	cfg := synth.Default(o.Classes, o.Dim)
	cfg.Seed = o.Seed
	m, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, labels := m.Sample(o.Batch, o.Seed+2)
	hit := 0
	for b, c := range task.Candidates {
		if len(c) != o.M {
			t.Errorf("item %d: %d candidates, want %d", b, len(c), o.M)
		}
		if lowerBound(c, labels[b]) < len(c) && c[lowerBound(c, labels[b])] == labels[b] {
			hit++
		}
	}
	// Uniform candidates would hold the label with probability 32/4096.
	if hit < o.Batch/2 {
		t.Errorf("labels among candidates for %d of %d items", hit, o.Batch)
	}
	path := filepath.Join(t.TempDir(), "t.trace")
	if err := RecordSynthFile(path, o); err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(Options{Trace: path})
	if err != nil {
		t.Fatal(err)
	}
	if r.Candidates != o.M*o.Batch || r.Classes != o.Classes {
		t.Errorf("replayed %d candidates of %d classes", r.Candidates, r.Classes)
	}
	for _, bad := range []RecordOptions{{Classes: 10, Dim: 8, M: 0, Batch: 1, Calib: 1}, {Classes: 10, Dim: 8, M: 1, Batch: 65, Calib: 1}, {Classes: 1 << 20, Dim: 512, M: 1, Batch: 1, Calib: 1}} {
		if _, err := RecordSynth(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := RecordSynthFile("", o); err == nil {
		t.Error("empty path accepted")
	}
}

func TestRecordChecksItsInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, 50*8)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	lin := spec.NewLinear(w, nil, 50, 8)
	calib := make([]float32, 40*8)
	for i := range calib {
		calib[i] = float32(rng.NormFloat64())
	}
	o := RecordOptions{Classes: 50, Dim: 8, M: 4, Batch: 2}
	task, err := Record(lin, calib, calib[:16], o, "test")
	if err != nil {
		t.Fatal(err)
	}
	if task.Batch != 2 || len(task.Candidates[0]) != 4 || task.K != 2 || !strings.Contains(task.Source, "40 vectors") {
		t.Errorf("recorded %+v", task)
	}
	for name, c := range map[string]struct {
		o           RecordOptions
		calib, test []float32
	}{
		"shape":       {RecordOptions{Classes: 51, Dim: 8, M: 4, Batch: 1}, calib, calib[:8]},
		"ragged":      {o, calib[:13], calib[:16]},
		"short batch": {o, calib, calib[:8]},
		"m":           {RecordOptions{Classes: 50, Dim: 8, M: 51, Batch: 1}, calib, calib[:8]},
	} {
		if _, err := Record(lin, c.calib, c.test, c.o, name); err == nil {
			t.Errorf("%s: recorded", name)
		}
	}
}
