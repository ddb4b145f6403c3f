package enmc

import (
	"fmt"
	"os"
	"slices"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

// RecordOptions configure RecordSynth.
type RecordOptions struct {
	Classes, Dim int
	K            int // screener dimension; 0 means Dim/4
	M            int // candidates per input (top-m of the screener)
	Batch        int
	Calib        int // calibration vectors the screener is fitted on
	Seed         uint64
}

// RecordSynth records a trace from the real screening pipeline: it makes
// a synthetic classifier (package screen/synth defaults, so the data are
// synthetic), fits an INT4 screener to it with screen.Fit on Calib
// sampled hidden vectors, and takes the top-M candidates of Batch further
// samples with screen.Classifier.Forward. It runs on one thread.
func RecordSynth(o RecordOptions) (*Task, error) {
	k := o.K
	if k == 0 {
		k = o.Dim / 4
	}
	switch {
	case o.Classes <= 0 || o.Dim <= 0 || k <= 0 || k > o.Dim:
		return nil, fmt.Errorf("enmc: record: classes %d, dim %d, k %d", o.Classes, o.Dim, k)
	case o.M <= 0 || o.M > o.Classes || o.Batch <= 0 || o.Batch > 64 || o.Calib <= 0:
		return nil, fmt.Errorf("enmc: record: m %d (1 … classes), batch %d (1 … 64), calib %d (> 0)", o.M, o.Batch, o.Calib)
	case int64(o.Classes)*int64(o.Dim) > 1<<28:
		return nil, fmt.Errorf("enmc: record: a %d×%d float32 classifier is over 1 GiB", o.Classes, o.Dim)
	}
	cfg := synth.Default(o.Classes, o.Dim)
	cfg.Seed = o.Seed
	m, err := synth.New(cfg)
	if err != nil {
		return nil, err
	}
	lin := spec.NewLinear(m.W, m.B, o.Classes, o.Dim)
	calib, _ := m.Sample(o.Calib, o.Seed+1)
	test, _ := m.Sample(o.Batch, o.Seed+2)
	return Record(lin, calib, test, o, fmt.Sprintf("synthetic classifier screen/synth seed %d (synthetic data)", o.Seed))
}

// Record records a trace of a real classifier lin: it fits an INT4
// screener with screen.Fit on the calibration vectors calib (the
// classifier's inputs, n×Dim), and takes the top-o.M candidates of each
// of the o.Batch vectors in test with screen.Classifier.Forward. o.Classes
// and o.Dim must be lin's; o.Calib is ignored (calib's length counts).
// It runs on one thread.
func Record(lin *spec.Linear, calib, test []float32, o RecordOptions, source string) (*Task, error) {
	k := o.K
	if k == 0 {
		k = lin.D / 4
	}
	switch {
	case o.Classes != lin.N || o.Dim != lin.D:
		return nil, fmt.Errorf("enmc: record: options say %d×%d, the classifier is %d×%d", o.Classes, o.Dim, lin.N, lin.D)
	case len(calib) == 0 || len(calib)%lin.D != 0:
		return nil, fmt.Errorf("enmc: record: %d calibration values are not whole %d-vectors", len(calib), lin.D)
	case len(test) < o.Batch*lin.D:
		return nil, fmt.Errorf("enmc: record: %d test values for a batch of %d %d-vectors", len(test), o.Batch, lin.D)
	case o.M <= 0 || o.M > lin.N || o.Batch <= 0 || o.Batch > 64 || k <= 0 || k > lin.D:
		return nil, fmt.Errorf("enmc: record: m %d (1 … classes), batch %d (1 … 64), k %d (1 … dim)", o.M, o.Batch, k)
	}
	pool := kernels.NewPool(1)
	defer pool.Close()
	s, err := screen.Fit(lin, calib, screen.Options{K: k, Seed: o.Seed}, pool)
	if err != nil {
		return nil, err
	}
	c, err := screen.NewClassifier(lin, s, pool)
	if err != nil {
		return nil, err
	}
	if err := c.SetSelection(screen.Selection{Mode: screen.TopM, M: o.M}); err != nil {
		return nil, err
	}
	t := &Task{Classes: lin.N, Dim: lin.D, K: k, Batch: o.Batch,
		Source: fmt.Sprintf("screen.Fit INT4 k=%d on %d vectors, top-%d, %s", k, len(calib)/lin.D, o.M, source)}
	z := make([]float32, lin.N)
	for b := range o.Batch {
		idx, err := c.Forward(z, test[b*lin.D:(b+1)*lin.D])
		if err != nil {
			return nil, err
		}
		cand := slices.Clone(idx)
		slices.Sort(cand)
		t.Candidates = append(t.Candidates, slices.Compact(cand))
	}
	return t, t.Validate()
}

// RecordSynthFile records a trace (RecordSynth) and writes it to path.
func RecordSynthFile(path string, o RecordOptions) error {
	if path == "" {
		return fmt.Errorf("enmc: record: no output file")
	}
	t, err := RecordSynth(o)
	if err != nil {
		return err
	}
	return WriteTraceFile(path, t)
}

// WriteTraceFile writes t to path in the trace format.
func WriteTraceFile(path string, t *Task) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("enmc: %w", err)
	}
	if err := WriteTrace(f, t); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
