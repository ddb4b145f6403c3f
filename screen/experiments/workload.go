package experiments

import (
	"errors"
	"fmt"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/wordnet"
)

// A Workload is a classifier with calibration and test vectors, and test
// labels when known.
type Workload struct {
	Source      string    // where the classifier and vectors came from, shown in the result
	W, B        []float32 // the classifier: W L×D row-major, B of length L or nil
	L, D        int
	Calib, Test []float32 // calibration and test vectors, row-major of width D
	// Labels are the test vectors' classes, nil if unknown; LabelMeaning
	// says what they are ("the next token").
	Labels       []int32
	LabelMeaning string
}

// A Loader loads a workload, its work on pool, saying what it does by say.
type Loader func(pool *kernels.Pool, say func(format string, a ...any)) (*Workload, error)

// SplitVectors makes a workload of the classifier W, B (l×d) and n vectors
// hs with optional labels: the last tests vectors test, the ones before
// calibrate. It returns an error if no vector is left to calibrate.
func SplitVectors(source string, w, b []float32, l, d int, hs []float32, labels []int32, tests int) (*Workload, error) {
	n := len(hs) / d
	if n <= tests {
		return nil, fmt.Errorf("%s holds %d vectors: need more than --tests %d, the rest calibrating", source, n, tests)
	}
	cut := n - tests
	if labels != nil {
		labels = labels[cut:]
	}
	return &Workload{Source: source, W: w, B: b, L: l, D: d,
		Calib: hs[:cut*d], Test: hs[cut*d:], Labels: labels, LabelMeaning: "the file's labels"}, nil
}

// SynthConfig is a synthetic classifier (screen/synth defaults) of Classes
// × Dim, with Calib calibration and Tests test vectors drawn from its
// input model, all from Seed.
type SynthConfig struct {
	Classes, Dim int
	Seed         uint64
	Calib, Tests int
}

// Check refuses a classifier beyond screen.MaxBenchBytes or a workload
// beyond the memory budget, before anything is generated.
func (c SynthConfig) Check() error {
	if int64(c.Classes)*int64(c.Dim+1)*4 > screen.MaxBenchBytes {
		return fmt.Errorf("--classes %d × --dim %d: the float32 classifier exceeds the %d GiB budget", c.Classes, c.Dim, screen.MaxBenchBytes>>30)
	}
	// The classifier, the drawn vectors and the methods' copies of W.
	need := budget.Add(budget.Mul(4*3, c.Classes, c.Dim+1), budget.Mul(4, c.Calib, c.Dim), budget.Mul(4, c.Tests, c.Dim+c.Classes))
	return budget.Check(fmt.Sprintf("--classes %d × --dim %d with --tokens %d and --tests %d", c.Classes, c.Dim, c.Calib, c.Tests), need)
}

// Load generates the classifier and draws the vectors; the labels are the
// classes they were drawn for.
func (c SynthConfig) Load(_ *kernels.Pool, say func(string, ...any)) (*Workload, error) {
	say("generating a %d×%d synthetic classifier…", c.Classes, c.Dim)
	cfg := synth.Default(c.Classes, c.Dim)
	cfg.Seed = c.Seed
	m, err := synth.New(cfg)
	if err != nil {
		return nil, err
	}
	calib, _ := m.Sample(c.Calib, c.Seed+1)
	test, labels := m.Sample(c.Tests, c.Seed+2)
	return &Workload{
		Source: fmt.Sprintf("synthetic (screen/synth defaults, seed %d)", c.Seed),
		W:      m.W, B: m.B, L: c.Classes, D: c.Dim, Calib: calib, Test: test,
		Labels: labels, LabelMeaning: "the class each input was drawn for",
	}, nil
}

// WordNetConfig is the decoder of a wn checkpoint (Model) trained on the
// WordNet data set of Dir with held-out split SplitSeed: its tanh layer's
// output over Calib training examples calibrates, over Tests test examples
// tests, both sampled from Seed; the label is the synset.
type WordNetConfig struct {
	Model, Dir   string
	SplitSeed    uint64
	LemmaSamples bool
	Seed         uint64
	Calib, Tests int
}

// Check refuses what can be refused before any file is read.
func (c WordNetConfig) Check() error {
	if c.Model == "" {
		return errors.New("--workload wordnet needs --model, a checkpoint written by wn train")
	}
	if c.SplitSeed == 0 {
		return errors.New("--split-seed must be positive")
	}
	return nil
}

// Load reads the model and the data set, checks that they belong
// together, and computes the hidden vectors of the sampled examples.
func (c WordNetConfig) Load(pool *kernels.Pool, say func(string, ...any)) (*Workload, error) {
	say("loading %s and the WordNet data set…", c.Model)
	m, meta, err := wordnet.LoadModel(c.Model)
	if err != nil {
		return nil, err
	}
	ds, err := wordnet.LoadDataset(wordnet.Options{Dir: c.Dir, Seed: c.SplitSeed, LemmaSamples: c.LemmaSamples})
	if err != nil {
		return nil, err
	}
	if err := ds.Check(m, meta); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Model, err)
	}
	m.SetPool(pool)
	tr, te := ds.Train.Sample(c.Calib, c.Seed), ds.Test.Sample(c.Tests, c.Seed+1)
	say("hidden vectors of %d training and %d test examples…", tr.Len(), te.Len())
	calib, _, _ := m.HiddenVectors(tr)
	test, _, d := m.HiddenVectors(te)
	return &Workload{Source: c.Model, W: m.Decoder.Data, B: m.Bias.Data, L: m.Config().Classes, D: d,
		Calib: calib, Test: test, Labels: te.Labels, LabelMeaning: "the synset"}, nil
}
