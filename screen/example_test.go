package screen_test

import (
	"fmt"

	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

// Fit a screener to a classifier, then classify with 32 candidates out of
// 4000 classes.
func Example() {
	m, _ := synth.New(synth.Default(4000, 64))
	lin := spec.NewLinear(m.W, m.B, 4000, 64)
	calib, _ := m.Sample(1024, 1)
	s, err := screen.Fit(lin, calib, screen.Options{}, nil)
	if err != nil {
		panic(err)
	}
	c, err := screen.NewClassifier(lin, s, nil)
	if err != nil {
		panic(err)
	}
	if err := c.SetSelection(screen.Selection{Mode: screen.TopM, M: 32}); err != nil {
		panic(err)
	}
	test, _ := m.Sample(200, 2)
	q, _ := c.Evaluate(test, nil)
	fmt.Printf("screener: INT%d, k=%d, %.1f%% of the classifier's bytes\n", s.Bits, s.K, 100*s.CodeRatio())
	fmt.Printf("candidates %.0f, top-1 agreement ≥ 0.9: %v\n", q.Candidates, q.Top1 >= 0.9)
	// Output:
	// screener: INT4, k=16, 3.1% of the classifier's bytes
	// candidates 32, top-1 agreement ≥ 0.9: true
}

// Choose the candidate count by split-conformal calibration so that the
// full top-1 is a candidate with probability at least 90%.
func ExampleClassifier_Calibrate() {
	m, _ := synth.New(synth.Default(4000, 64))
	lin := spec.NewLinear(m.W, m.B, 4000, 64)
	calib, _ := m.Sample(1024, 1)
	s, _ := screen.Fit(lin, calib, screen.Options{}, nil)
	c, _ := screen.NewClassifier(lin, s, nil)

	held, _ := m.Sample(200, 3)
	cf, err := c.Calibrate(held, 0.1)
	if err != nil {
		panic(err)
	}
	_ = c.SetSelection(cf.GapSelection())
	fmt.Println(cf.N, "held-out inputs; need at least", screen.MinCalib(0.1))
	// Output:
	// 200 held-out inputs; need at least 9
}

// Certified selection: the returned top-1 is provably the full
// classifier's.
func ExampleClassifier_Forward() {
	m, _ := synth.New(synth.Default(2000, 32))
	lin := spec.NewLinear(m.W, m.B, 2000, 32)
	calib, _ := m.Sample(512, 1)
	s, _ := screen.Fit(lin, calib, screen.Options{}, nil)
	c, _ := screen.NewClassifier(lin, s, nil)
	_ = c.SetSelection(screen.Selection{Mode: screen.Certified, M: 8})

	h, _ := m.Sample(1, 4)
	z, full := make([]float32, 2000), make([]float32, 2000)
	cand, err := c.Forward(z, h)
	if err != nil {
		panic(err)
	}
	c.Full(full, h)
	best := screen.Top(nil, z, cand, 1)[0]
	all := make([]int32, 2000)
	for i := range all {
		all[i] = int32(i)
	}
	fmt.Println(best == screen.Top(nil, full, all, 1)[0])
	// Output: true
}
