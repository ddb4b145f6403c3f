package attn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lra"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/train"
)

// Progress is one report of a training run. A round is ValidEvery steps
// followed by a validation.
type Progress struct {
	Round, Rounds int
	Step, Steps   int     // steps done in this round, of Steps
	Done, Total   int     // steps done in this process, of Total
	Loss          float64 // mean loss since the last report
	LR            float64 // the learning rate of the last step
	SeqPerSec     float64 // training sequences (pairs) per second
	Elapsed, ETA  time.Duration
	// RoundEnd marks the report after a validation; Valid is then its
	// accuracy and Best the best so far.
	RoundEnd    bool
	Valid, Best float64
}

// Round summarises one validation round.
type Round struct {
	Round int     `json:"round"`
	Step  int     `json:"step"`  // steps done in the run at its end
	Loss  float64 `json:"loss"`  // mean training loss of its steps in this process
	Valid float64 `json:"valid"` // validation accuracy
}

// Result summarises a training run.
type Result struct {
	Config  Config        `json:"config"`
	Rounds  []Round       `json:"rounds"`  // those run in this process
	Best    float64       `json:"best"`    // best validation accuracy, −1 if none
	Steps   int           `json:"steps"`   // steps done in the whole run
	Stopped bool          `json:"stopped"` // the deadline or the context ended it early
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Train loads c's data and trains c's model on it (TrainOn).
func Train(ctx context.Context, c Config) (*Result, error) {
	c, err := resolve(c)
	if err != nil {
		return nil, err
	}
	d, err := LoadData(c)
	if err != nil {
		return nil, err
	}
	return TrainOn(ctx, c, d)
}

// resolve applies defaults, or a resumed checkpoint's config, and
// validates.
func resolve(c Config) (Config, error) {
	if c.Resume != "" {
		ck, err := readCheckpoint(c.Resume)
		if err != nil {
			return Config{}, err
		}
		c = c.withRun(ck.m.Cfg)
	}
	c, err := c.WithDefaults()
	if err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// TrainOn trains c's model on d with AdamW under Warmup{LR, Warmup,
// RsqrtDecay}, validating every ValidEvery steps, through train.Run:
// MaxDuration or cancelling ctx stops it cleanly with a checkpoint to
// resume from (Config.Resume), a NaN or infinite loss stops it with an
// error wrapping train.ErrDiverged.
func TrainOn(ctx context.Context, c Config, d *Data) (*Result, error) {
	c, err := resolve(c)
	if err != nil {
		return nil, err
	}
	if d.Len(lra.Train) == 0 || d.Len(lra.Valid) == 0 {
		return nil, fmt.Errorf("%w: %s task has %d training and %d validation examples", ErrConfig, c.Task, d.Len(lra.Train), d.Len(lra.Valid))
	}
	if d.MaxLen() > c.Length {
		return nil, fmt.Errorf("%w: the data's sequences reach %d tokens, the model's positions %d", ErrConfig, d.MaxLen(), c.Length)
	}
	if (d.Pairs != nil) != (c.Task == "retrieval") {
		return nil, fmt.Errorf("%w: task %s given %s data", ErrConfig, c.Task, map[bool]string{true: "pair", false: "single-sequence"}[d.Pairs != nil])
	}
	if c.Epochs > 0 {
		c.Steps = c.Epochs * ((d.Len(lra.Train) + c.Batch - 1) / c.Batch)
	}
	start := train.Position{}
	var m *Model
	var st state
	var ck *checkpoint
	if c.Resume != "" {
		if ck, err = readCheckpoint(c.Resume); err != nil {
			return nil, err
		}
		m, st = ck.m, ck.st
		if m.Vocab != d.Vocab() || m.Classes != d.Classes() {
			return nil, fmt.Errorf("%w: %s has %d tokens and %d classes, the data %d and %d", ErrMismatch, c.Resume, m.Vocab, m.Classes, d.Vocab(), d.Classes())
		}
		m.Cfg.Steps, m.Cfg.Epochs = c.Steps, c.Epochs
		start = train.Position{Epoch: st.epoch, Step: st.step}
	} else {
		if m, err = NewModel(c, d.Vocab(), d.Classes()); err != nil {
			return nil, err
		}
		if c.Init != "" {
			if err := m.initFrom(c.Init); err != nil {
				return nil, err
			}
		}
		st.best = -1
	}
	pool := kernels.NewPool(c.Threads)
	defer pool.Close()
	m.SetPool(pool)
	opt := nn.NewAdamW(m.Params(), c.Decay)
	if ck != nil {
		if err := loadParams(ck.f, opt.State()); err != nil {
			return nil, fmt.Errorf("attn: resume %s: optimizer state: %w", c.Resume, err)
		}
		opt.Steps = st.adamSteps
	}
	k := &task{c: c, d: d, m: m, opt: opt, sched: nn.Warmup{Base: c.LR, Warmup: c.Warmup, RsqrtDecay: true},
		res: &Result{Config: c.saved()}, t0: time.Now()}
	rounds := (c.Steps + c.ValidEvery - 1) / c.ValidEvery
	loop := c.Loop(rounds, c.ValidEvery, start, c.Progress != nil)
	loop.Goal, loop.Best = train.Higher, st.best
	loop.Name, loop.StepName, loop.Params = "attn "+c.Task, "step", m.Params()
	r, err := train.Run(ctx, loop, k)
	if err != nil {
		return nil, err
	}
	k.res.Best, k.res.Stopped, k.res.Elapsed = r.Best, r.Stopped, r.Elapsed
	k.res.Steps = (r.Pos.Epoch-1)*c.ValidEvery + r.Pos.Step
	return k.res, nil
}

// task is one run as train.Run drives it: loop epoch e is validation
// round e, and its step s is global step (e−1)·ValidEvery + s.
type task struct {
	c     Config
	d     *Data
	m     *Model
	opt   *nn.AdamW
	sched nn.Warmup
	res   *Result
	t0    time.Time
	seqs  int // training sequences this process

	b     batch
	idx   []int
	perm  []int
	pass  int // the pass over the data perm is for (0: none yet)
	lr    float64
	valid float64
}

func (k *task) global(epoch, step int) int { return (epoch-1)*k.c.ValidEvery + step }

func (k *task) BeginEpoch(int) error { return nil }

// order returns the training example at position i of the run's stream:
// passes over the training split, each in its own seeded order.
func (k *task) order(i int) int {
	n := k.d.Len(lra.Train)
	if p := i/n + 1; p != k.pass {
		k.perm = rand.New(rand.NewPCG(k.c.Seed, 0x6f72646572<<8|uint64(p))).Perm(n)
		k.pass = p
	}
	return k.perm[i%n]
}

func (k *task) Loss(epoch, step int) (float64, error) {
	g := k.global(epoch, step)
	k.idx = k.idx[:0]
	for j := range k.c.Batch {
		k.idx = append(k.idx, k.order(g*k.c.Batch+j))
	}
	k.d.gather(&k.b, lra.Train, k.idx)
	k.m.pcg.Seed(k.c.Seed, 0x64726f70<<32|uint64(g)) // dropout masks of step g
	k.seqs += len(k.idx)
	loss, err := k.m.loss(&k.b)
	if err != nil {
		return 0, fmt.Errorf("attn: step %d: %w", g, err)
	}
	return loss, nil
}

func (k *task) Update(int, int) error {
	k.m.backward()
	k.lr = k.sched.Rate(k.opt.Steps + 1)
	k.opt.Step(k.lr)
	return nil
}

func (k *task) Validate(int) (float64, error) {
	var err error
	k.valid, err = accuracy(k.m, k.d, lra.Valid, k.c.ValidLimit, k.c.Batch, &k.b)
	return k.valid, err
}

// accuracy is the fraction of the first limit examples of split s that m
// classifies right, in batches of batch.
func accuracy(m *Model, d *Data, s lra.Split, limit, batchSize int, b *batch) (float64, error) {
	n := min(limit, d.Len(s))
	if n == 0 {
		return 0, fmt.Errorf("%w: no %s examples", ErrConfig, s)
	}
	right := 0
	idx := make([]int, 0, batchSize)
	for i := 0; i < n; i += batchSize {
		idx = idx[:0]
		for j := i; j < min(n, i+batchSize); j++ {
			idx = append(idx, j)
		}
		d.gather(b, s, idx)
		r, err := m.correct(b)
		if err != nil {
			return 0, fmt.Errorf("attn: %s split: %w", s, err)
		}
		right += r
	}
	return float64(right) / float64(n), nil
}

func (k *task) Report(s train.Status) error {
	if s.EpochEnd {
		k.res.Rounds = append(k.res.Rounds, Round{Round: s.Epoch, Step: k.global(s.Epoch+1, 0), Loss: s.Loss, Valid: s.Score})
	}
	if k.c.Progress == nil {
		return nil
	}
	k.c.Progress(Progress{Round: s.Epoch, Rounds: s.Epochs, Step: s.Step, Steps: s.Steps, Done: s.Done, Total: s.Total,
		Loss: s.Loss, LR: k.lr, SeqPerSec: float64(k.seqs) / max(s.Train.Seconds(), 1e-9),
		Elapsed: s.Elapsed, ETA: s.ETA(s.Elapsed), RoundEnd: s.EpochEnd, Valid: s.Score, Best: s.Best})
	return nil
}

func (k *task) Save(c train.Checkpoint) error {
	path := k.c.Out
	extra := map[string]string{}
	switch c.Kind {
	case train.Best:
		path = k.c.BestOut
		fallthrough
	case train.EpochEnd:
		extra["valid_acc"] = strconv.FormatFloat(k.valid, 'f', 5, 64)
	}
	if path == "" {
		return nil
	}
	st := state{epoch: c.Pos.Epoch, step: c.Pos.Step, adamSteps: k.opt.Steps, best: c.Best}
	return k.m.save(path, k.opt, st, extra)
}
