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
	pool := kernels.NewPool(1)
	calib, _ := m.Sample(o.Calib, o.Seed+1)
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
	test, _ := m.Sample(o.Batch, o.Seed+2)
	t := &Task{Classes: o.Classes, Dim: o.Dim, K: k, Batch: o.Batch,
		Source: fmt.Sprintf("screen.Fit INT4 k=%d on %d samples, top-%d, synthetic classifier screen/synth seed %d (synthetic data)", k, o.Calib, o.M, o.Seed)}
	z := make([]float32, o.Classes)
	for b := range o.Batch {
		idx, err := c.Forward(z, test[b*o.Dim:(b+1)*o.Dim])
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
