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
)

// ErrConfig reports an invalid training or evaluation option.
var ErrConfig = errors.New("invalid option")

// ErrDiverged reports a training loss that became NaN or infinite.
var ErrDiverged = errors.New("training diverged")

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
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Epochs, 10)
	def(&c.Batch, 128)
	def(&c.LogEvery, 50)
	if c.LR == 0 {
		c.LR = 0.05
	}
	if c.Optimizer == "" {
		c.Optimizer = "sgd"
	}
	if c.Momentum == 0 {
		c.Momentum = 0.9
	}
	if c.Decay == 0 {
		c.Decay = 5e-4
	}
	c.Momentum, c.Decay = max(c.Momentum, 0), max(c.Decay, 0)
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 5 * time.Minute
	}
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
	train, err := fmnist.Load(cfg.DataDir, fmnist.Train)
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
	return t.run(ctx, train, test)
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

func (t *trainer) run(ctx context.Context, train, test *fmnist.Set) (*Result, error) {
	cfg, m := t.cfg, t.m
	steps := train.N / cfg.Batch
	if steps == 0 {
		return nil, fmt.Errorf("%w: batch %d exceeds the %d training images", ErrConfig, cfg.Batch, train.N)
	}
	start := time.Now()
	res := &Result{Arch: m.arch, Params: m.NumParams(), MACs: m.MACs(), Out: cfg.Out, DSG: m.Sparse(), SearchMACs: m.SearchMACs()}
	allSteps := cfg.Epochs * steps
	total := max(0, allSteps-((t.st.Epoch-1)*steps+t.st.Step))
	x := make([]float32, cfg.Batch*fmnist.Pixels)
	labels := make([]int32, cfg.Batch)
	params := m.Params()
	done := 0
	var trainTime time.Duration
	lastSave := start
	eta := func() time.Duration {
		if done == 0 {
			return 0
		}
		return time.Duration(float64(trainTime) / float64(done) * float64(total-done))
	}
	speed := func() float64 { return float64(res.Images) / max(trainTime.Seconds(), 1e-9) }
	finish := func(stopped bool) (*Result, error) {
		res.Stopped = stopped
		res.TestLoss, res.TestAccuracy = Evaluate(m, test, 0)
		res.NextEpoch, res.NextStep = t.st.Epoch, t.st.Step
		res.Seconds = time.Since(start).Seconds()
		if stopped {
			if err := t.save(); err != nil {
				return nil, err
			}
		}
		return res, nil
	}

	for ; t.st.Epoch <= cfg.Epochs; t.st.Epoch, t.st.Step = t.st.Epoch+1, 0 {
		epochStart := time.Now()
		perm := rand.New(rand.NewPCG(cfg.Seed, uint64(t.st.Epoch))).Perm(train.N)
		var eLoss, rLoss float64
		var eN, eRight, rN, rRight int
		for s := t.st.Step; s < steps; s++ {
			if cfg.MaxDuration > 0 && time.Since(start) >= cfg.MaxDuration || ctx.Err() != nil {
				return finish(true)
			}
			t0 := time.Now()
			gather(x, labels, train, perm[s*cfg.Batch:(s+1)*cfg.Batch])
			lr := t.lrAt((t.st.Epoch-1)*steps+s, allSteps)
			nn.ZeroGrad(params)
			loss, right := m.Loss(x, labels, true, true)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				err := fmt.Errorf("dsg: epoch %d step %d: loss %v: %w", t.st.Epoch, s, loss, ErrDiverged)
				if ferr := nn.CheckFinite(params); ferr != nil {
					err = fmt.Errorf("%w: %w", err, ferr)
				}
				return nil, err
			}
			m.LossBackward()
			t.opt.Step(lr)
			trainTime += time.Since(t0)
			t.st.Step = s + 1
			done++
			res.Images += cfg.Batch
			eLoss += loss
			rLoss += loss
			eN++
			rN++
			eRight += right
			rRight += right
			if cfg.Progress != nil && rN == cfg.LogEvery {
				cfg.Progress(Progress{Epoch: t.st.Epoch, Epochs: cfg.Epochs, Step: s + 1, Steps: steps,
					Done: done, Total: total, Loss: rLoss / float64(rN), Accuracy: float64(rRight) / float64(rN*cfg.Batch),
					LR: lr, ImagesPerSec: speed(), Elapsed: time.Since(start), ETA: eta()})
				rLoss, rN, rRight = 0, 0, 0
			}
			if cfg.Out != "" && cfg.CheckpointEvery > 0 && time.Since(lastSave) >= cfg.CheckpointEvery {
				if err := t.save(); err != nil {
					return nil, err
				}
				lastSave = time.Now()
			}
		}
		er := EpochResult{Epoch: t.st.Epoch, Seconds: time.Since(epochStart).Seconds()}
		if eN > 0 {
			er.TrainLoss, er.TrainAccuracy = eLoss/float64(eN), float64(eRight)/float64(eN*cfg.Batch)
		}
		er.TestLoss, er.TestAccuracy = Evaluate(m, test, 0)
		res.Epochs = append(res.Epochs, er)
		if cfg.Progress != nil {
			cfg.Progress(Progress{Epoch: t.st.Epoch, Epochs: cfg.Epochs, Step: steps, Steps: steps,
				Done: done, Total: total, Loss: er.TrainLoss, Accuracy: er.TrainAccuracy,
				ImagesPerSec: speed(), Elapsed: time.Since(start), ETA: eta(),
				EpochEnd: true, TestAccuracy: er.TestAccuracy})
		}
		// The saved state is the start of the next epoch.
		t.st.Epoch, t.st.Step = t.st.Epoch+1, 0
		err := t.save()
		t.st.Epoch, t.st.Step = t.st.Epoch-1, steps
		if err != nil {
			return nil, err
		}
		lastSave = time.Now()
	}
	return finish(false)
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
