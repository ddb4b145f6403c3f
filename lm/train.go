package lm

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/train"
)

// ErrDiverged reports a training loss that became NaN or infinite; it is
// train.ErrDiverged.
var ErrDiverged = train.ErrDiverged

// TrainConfig holds the training recipe. The zero value of each field
// means PyTorch word_language_model's default, given in brackets.
type TrainConfig struct {
	Epochs    int     // epochs to train [40]
	LR        float64 // initial SGD learning rate [20]
	BPTT      int     // truncated backpropagation window, steps [35]
	Batch     int     // training batch columns [20]
	EvalBatch int     // validation batch columns [10]
	Clip      float64 // total gradient-norm bound [0.25]

	// Control says where checkpoints go (Out after every epoch, every
	// CheckpointEvery [10 minutes] and when training stops early; BestOut
	// each time the validation loss improves, as the PyTorch example
	// saves its model), when MaxDuration stops the run, and how often
	// Progress hears [every 200 batches, and at the end of each epoch].
	train.Control
	Progress func(Progress)
	// Extra is stored in every checkpoint's metadata.
	Extra map[string]string
}

func (c TrainConfig) withDefaults() TrainConfig {
	train.Default(&c.Epochs, 40)
	train.Default(&c.BPTT, 35)
	train.Default(&c.Batch, 20)
	train.Default(&c.EvalBatch, 10)
	train.Default(&c.LR, 20)
	train.Default(&c.Clip, 0.25)
	c.Control = c.Control.WithDefaults(10*time.Minute, 200)
	return c
}

func (c TrainConfig) validate() error {
	switch {
	case c.Epochs < 0, c.BPTT < 0, c.Batch < 0, c.EvalBatch < 0, c.LogEvery < 0:
		return fmt.Errorf("%w: epochs %d, bptt %d, batch %d, eval batch %d and log interval %d must not be negative",
			ErrConfig, c.Epochs, c.BPTT, c.Batch, c.EvalBatch, c.LogEvery)
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("%w: learning rate %v", ErrConfig, c.LR)
	case !(c.Clip >= 0) || math.IsInf(c.Clip, 0):
		return fmt.Errorf("%w: gradient clip %v", ErrConfig, c.Clip)
	}
	return nil
}

// Progress is one report of a training run.
type Progress struct {
	Epoch, Epochs  int
	Batch, Batches int     // windows done in this epoch, of Batches
	Done, Total    int     // windows done in this run, of Total
	Loss           float64 // mean training loss since the last report
	LR             float64
	TokensPerSec   float64 // training throughput of this run so far
	Elapsed, ETA   time.Duration
	// EpochEnd marks the report after validation; ValLoss is then set.
	EpochEnd bool
	ValLoss  float64
}

// EpochResult summarises one finished epoch.
type EpochResult struct {
	Epoch        int
	TrainLoss    float64 // mean over the epoch's windows run in this process
	ValLoss      float64
	LR           float64 // learning rate used during the epoch
	Duration     time.Duration
	TokensPerSec float64
}

// Result summarises a training run.
type Result struct {
	Epochs  []EpochResult
	BestVal float64 // best validation loss, +Inf if none
	// Stopped is set when MaxDuration or the context ended the run
	// early; ValLoss then holds the validation loss of the weights at
	// that point.
	Stopped bool
	ValLoss float64
	State   TrainState // where a resumed run would continue
	Tokens  int        // training tokens processed in this run
	Elapsed time.Duration
}

// Trainer trains a Model with PyTorch word_language_model's recipe:
// windows of BPTT steps over Batch columns of the training stream, the
// recurrent state carried from window to window but not differentiated
// through, plain SGD with the gradient norm clipped, and the learning rate
// divided by four after every epoch whose validation loss is not the best
// so far.
type Trainer struct {
	m     *Model
	cfg   TrainConfig
	state TrainState
}

// NewTrainer returns a trainer for m starting at epoch 1, or an error
// wrapping ErrConfig.
func NewTrainer(m *Model, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Trainer{m: m, cfg: cfg, state: TrainState{Epoch: 1, LR: cfg.LR, BestVal: math.Inf(1)}}, nil
}

// Resume continues from a checkpoint's state: its epoch, window, learning
// rate and best validation loss. The recurrent state restarts from zero.
func (t *Trainer) Resume(ts TrainState) {
	ts.Epoch = max(ts.Epoch, 1)
	t.state = ts
}

// Run trains on the training stream, validating on valid after each epoch,
// until Epochs are done, MaxDuration passes or ctx is cancelled; the last
// two stop cleanly with a checkpoint and are not errors. A NaN or
// infinite loss stops with an error wrapping ErrDiverged that names the
// first non-finite parameter if there is one.
func (t *Trainer) Run(ctx context.Context, stream, valid []int32) (*Result, error) {
	m, cfg := t.m, t.cfg
	if err := m.checkTokens(stream); err != nil {
		return nil, fmt.Errorf("training stream: %w", err)
	}
	if err := m.checkTokens(valid); err != nil {
		return nil, fmt.Errorf("validation stream: %w", err)
	}
	data := corpus.Batchify(stream, cfg.Batch)
	batches := data.NumWindows(cfg.BPTT)
	if batches == 0 {
		return nil, fmt.Errorf("lm: %d training tokens are too few for batch %d", len(stream), cfg.Batch)
	}
	if len(valid) < 2*cfg.EvalBatch {
		return nil, fmt.Errorf("lm: %d validation tokens are too few for batch %d", len(valid), cfg.EvalBatch)
	}
	task := &lmTask{t: t, data: data, valid: valid, batches: batches, params: m.Params(),
		st: m.NewState(cfg.Batch), res: &Result{BestVal: t.state.BestVal}}
	loop := cfg.Loop(cfg.Epochs, batches, train.Position{Epoch: t.state.Epoch, Step: t.state.Batch}, cfg.Progress != nil)
	loop.ReportEpochLast, loop.Goal, loop.Best = true, train.Lower, t.state.BestVal
	loop.Name, loop.StepName, loop.Params = "lm", "window", task.params
	r, err := train.Run(ctx, loop, task)
	if err != nil {
		return nil, err
	}
	res := task.res
	t.state.Epoch, t.state.Batch = r.Pos.Epoch, r.Pos.Step
	res.Stopped, res.BestVal = r.Stopped, r.Best
	res.State, res.Elapsed = t.state, r.Elapsed
	return res, nil
}

// lmTask is one Run's training as train.Run drives it.
type lmTask struct {
	t       *Trainer
	data    *corpus.Batches
	valid   []int32
	batches int
	params  []*nn.Param
	st      nn.State
	res     *Result

	epochStart time.Time
	epochLR    float64 // the learning rate the epoch began with
	win        int     // steps in the window Loss ran, for Update
}

func (k *lmTask) BeginEpoch(epoch int) error {
	k.epochStart, k.epochLR = time.Now(), k.t.state.LR
	k.st.Zero()
	return nil
}

func (k *lmTask) Loss(_, w int) (float64, error) {
	cfg := k.t.cfg
	in, tgt, n := k.data.Window(w*cfg.BPTT, cfg.BPTT)
	nn.ZeroGrad(k.params)
	k.win = n
	return k.t.m.Loss(in, tgt, n, cfg.Batch, k.st, true, true), nil
}

func (k *lmTask) Update(_, _ int) error {
	cfg := k.t.cfg
	k.t.m.Backward()
	nn.ClipGradNorm(k.params, cfg.Clip)
	nn.SGD(k.params, float32(k.t.state.LR))
	k.res.Tokens += k.win * cfg.Batch
	return nil
}

func (k *lmTask) Validate(int) (float64, error) {
	cfg := k.t.cfg
	return k.t.m.Evaluate(k.valid, cfg.EvalBatch, cfg.BPTT)
}

// Report anneals the learning rate at an epoch's end, as the example
// does, before the report and that epoch's checkpoint.
func (k *lmTask) Report(s train.Status) error {
	t := k.t
	speed := float64(k.res.Tokens) / max(s.Train.Seconds(), 1e-9)
	if s.EpochEnd {
		t.state.BestVal = s.Best
		if !s.Improved {
			t.state.LR /= 4
		}
		k.res.Epochs = append(k.res.Epochs, EpochResult{
			Epoch: s.Epoch, TrainLoss: s.Loss, ValLoss: s.Score, LR: k.epochLR,
			Duration: time.Since(k.epochStart), TokensPerSec: speed,
		})
	}
	if t.cfg.Progress != nil {
		t.cfg.Progress(Progress{
			Epoch: s.Epoch, Epochs: s.Epochs, Batch: s.Step, Batches: s.Steps,
			Done: s.Done, Total: s.Total, Loss: s.Loss, LR: t.state.LR,
			TokensPerSec: speed, Elapsed: s.Elapsed, ETA: s.ETA(s.Train),
			EpochEnd: s.EpochEnd, ValLoss: s.Score,
		})
	}
	return nil
}

func (k *lmTask) Save(c train.Checkpoint) error {
	t, cfg := k.t, k.t.cfg
	ts := t.state
	ts.Epoch, ts.Batch, ts.BestVal = c.Pos.Epoch, c.Pos.Step, c.Best
	switch c.Kind {
	case train.Best:
		// The best weights are saved as they stand after the epoch's
		// last window.
		ts.Epoch, ts.Batch = c.Pos.Epoch-1, k.batches
		t.state.BestVal = c.Best
		if cfg.BestOut == "" {
			return nil
		}
		return t.saveState(cfg.BestOut, ts)
	case train.Stopped:
		val, err := t.m.Evaluate(k.valid, cfg.EvalBatch, cfg.BPTT)
		if err != nil {
			return err
		}
		k.res.ValLoss = val
	}
	if cfg.Out == "" {
		return nil
	}
	return t.saveState(cfg.Out, ts)
}

func (t *Trainer) saveState(path string, ts TrainState) error {
	ts.Extra = t.cfg.Extra
	return t.m.Save(path, ts)
}
