package attn

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/train"
)

// ErrConfig reports a configuration that cannot be trained.
var ErrConfig = errors.New("attn: invalid configuration")

// ErrMismatch reports a checkpoint of another format, shape or task.
var ErrMismatch = errors.New("attn: checkpoint mismatch")

// Tasks are the task names, in the order of docs/results/attention-tasks.md.
var Tasks = []string{"listops", "text", "retrieval", "image"}

// Config is a training run. The fields saved in a checkpoint (the model,
// the data and the recipe) carry JSON names; a zero value among them means
// the task's planned value (Plan). The run control, threads, data
// locations and the resume file are not saved.
type Config struct {
	Task   string `json:"task"` // listops, text, retrieval or image
	Layers int    `json:"layers"`
	Heads  int    `json:"heads"`
	Dim    int    `json:"dim"`
	FFN    int    `json:"ffn"`
	// Hidden is the width of the classifier head's hidden layer.
	Hidden int `json:"hidden"`
	// Length is the longest sequence: ListOps's longest expression, the
	// Text and Retrieval passages' bytes, Image's 784 pixels.
	Length int `json:"length"`
	// MinLength is ListOps's shortest expression (other tasks ignore it).
	MinLength int `json:"min_length"`
	// Examples are ListOps's expressions or Retrieval's pairs per split
	// (train, valid, test); zeros mean lra's defaults. Text and Image
	// have fixed splits.
	Examples [3]int `json:"examples"`
	// Steps is the number of training steps; if Epochs is positive it
	// replaces Steps with that many passes over the training split. The
	// run is cut into validation rounds of ValidEvery steps, so Steps is
	// rounded up to a multiple of ValidEvery.
	Steps      int     `json:"steps"`
	Epochs     int     `json:"epochs,omitempty"`
	Batch      int     `json:"batch"` // sequences (pairs for Retrieval) per step
	LR         float64 `json:"lr"`    // peak learning rate
	Warmup     int     `json:"warmup"`
	Decay      float64 `json:"weight_decay"` // AdamW's decoupled decay
	Dropout    float64 `json:"dropout"`
	Seed       uint64  `json:"seed"`      // initialisation, order, dropout
	DataSeed   uint64  `json:"data_seed"` // the data set
	ValidEvery int     `json:"valid_every"`
	// ValidLimit caps the validation examples scored after each round
	// (the first ValidLimit of the valid split), so validating costs a
	// fraction of training; the test split is always scored whole.
	ValidLimit int `json:"valid_limit"`
	// Sparse, when set, trains with dynamic sparse attention in every
	// layer (nn.DSA): the masked attention in the forward and backward
	// passes, and with Sparse.Lambda > 0 the joint loss of eq. 7.7,
	// cross-entropy + λ·Σ_layers MSE(S, S̃), whose MSE term trains the
	// predictor only. The checkpoint then holds the predictor's weights.
	Sparse *nn.DSA `json:"sparse,omitempty"`

	Threads int       `json:"-"` // kernel workers (0: GOMAXPROCS)
	Data    DataPaths `json:"-"`
	// Resume, if set, continues the run saved in this checkpoint: its
	// saved fields replace this Config's, except Steps and Epochs when
	// set here (a run may be extended).
	Resume string `json:"-"`
	// Init, if set, starts a new run from the weights of this checkpoint
	// (model adaptation, §7.3.2: fine-tune a trained dense model with
	// Sparse). Its model shape must be this Config's; the predictor, which
	// a dense checkpoint does not hold, starts from Sparse.Seed.
	Init string `json:"-"`
	// Control says where checkpoints go (Out after every round, every
	// CheckpointEvery [10 minutes] and when the run stops early; BestOut
	// each time the validation accuracy improves), when MaxDuration stops
	// the run and how often Progress hears [every 10 steps].
	train.Control `json:"-"`
	Progress      func(Progress) `json:"-"`
}

// DataPaths locate the data packages' files; empty means the packages'
// default locations.
type DataPaths struct {
	KJV    string // bible.data (bible-kjv-text)
	FMNIST string // Fashion-MNIST directory (dataset-fashion-mnist)
}

// Plan returns the planned dense model of task, the "ours" column of
// docs/results/attention-tasks.md, or an error for an unknown task.
func Plan(task string) (Config, error) {
	c := Config{Task: task, Layers: 2, Heads: 4, Dim: 64, FFN: 128, Hidden: 128, Length: 1024,
		Steps: 950, Batch: 16, LR: 1e-3, Warmup: 95, Decay: 0.1, Dropout: 0.1,
		Seed: 1, DataSeed: 1, ValidEvery: 50, ValidLimit: 512}
	switch task {
	case "listops":
		c.Length, c.MinLength, c.Steps, c.Warmup = 1999, 501, 900, 90
	case "text":
	case "retrieval":
		c.Batch = 8
	case "image":
		c.Layers, c.Heads, c.Length, c.Steps, c.Batch, c.LR, c.Warmup, c.Decay, c.Dropout =
			1, 8, 784, 1500, 32, 5e-4, 150, 0, 0
	default:
		return Config{}, fmt.Errorf("%w: unknown task %q, want one of %v", ErrConfig, task, Tasks)
	}
	return c, nil
}

// WithDefaults returns c with every zero saved field set to the task's
// plan, and the run control's defaults.
func (c Config) WithDefaults() (Config, error) {
	p, err := Plan(c.Task)
	if err != nil {
		return Config{}, err
	}
	train.Default(&c.Layers, p.Layers)
	train.Default(&c.Heads, p.Heads)
	train.Default(&c.Dim, p.Dim)
	train.Default(&c.FFN, p.FFN)
	train.Default(&c.Hidden, p.Hidden)
	train.Default(&c.Length, p.Length)
	train.Default(&c.MinLength, p.MinLength)
	train.Default(&c.Steps, p.Steps)
	train.Default(&c.Batch, p.Batch)
	train.Default(&c.LR, p.LR)
	train.Default(&c.Warmup, p.Warmup)
	train.Default(&c.Seed, p.Seed)
	train.Default(&c.DataSeed, p.DataSeed)
	train.Default(&c.ValidEvery, p.ValidEvery)
	train.Default(&c.ValidLimit, p.ValidLimit)
	// Zero decay and dropout are real choices, so only a negative value
	// (never valid) would need a default; they keep what they are.
	c.Control = c.Control.WithDefaults(10*time.Minute, 10)
	return c, nil
}

// Validate reports a configuration that cannot be trained.
func (c Config) Validate() error {
	if !slices.Contains(Tasks, c.Task) {
		return fmt.Errorf("%w: unknown task %q, want one of %v", ErrConfig, c.Task, Tasks)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"layers", c.Layers}, {"heads", c.Heads}, {"dim", c.Dim}, {"ffn", c.FFN}, {"hidden", c.Hidden},
		{"length", c.Length}, {"steps", c.Steps}, {"batch", c.Batch}, {"valid every", c.ValidEvery}, {"valid limit", c.ValidLimit}} {
		if v.n <= 0 {
			return fmt.Errorf("%w: %s %d must be positive", ErrConfig, v.name, v.n)
		}
	}
	switch {
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("%w: %d heads do not divide width %d", ErrConfig, c.Heads, c.Dim)
	case c.Epochs < 0 || c.Warmup < 0 || c.Examples[0] < 0 || c.Examples[1] < 0 || c.Examples[2] < 0:
		return fmt.Errorf("%w: epochs %d, warm-up %d and examples %v must not be negative", ErrConfig, c.Epochs, c.Warmup, c.Examples)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("%w: learning rate %v must be positive and finite", ErrConfig, c.LR)
	case !(c.Decay >= 0) || math.IsInf(c.Decay, 0):
		return fmt.Errorf("%w: weight decay %v must be non-negative and finite", ErrConfig, c.Decay)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("%w: dropout %v outside [0, 1)", ErrConfig, c.Dropout)
	case c.Task == "listops" && (c.MinLength < 1 || c.MinLength > c.Length):
		return fmt.Errorf("%w: ListOps lengths %d to %d", ErrConfig, c.MinLength, c.Length)
	case c.Task == "image" && c.Length != 784:
		return fmt.Errorf("%w: image sequences are 784 pixels, not %d", ErrConfig, c.Length)
	case c.Threads < 0:
		return fmt.Errorf("%w: threads %d", ErrConfig, c.Threads)
	case c.Init != "" && c.Resume != "":
		return fmt.Errorf("%w: init %s and resume %s: a resumed run has its own weights", ErrConfig, c.Init, c.Resume)
	}
	if c.Sparse != nil {
		if err := c.Sparse.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	return nil
}

// saved returns the fields a checkpoint stores, the run's own cleared.
func (c Config) saved() Config {
	return Config{Task: c.Task, Layers: c.Layers, Heads: c.Heads, Dim: c.Dim, FFN: c.FFN, Hidden: c.Hidden,
		Length: c.Length, MinLength: c.MinLength, Examples: c.Examples, Steps: c.Steps, Epochs: c.Epochs,
		Batch: c.Batch, LR: c.LR, Warmup: c.Warmup, Decay: c.Decay, Dropout: c.Dropout, Seed: c.Seed,
		DataSeed: c.DataSeed, ValidEvery: c.ValidEvery, ValidLimit: c.ValidLimit, Sparse: cloneDSA(c.Sparse)}
}

// cloneDSA copies a DSA configuration so that configs share none.
func cloneDSA(d *nn.DSA) *nn.DSA {
	if d == nil {
		return nil
	}
	c := *d
	return &c
}

// withRun returns the saved fields of s with c's run fields (threads,
// data, resume, control, progress) and, when set in c, its Steps and
// Epochs.
func (c Config) withRun(s Config) Config {
	r := s.saved()
	r.Threads, r.Data, r.Resume, r.Init, r.Control, r.Progress = c.Threads, c.Data, c.Resume, c.Init, c.Control, c.Progress
	if c.Steps > 0 || c.Epochs > 0 {
		r.Steps, r.Epochs = c.Steps, c.Epochs
	}
	return r
}
