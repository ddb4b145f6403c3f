package train

import "time"

// Control is the run control a user sets for a training run: where
// checkpoints go, how often, when to stop and how often to report. The
// model packages' training configurations embed it (lm.TrainConfig,
// wordnet.TrainConfig) and turn it into a Config with Loop.
type Control struct {
	// Out, if not empty, receives a checkpoint after every epoch, every
	// CheckpointEvery and when the run stops early.
	Out string
	// BestOut, if not empty, receives the weights each time the
	// validation score improves (Config.Goal).
	BestOut string
	// CheckpointEvery is the time between mid-epoch checkpoints to Out;
	// zero means the package's default, negative only epoch ends.
	CheckpointEvery time.Duration
	// MaxDuration, if positive, stops the run cleanly after this long,
	// with a checkpoint to resume from.
	MaxDuration time.Duration
	// LogEvery is the number of steps between progress reports; zero
	// means the package's default.
	LogEvery int
}

// WithDefaults returns c with a zero CheckpointEvery or LogEvery set to
// the package's default.
func (c Control) WithDefaults(checkpointEvery time.Duration, logEvery int) Control {
	Default(&c.CheckpointEvery, checkpointEvery)
	Default(&c.LogEvery, logEvery)
	return c
}

// Loop returns the Config of a run of epochs of steps each from start
// under c: no periodic checkpoints without Out, no reports between epoch
// ends unless listening (a progress callback is set). The caller adds
// the Goal, Best and labels.
func (c Control) Loop(epochs, steps int, start Position, listening bool) Config {
	cfg := Config{Epochs: epochs, Steps: steps, Start: start,
		MaxDuration: c.MaxDuration, CheckpointEvery: c.CheckpointEvery, LogEvery: c.LogEvery}
	if c.Out == "" {
		cfg.CheckpointEvery = -1
	}
	if !listening {
		cfg.LogEvery = 0
	}
	return cfg
}

// Default sets *v to d if *v is the zero value: how a training
// configuration fills the fields its caller left zero.
func Default[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}
