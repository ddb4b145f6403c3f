package lm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/nn"
)

// ErrDiverged reports a training loss that became NaN or infinite.
var ErrDiverged = errors.New("training diverged")

// TrainConfig holds the training recipe. The zero value of each field
// means PyTorch word_language_model's default, given in brackets.
type TrainConfig struct {
	Epochs    int     // epochs to train [40]
	LR        float64 // initial SGD learning rate [20]
	BPTT      int     // truncated backpropagation window, steps [35]
	Batch     int     // training batch columns [20]
	EvalBatch int     // validation batch columns [10]
	Clip      float64 // total gradient-norm bound [0.25]

	// Out, if not empty, receives a checkpoint after every epoch, every
	// CheckpointEvery of training time and when training stops early.
	Out string
	// BestOut, if not empty, receives the weights each time the
	// validation loss improves, as the PyTorch example saves its model.
	BestOut         string
	CheckpointEvery time.Duration // [10 minutes]; negative disables
	// MaxDuration, if positive, stops training cleanly after this much
	// time, writing a checkpoint to resume from.
	MaxDuration time.Duration
	// Progress, if not nil, is called every LogEvery batches [200] and at
	// the end of each epoch.
	Progress func(Progress)
	LogEvery int
	// Extra is stored in every checkpoint's metadata.
	Extra map[string]string
}

func (c TrainConfig) withDefaults() TrainConfig {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Epochs, 40)
	def(&c.BPTT, 35)
	def(&c.Batch, 20)
	def(&c.EvalBatch, 10)
	def(&c.LogEvery, 200)
	if c.LR == 0 {
		c.LR = 20
	}
	if c.Clip == 0 {
		c.Clip = 0.25
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 10 * time.Minute
	}
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

// Run trains on the train stream, validating on valid after each epoch,
// until Epochs are done, MaxDuration passes or ctx is cancelled; the last
// two stop cleanly with a checkpoint and are not errors. A NaN or
// infinite loss stops with an error wrapping ErrDiverged that names the
// first non-finite parameter if there is one.
func (t *Trainer) Run(ctx context.Context, train, valid []int32) (*Result, error) {
	m, cfg := t.m, t.cfg
	if err := m.checkTokens(train); err != nil {
		return nil, fmt.Errorf("training stream: %w", err)
	}
	if err := m.checkTokens(valid); err != nil {
		return nil, fmt.Errorf("validation stream: %w", err)
	}
	data := corpus.Batchify(train, cfg.Batch)
	batches := data.NumWindows(cfg.BPTT)
	if batches == 0 {
		return nil, fmt.Errorf("lm: %d training tokens are too few for batch %d", len(train), cfg.Batch)
	}
	if len(valid) < 2*cfg.EvalBatch {
		return nil, fmt.Errorf("lm: %d validation tokens are too few for batch %d", len(valid), cfg.EvalBatch)
	}

	start := time.Now()
	res := &Result{BestVal: t.state.BestVal}
	total := max(0, (cfg.Epochs-t.state.Epoch+1)*batches-t.state.Batch)
	params := m.Params()
	st := m.NewState(cfg.Batch)
	var trainTime time.Duration // excludes validation
	done := 0
	lastSave := start
	speed := func() float64 {
		return float64(res.Tokens) / max(trainTime.Seconds(), 1e-9)
	}
	eta := func() time.Duration {
		if done == 0 {
			return 0
		}
		return time.Duration(float64(trainTime) / float64(done) * float64(total-done))
	}
	stop := func() (*Result, error) {
		val, err := m.Evaluate(valid, cfg.EvalBatch, cfg.BPTT)
		if err != nil {
			return nil, err
		}
		res.Stopped, res.ValLoss = true, val
		return t.finish(res, start)
	}

	for ; t.state.Epoch <= cfg.Epochs; t.state.Epoch, t.state.Batch = t.state.Epoch+1, 0 {
		epochStart := time.Now()
		epochLR := t.state.LR
		var epochLoss, repLoss float64
		var epochN, repN, epochTokens int
		st.Zero()
		for w := t.state.Batch; w < batches; w++ {
			if cfg.MaxDuration > 0 && time.Since(start) >= cfg.MaxDuration || ctx.Err() != nil {
				return stop()
			}
			t0 := time.Now()
			in, tgt, n := data.Window(w*cfg.BPTT, cfg.BPTT)
			nn.ZeroGrad(params)
			loss := m.Loss(in, tgt, n, cfg.Batch, st, true, true)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				err := fmt.Errorf("lm: epoch %d window %d: loss %v: %w", t.state.Epoch, w, loss, ErrDiverged)
				if ferr := m.CheckFinite(); ferr != nil {
					err = fmt.Errorf("%w: %w", err, ferr)
				}
				return nil, err
			}
			m.Backward()
			nn.ClipGradNorm(params, cfg.Clip)
			nn.SGD(params, float32(t.state.LR))
			trainTime += time.Since(t0)
			t.state.Batch = w + 1
			done++
			res.Tokens += n * cfg.Batch
			epochTokens += n * cfg.Batch
			epochLoss += loss
			epochN++
			repLoss += loss
			repN++
			if cfg.Progress != nil && (repN == cfg.LogEvery || w == batches-1) {
				cfg.Progress(Progress{
					Epoch: t.state.Epoch, Epochs: cfg.Epochs, Batch: w + 1, Batches: batches,
					Done: done, Total: total, Loss: repLoss / float64(repN), LR: t.state.LR,
					TokensPerSec: speed(), Elapsed: time.Since(start), ETA: eta(),
				})
				repLoss, repN = 0, 0
			}
			if cfg.Out != "" && cfg.CheckpointEvery > 0 && time.Since(lastSave) >= cfg.CheckpointEvery {
				if err := t.save(cfg.Out); err != nil {
					return nil, err
				}
				lastSave = time.Now()
			}
		}

		val, err := m.Evaluate(valid, cfg.EvalBatch, cfg.BPTT)
		if err != nil {
			return nil, err
		}
		if val < t.state.BestVal {
			t.state.BestVal = val
			if cfg.BestOut != "" {
				if err := t.save(cfg.BestOut); err != nil {
					return nil, err
				}
			}
		} else {
			t.state.LR /= 4
		}
		res.BestVal = t.state.BestVal
		er := EpochResult{
			Epoch: t.state.Epoch, ValLoss: val, LR: epochLR,
			Duration: time.Since(epochStart), TokensPerSec: speed(),
		}
		if epochN > 0 {
			er.TrainLoss = epochLoss / float64(epochN)
		}
		res.Epochs = append(res.Epochs, er)
		if cfg.Progress != nil {
			cfg.Progress(Progress{
				Epoch: t.state.Epoch, Epochs: cfg.Epochs, Batch: batches, Batches: batches,
				Done: done, Total: total, Loss: er.TrainLoss, LR: t.state.LR,
				TokensPerSec: speed(), Elapsed: time.Since(start), ETA: eta(),
				EpochEnd: true, ValLoss: val,
			})
		}
		if cfg.Out != "" {
			// The saved state is the start of the next epoch.
			next := t.state
			next.Epoch, next.Batch = next.Epoch+1, 0
			if err := t.saveState(cfg.Out, next); err != nil {
				return nil, err
			}
			lastSave = time.Now()
		}
	}
	return t.finish(res, start)
}

func (t *Trainer) finish(res *Result, start time.Time) (*Result, error) {
	res.State = t.state
	res.Elapsed = time.Since(start)
	if res.Stopped && t.cfg.Out != "" {
		if err := t.save(t.cfg.Out); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (t *Trainer) save(path string) error { return t.saveState(path, t.state) }

func (t *Trainer) saveState(path string, ts TrainState) error {
	ts.Extra = t.cfg.Extra
	return t.m.Save(path, ts)
}
