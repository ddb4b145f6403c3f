package dsg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"time"

	"github.com/elasticml/elastic/fmnist"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/train"
)

// ErrConfig reports an invalid training or evaluation option.
var ErrConfig = errors.New("invalid option")

// ErrDiverged reports a training loss that became NaN or infinite; it is
// train.ErrDiverged.
var ErrDiverged = train.ErrDiverged

// Config is a dense training run. Zero fields take the default in
// brackets.
type Config struct {
	Arch      Arch
	Epochs    int     // [10]
	Batch     int     // images per step [128]
	LR        float64 // peak learning rate, cosine-annealed to 0 over the run [0.05]
	Optimizer string  // "sgd" (with momentum) or "adam" [sgd]
	Momentum  float64 // SGD momentum [0.9]; negative for none
	Decay     float64 // L2 weight decay [5e-4]; negative for none
	Seed      uint64  // initialisation and shuffling
	// Sparsity is DSG's γ in [0, 1) (0: dense); DSG holds its other
	// options (its Gamma is ignored).
	Sparsity float64
	DSG      Sparse

	DataDir string // Fashion-MNIST idx files [fmnist.DefaultDir]
	Threads int    // worker threads [GOMAXPROCS]

	// Out receives a checkpoint at every epoch end, every
	// CheckpointEvery [5 minutes; negative: only at epoch ends] and when
	// the run stops early; Resume continues from it.
	Out             string
	Resume          bool
	CheckpointEvery time.Duration
	// MaxDuration, if positive, stops training cleanly after this long
	// with a checkpoint to resume from.
	MaxDuration time.Duration
	// Progress, if not nil, is called every LogEvery steps [50] and at
	// the end of each epoch.
	Progress func(Progress)
	LogEvery int
}

func (c Config) withDefaults() Config {
	train.Default(&c.Epochs, 10)
	train.Default(&c.Batch, 128)
	train.Default(&c.LogEvery, 50)
	train.Default(&c.LR, 0.05)
	train.Default(&c.Optimizer, "sgd")
	train.Default(&c.Momentum, 0.9)
	train.Default(&c.Decay, 5e-4)
	c.Momentum, c.Decay = max(c.Momentum, 0), max(c.Decay, 0)
	train.Default(&c.CheckpointEvery, 5*time.Minute)
	return c
}

func (c Config) validate() error {
	if _, err := ParseArch(string(c.Arch)); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.sparse().validate(); err != nil {
		return err
	}
	switch {
	case c.Epochs < 0 || c.Batch < 0 || c.LogEvery < 0 || c.Threads < 0:
		return fmt.Errorf("%w: epochs %d, batch %d, log interval %d and threads %d must not be negative", ErrConfig, c.Epochs, c.Batch, c.LogEvery, c.Threads)
	case c.Batch == 1:
		return fmt.Errorf("%w: batch 1: BatchNorm needs at least two images per step", ErrConfig)
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("%w: learning rate %v", ErrConfig, c.LR)
	case !(c.Momentum < 1) || math.IsNaN(c.Decay) || math.IsInf(c.Decay, 0):
		return fmt.Errorf("%w: momentum %v must be below 1 and weight decay %v finite", ErrConfig, c.Momentum, c.Decay)
	case c.Optimizer != "" && c.Optimizer != "sgd" && c.Optimizer != "adam":
		return fmt.Errorf("%w: optimizer %q (want sgd or adam)", ErrConfig, c.Optimizer)
	case c.Resume && c.Out == "":
		return fmt.Errorf("%w: resume needs a checkpoint path", ErrConfig)
	}
	return nil
}

// Progress is one report of a training run.
type Progress struct {
	Epoch, Epochs int
	Step, Steps   int // steps done in this epoch, of Steps
	Done, Total   int // steps done in this run, of Total
	Loss          float64
	Accuracy      float64 // training top-1 since the last report
	LR            float64
	ImagesPerSec  float64
	Elapsed, ETA  time.Duration
	// EpochEnd marks the report after the test pass; TestAccuracy is
	// then set.
	EpochEnd     bool
	TestAccuracy float64
}

// EpochResult summarises one epoch.
type EpochResult struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`     // mean over the steps run in this process
	TrainAccuracy float64 `json:"train_accuracy"` // top-1 in training mode, over the same steps
	TestLoss      float64 `json:"test_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	Seconds       float64 `json:"seconds"`
}

// Result summarises a run.
type Result struct {
	Arch   Arch          `json:"model"`
	Params int           `json:"params"`
	MACs   int           `json:"forward_macs_per_image"`
	Epochs []EpochResult `json:"epochs"`
	// Stopped is set when MaxDuration or the context ended the run
	// early; the test figures are then those of the weights at that
	// point.
	Stopped      bool    `json:"stopped"`
	TestLoss     float64 `json:"test_loss"`
	TestAccuracy float64 `json:"test_accuracy"`
	NextEpoch    int     `json:"next_epoch"`
	NextStep     int     `json:"next_step"`
	Images       int     `json:"images"`
	Seconds      float64 `json:"seconds"`
	Out          string  `json:"out,omitempty"`

	// DSG is the sparse configuration (nil: dense); SearchMACs its
	// search's cost per image (Table A.1's count).
	DSG        *Sparse `json:"dsg,omitempty"`
	SearchMACs int     `json:"search_macs_per_image,omitempty"`
}

// Train trains a model — densely, or with DSG when Config.Sparsity > 0 —
// on the Fashion-MNIST training split and tests it on the test split after
// every epoch; it is what `elastic dsg train` runs. Each epoch visits the training images in an order drawn
// from (Seed, epoch), in Batch-sized steps, the last partial batch left
// out; the learning rate follows a cosine from LR to 0 over all steps, so
// a resumed run continues the schedule and the order exactly.
//
// The run stops cleanly, with a checkpoint, when MaxDuration passes or
// ctx is cancelled. A NaN or infinite loss stops it with an error wrapping
// ErrDiverged.
func Train(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	trainSet, err := fmnist.Load(cfg.DataDir, fmnist.Train)
	if err != nil {
		return nil, err
	}
	test, err := fmnist.Load(cfg.DataDir, fmnist.Test)
	if err != nil {
		return nil, err
	}
	t, err := newTrainer(cfg)
	if err != nil {
		return nil, err
	}
	defer t.pool.Close()
	return t.run(ctx, trainSet, test)
}

type trainer struct {
	cfg  Config
	m    *Net
	opt  nn.Optimizer
	st   State
	pool *kernels.Pool
}

func newTrainer(cfg Config) (*trainer, error) {
	t := &trainer{cfg: cfg, st: State{Epoch: 1, Seed: cfg.Seed, Batch: cfg.Batch, Optimizer: cfg.Optimizer}}
	var err error
	if cfg.Resume {
		m, st, f, err := Load(cfg.Out, cfg.Arch)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("dsg: resume: no checkpoint at %s", cfg.Out)
			}
			return nil, err
		}
		if st.Batch != cfg.Batch || st.Optimizer != cfg.Optimizer || st.Seed != cfg.Seed {
			return nil, fmt.Errorf("%w: %s was trained with batch %d, optimizer %s, seed %d; the run asks for %d, %s, %d",
				ErrMismatch, cfg.Out, st.Batch, st.Optimizer, st.Seed, cfg.Batch, cfg.Optimizer, cfg.Seed)
		}
		t.m, t.st = m, st
		t.opt = t.newOptimizer()
		if err := loadOptimizer(f, t.opt); err != nil {
			return nil, fmt.Errorf("dsg: %s: %w", cfg.Out, err)
		}
		if a, ok := t.opt.(*nn.Adam); ok {
			a.Steps = st.AdamSteps
		}
	} else {
		if t.m, err = build(cfg.Arch, cfg.Seed, cfg.DSG.BN != BNNone); err != nil {
			return nil, err
		}
		t.opt = t.newOptimizer()
	}
	if err := t.m.EnableDSG(cfg.sparse(), cfg.Seed); err != nil {
		return nil, err
	}
	t.pool = kernels.NewPool(cfg.Threads)
	t.m.SetPool(t.pool)
	return t, nil
}

func (t *trainer) newOptimizer() nn.Optimizer {
	if t.cfg.Optimizer == "adam" {
		return nn.NewAdam(t.m.Params(), t.cfg.Decay)
	}
	return nn.NewMomentum(t.m.Params(), t.cfg.Momentum, t.cfg.Decay)
}

func (t *trainer) save() error {
	if t.cfg.Out == "" {
		return nil
	}
	if a, ok := t.opt.(*nn.Adam); ok {
		t.st.AdamSteps = a.Steps
	}
	return t.m.Save(t.cfg.Out, t.opt, t.st)
}

// lrAt is the cosine schedule at global step s of total.
func (t *trainer) lrAt(s, total int) float64 {
	return t.cfg.LR * 0.5 * (1 + math.Cos(math.Pi*float64(s)/float64(total)))
}

func (t *trainer) run(ctx context.Context, trainSet, test *fmnist.Set) (*Result, error) {
	cfg, m := t.cfg, t.m
	steps := trainSet.N / cfg.Batch
	if steps == 0 {
		return nil, fmt.Errorf("%w: batch %d exceeds the %d training images", ErrConfig, cfg.Batch, trainSet.N)
	}
	k := &dsgTask{t: t, train: trainSet, test: test, steps: steps, params: m.Params(),
		x: make([]float32, cfg.Batch*fmnist.Pixels), labels: make([]int32, cfg.Batch),
		res: &Result{Arch: m.arch, Params: m.NumParams(), MACs: m.MACs(), Out: cfg.Out, DSG: m.Sparse(), SearchMACs: m.SearchMACs()}}
	ctl := train.Control{Out: cfg.Out, CheckpointEvery: cfg.CheckpointEvery, MaxDuration: cfg.MaxDuration, LogEvery: cfg.LogEvery}
	loop := ctl.Loop(cfg.Epochs, steps, train.Position{Epoch: t.st.Epoch, Step: t.st.Step}, cfg.Progress != nil)
	loop.Name, loop.StepName, loop.Params = "dsg", "step", k.params
	r, err := train.Run(ctx, loop, k)
	if err != nil {
		return nil, err
	}
	res := k.res
	t.st.Epoch, t.st.Step = r.Pos.Epoch, r.Pos.Step
	if !r.Stopped {
		res.TestLoss, res.TestAccuracy = Evaluate(m, test, 0)
	}
	res.Stopped = r.Stopped
	res.NextEpoch, res.NextStep = t.st.Epoch, t.st.Step
	res.Seconds = r.Elapsed.Seconds()
	return res, nil
}

// dsgTask is one run as train.Run drives it.
type dsgTask struct {
	t           *trainer
	train, test *fmnist.Set
	steps       int
	params      []*nn.Param
	x           []float32
	labels      []int32
	res         *Result

	perm       []int
	epochStart time.Time
	epochSecs  float64 // training time of the epoch, before its test pass
	lr         float64 // the last step's learning rate
	right      int     // the step's correct predictions
	// Correct predictions over the epoch's steps and since the last report.
	eRight, rRight, rN int
	epochTest          EpochResult // the epoch's test figures
}

func (k *dsgTask) BeginEpoch(epoch int) error {
	k.epochStart = time.Now()
	k.perm = rand.New(rand.NewPCG(k.t.cfg.Seed, uint64(epoch))).Perm(k.train.N)
	k.eRight, k.rRight, k.rN = 0, 0, 0
	return nil
}

func (k *dsgTask) Loss(epoch, s int) (float64, error) {
	batch := k.t.cfg.Batch
	gather(k.x, k.labels, k.train, k.perm[s*batch:(s+1)*batch])
	k.lr = k.t.lrAt((epoch-1)*k.steps+s, k.t.cfg.Epochs*k.steps)
	nn.ZeroGrad(k.params)
	loss, right := k.t.m.Loss(k.x, k.labels, true, true)
	k.right = right
	return loss, nil
}

func (k *dsgTask) Update(epoch, s int) error {
	k.t.m.LossBackward()
	k.t.opt.Step(k.lr)
	k.t.st.Epoch, k.t.st.Step = epoch, s+1
	k.res.Images += k.t.cfg.Batch
	k.eRight += k.right
	k.rRight += k.right
	k.rN++
	return nil
}

func (k *dsgTask) Validate(int) (float64, error) {
	k.epochSecs = time.Since(k.epochStart).Seconds()
	k.epochTest.TestLoss, k.epochTest.TestAccuracy = Evaluate(k.t.m, k.test, 0)
	return k.epochTest.TestAccuracy, nil
}

func (k *dsgTask) Report(s train.Status) error {
	cfg := k.t.cfg
	batch := cfg.Batch
	speed := float64(k.res.Images) / max(s.Train.Seconds(), 1e-9)
	p := Progress{Epoch: s.Epoch, Epochs: s.Epochs, Step: s.Step, Steps: s.Steps,
		Done: s.Done, Total: s.Total, Loss: s.Loss,
		ImagesPerSec: speed, Elapsed: s.Elapsed, ETA: s.ETA(s.Train)}
	if s.EpochEnd {
		er := EpochResult{Epoch: s.Epoch, Seconds: k.epochSecs, TestLoss: k.epochTest.TestLoss, TestAccuracy: k.epochTest.TestAccuracy}
		if s.EpochSteps > 0 {
			er.TrainLoss, er.TrainAccuracy = s.Loss, float64(k.eRight)/float64(s.EpochSteps*batch)
		}
		k.res.Epochs = append(k.res.Epochs, er)
		p.Accuracy, p.EpochEnd, p.TestAccuracy = er.TrainAccuracy, true, er.TestAccuracy
	} else {
		p.Accuracy, p.LR = float64(k.rRight)/float64(k.rN*batch), k.lr
		k.rRight, k.rN = 0, 0
	}
	if cfg.Progress != nil {
		cfg.Progress(p)
	}
	return nil
}

// Save writes the checkpoint at c.Pos (Goal NoBest: no Best ones come);
// a stopped run's test figures are those of the weights it saves.
func (k *dsgTask) Save(c train.Checkpoint) error {
	t := k.t
	if c.Kind == train.Stopped {
		k.res.TestLoss, k.res.TestAccuracy = Evaluate(t.m, k.test, 0)
	}
	saved := t.st
	t.st.Epoch, t.st.Step = c.Pos.Epoch, c.Pos.Step
	err := t.save()
	t.st.Epoch, t.st.Step = saved.Epoch, saved.Step
	return err
}

// pixelScale maps a pixel byte to the network input: scaled to [0, 1] and
// standardised with the training split's mean 0.2860 and standard
// deviation 0.3530.
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32((float64(i)/255 - 0.2860) / 0.3530)
	}
	return t
}()

// gather sets x and labels to the images idx of s.
func gather(x []float32, labels []int32, s *fmnist.Set, idx []int) {
	for i, j := range idx {
		row := x[i*fmnist.Pixels : (i+1)*fmnist.Pixels]
		for k, p := range s.Image(j) {
			row[k] = pixelScale[p]
		}
		labels[i] = int32(s.Labels[j])
	}
}

// Evaluate returns the mean cross-entropy and top-1 accuracy of m on s in
// evaluation mode, batch images at a time [500].
func Evaluate(m *Net, s *fmnist.Set, batch int) (loss, accuracy float64) {
	if batch <= 0 {
		batch = 500
	}
	x := make([]float32, batch*fmnist.Pixels)
	labels := make([]int32, batch)
	idx := make([]int, batch)
	var sum float64
	right := 0
	for lo := 0; lo < s.N; lo += batch {
		n := min(batch, s.N-lo)
		for i := range n {
			idx[i] = lo + i
		}
		gather(x[:n*fmnist.Pixels], labels[:n], s, idx[:n])
		l, r := m.Loss(x[:n*fmnist.Pixels], labels[:n], false, false)
		sum += l * float64(n)
		right += r
	}
	if s.N == 0 {
		return 0, 0
	}
	return sum / float64(s.N), float64(right) / float64(s.N)
}

// EvalResult is the test-set score of a checkpoint.
type EvalResult struct {
	Model        string  `json:"model"`
	Arch         Arch    `json:"arch"`
	Epoch        int     `json:"next_epoch"`
	Images       int     `json:"images"`
	TestLoss     float64 `json:"test_loss"`
	TestAccuracy float64 `json:"test_accuracy"`
}

// EvaluateFile scores the checkpoint at path on the Fashion-MNIST test
// split in dataDir (fmnist.DefaultDir if empty) with threads workers (0:
// GOMAXPROCS), densely.
func EvaluateFile(path, dataDir string, threads int) (*EvalResult, error) {
	return EvaluateFileWith(path, dataDir, threads, 0, Sparse{})
}

func evaluateFile(path, dataDir string, threads int, enable func(*Net, State) error) (*EvalResult, error) {
	if threads < 0 {
		return nil, fmt.Errorf("%w: threads %d", ErrConfig, threads)
	}
	m, st, _, err := Load(path, "")
	if err != nil {
		return nil, err
	}
	if err := enable(m, st); err != nil {
		return nil, err
	}
	test, err := fmnist.Load(dataDir, fmnist.Test)
	if err != nil {
		return nil, err
	}
	p := kernels.NewPool(threads)
	defer p.Close()
	m.SetPool(p)
	loss, acc := Evaluate(m, test, 0)
	return &EvalResult{Model: path, Arch: m.arch, Epoch: st.Epoch, Images: test.N, TestLoss: loss, TestAccuracy: acc}, nil
}
