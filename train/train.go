package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/elasticml/elastic/nn"
)

// ErrDiverged reports a training loss that became NaN or infinite.
var ErrDiverged = errors.New("training diverged")

// ErrConfig reports an invalid loop configuration.
var ErrConfig = errors.New("invalid training loop option")

// Position is a point in a run: Step (from 0) is the next step of Epoch
// (from 1). A checkpoint stores it so a run can resume there.
type Position struct {
	Epoch, Step int
}

// Goal says which way the validation score improves.
type Goal int

const (
	// NoBest tracks no best score: no score counts as improved and no
	// Best checkpoint is written.
	NoBest Goal = iota
	// Lower is better, as a loss.
	Lower
	// Higher is better, as an accuracy.
	Higher
)

// Kind says why a checkpoint is written.
type Kind int

const (
	// Periodic is a mid-epoch checkpoint written every
	// Config.CheckpointEvery; Pos is the next step.
	Periodic Kind = iota
	// EpochEnd follows an epoch's validation; Pos is the start of the
	// next epoch.
	EpochEnd
	// Best follows a validation score better than every earlier one,
	// before that epoch's EpochEnd; Pos is the start of the next epoch.
	Best
	// Stopped is written when the deadline or the context ends the run
	// early; Pos is the step that would have run next.
	Stopped
)

// Checkpoint asks a Task to save its state.
type Checkpoint struct {
	Kind Kind
	Pos  Position
	// Best is the best validation score so far (the new one for a Best
	// checkpoint); Config.Best before the first validation.
	Best float64
}

// Status is one progress report.
type Status struct {
	Epoch, Epochs int
	Step, Steps   int // steps done in this epoch, of Steps
	Done, Total   int // steps done in this run, of Total
	// Loss is the mean step loss since the last report; at the end of an
	// epoch, the mean over the epoch's steps run in this process (0 if
	// none ran).
	Loss float64
	// Elapsed is the time since Run began; Train the part spent in Loss
	// and Update, which excludes validation and checkpoints.
	Elapsed, Train time.Duration
	// EpochEnd marks the report after an epoch's validation, which gave
	// Score; Improved says whether it beat every earlier score, and Best
	// is the best so far.
	EpochEnd    bool
	EpochSteps  int // steps of this epoch run in this process
	Score, Best float64
	Improved    bool
}

// ETA estimates the time the remaining steps take at the rate spent/Done,
// where spent is Train or Elapsed; 0 before the first step.
func (s Status) ETA(spent time.Duration) time.Duration {
	if s.Done == 0 {
		return 0
	}
	return time.Duration(float64(spent) / float64(s.Done) * float64(s.Total-s.Done))
}

// A Task is one model's training as Run drives it. The methods run on
// Run's goroutine, in this order per epoch: BeginEpoch; per step Loss,
// the divergence check, Update, then possibly Report and Save(Periodic);
// after the last step Validate, Save(Best) if the score improved,
// Report(EpochEnd) and Save(EpochEnd).
type Task interface {
	// BeginEpoch prepares epoch (from 1) before its first step in this
	// process, a resumed one included: shuffling, resetting recurrent
	// state.
	BeginEpoch(epoch int) error
	// Loss runs the forward pass of the given step and returns its loss,
	// which Run checks is finite before it calls Update.
	Loss(epoch, step int) (float64, error)
	// Update runs the backward pass of the step Loss computed and
	// applies the optimizer.
	Update(epoch, step int) error
	// Validate scores the weights at the end of epoch.
	Validate(epoch int) (float64, error)
	// Report receives progress. At an epoch's end it comes before that
	// epoch's EpochEnd checkpoint, so a task may adjust its schedule
	// there (an annealed learning rate on !s.Improved, say) and save it.
	Report(s Status) error
	// Save writes a checkpoint; a task without an output may do nothing.
	Save(c Checkpoint) error
}

// Config is the run control of a training run.
type Config struct {
	Epochs int // epochs of the whole run
	Steps  int // steps per epoch; positive
	// Start is where the run begins: {1, 0} for a new run, a
	// checkpoint's Position to resume. A zero Epoch means 1.
	Start Position
	// MaxDuration, if positive, stops the run cleanly after this long
	// with a Stopped checkpoint; so does cancelling Run's context. The
	// commands reject a NaN or negative --max-minutes when they parse it.
	MaxDuration time.Duration
	// CheckpointEvery, if positive, writes a Periodic checkpoint when
	// this long has passed since the last one (or since Run began).
	CheckpointEvery time.Duration
	// LogEvery, if positive, reports progress every LogEvery steps; the
	// report at each epoch's end comes whatever it is.
	LogEvery int
	// ReportEpochLast also reports after an epoch's last step, with the
	// steps since the last report.
	ReportEpochLast bool
	// Goal and Best are the direction of the validation score and the
	// best so far (a resumed run's; +Inf or −Inf, say, for a new one).
	Goal Goal
	Best float64
	// Name ("lm") and StepName ("window") label the divergence error;
	// Params are checked for the first non-finite value when the loss
	// diverges.
	Name, StepName string
	Params         []*nn.Param
}

func (c Config) validate() error {
	if c.Epochs < 0 || c.Steps <= 0 || c.LogEvery < 0 || c.Start.Epoch < 0 || c.Start.Step < 0 {
		return fmt.Errorf("%w: epochs %d, steps %d, log interval %d, start %+v", ErrConfig, c.Epochs, c.Steps, c.LogEvery, c.Start)
	}
	return nil
}

// Result is how a run ended.
type Result struct {
	// Stopped is set when the deadline or the context ended the run
	// early, after the Stopped checkpoint.
	Stopped bool
	// Pos is where a resumed run would continue: the start of epoch
	// Epochs+1 after a full run.
	Pos  Position
	Best float64 // best validation score, Config.Best if none
	Done int     // steps run
	// Elapsed is the run's time; Train the part spent in steps.
	Elapsed, Train time.Duration
}

// Run trains t from cfg.Start to the end of epoch cfg.Epochs. The
// deadline and ctx stop it cleanly, with a Stopped checkpoint, and are not
// errors. A NaN or infinite loss stops it with an error wrapping
// ErrDiverged, naming the first non-finite parameter if there is one; an
// error from t stops it with that error.
func Run(ctx context.Context, cfg Config, t Task) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	pos := cfg.Start
	pos.Epoch = max(pos.Epoch, 1)
	start := time.Now()
	res := &Result{Best: cfg.Best}
	total := max(0, (cfg.Epochs-pos.Epoch+1)*cfg.Steps-pos.Step)
	lastSave := start
	status := func() Status {
		return Status{Epoch: pos.Epoch, Epochs: cfg.Epochs, Step: pos.Step, Steps: cfg.Steps,
			Done: res.Done, Total: total, Elapsed: time.Since(start), Train: res.Train, Best: res.Best}
	}
	finish := func() *Result {
		res.Pos, res.Elapsed = pos, time.Since(start)
		return res
	}

	for ; pos.Epoch <= cfg.Epochs; pos.Epoch, pos.Step = pos.Epoch+1, 0 {
		if err := t.BeginEpoch(pos.Epoch); err != nil {
			return nil, err
		}
		var epochLoss, repLoss float64
		var epochN, repN int
		for pos.Step < cfg.Steps {
			if cfg.MaxDuration > 0 && time.Since(start) >= cfg.MaxDuration || ctx.Err() != nil {
				res.Stopped = true
				if err := t.Save(Checkpoint{Kind: Stopped, Pos: pos, Best: res.Best}); err != nil {
					return nil, err
				}
				return finish(), nil
			}
			t0 := time.Now()
			s := pos.Step
			loss, err := t.Loss(pos.Epoch, s)
			if err != nil {
				return nil, err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				err := fmt.Errorf("%s: epoch %d %s %d: loss %v: %w", cfg.Name, pos.Epoch, cfg.StepName, s, loss, ErrDiverged)
				if ferr := nn.CheckFinite(cfg.Params); ferr != nil {
					err = fmt.Errorf("%w: %w", err, ferr)
				}
				return nil, err
			}
			if err := t.Update(pos.Epoch, s); err != nil {
				return nil, err
			}
			res.Train += time.Since(t0)
			pos.Step = s + 1
			res.Done++
			epochLoss += loss
			epochN++
			repLoss += loss
			repN++
			if cfg.LogEvery > 0 && (repN == cfg.LogEvery || cfg.ReportEpochLast && pos.Step == cfg.Steps) {
				st := status()
				st.Loss = repLoss / float64(repN)
				if err := t.Report(st); err != nil {
					return nil, err
				}
				repLoss, repN = 0, 0
			}
			if cfg.CheckpointEvery > 0 && time.Since(lastSave) >= cfg.CheckpointEvery {
				if err := t.Save(Checkpoint{Kind: Periodic, Pos: pos, Best: res.Best}); err != nil {
					return nil, err
				}
				lastSave = time.Now()
			}
		}

		score, err := t.Validate(pos.Epoch)
		if err != nil {
			return nil, err
		}
		next := Position{Epoch: pos.Epoch + 1}
		improved := cfg.Goal == Lower && score < res.Best || cfg.Goal == Higher && score > res.Best
		if improved {
			res.Best = score
			if err := t.Save(Checkpoint{Kind: Best, Pos: next, Best: res.Best}); err != nil {
				return nil, err
			}
		}
		st := status()
		st.EpochEnd, st.EpochSteps, st.Score, st.Improved = true, epochN, score, improved
		if epochN > 0 {
			st.Loss = epochLoss / float64(epochN)
		}
		if err := t.Report(st); err != nil {
			return nil, err
		}
		if err := t.Save(Checkpoint{Kind: EpochEnd, Pos: next, Best: res.Best}); err != nil {
			return nil, err
		}
		lastSave = time.Now()
	}
	return finish(), nil
}
