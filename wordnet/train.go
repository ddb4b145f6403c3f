package wordnet

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/train"
)

// ErrDiverged reports a training loss that became NaN or infinite; it is
// train.ErrDiverged.
var ErrDiverged = train.ErrDiverged

// TrainConfig holds the training recipe. The zero value of each field
// means the default in brackets.
type TrainConfig struct {
	Epochs int // passes over the training samples [10]
	Batch  int // samples per step [256]
	// Negatives is the number of classes drawn per batch besides the
	// batch's targets [2048]; a negative value trains with the full
	// softmax.
	Negatives int
	LR        float64 // Adagrad learning rate [0.2]
	// WordDropout drops each word of a training bag with this
	// probability, keeping at least one [0].
	WordDropout float64
	Seed        uint64 // shuffling, negatives and dropout [1]
	// Related lists, per class, classes to add to every batch's
	// candidates when it is a target (see Sampler.Related and
	// Dataset.Senses); nil for none.
	Related [][]int32

	// Control says where checkpoints go (Out after every epoch, every
	// CheckpointEvery [10 minutes] and when training stops early;
	// BestOut each time the validation top-1 accuracy improves: the
	// model to keep, since a synset classifier seeing each class about
	// twice an epoch starts to overfit after a few epochs), when
	// MaxDuration stops the run, and how often Progress hears [every 50
	// steps, and after each epoch's validation].
	train.Control
	Progress func(Progress)
	// Meta is stored in every checkpoint's metadata, e.g. Dataset.Meta.
	Meta map[string]string
}

func (c TrainConfig) withDefaults() TrainConfig {
	train.Default(&c.Epochs, 10)
	train.Default(&c.Batch, 256)
	train.Default(&c.Negatives, 2048)
	train.Default(&c.LR, 0.2)
	train.Default(&c.Seed, 1)
	c.Control = c.Control.WithDefaults(10*time.Minute, 50)
	return c
}

func (c TrainConfig) validate() error {
	switch {
	case c.Epochs < 0, c.Batch < 0, c.LogEvery < 0:
		return fmt.Errorf("%w: epochs %d, batch %d and log interval %d must not be negative", ErrConfig, c.Epochs, c.Batch, c.LogEvery)
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("%w: learning rate %v", ErrConfig, c.LR)
	case !(c.WordDropout >= 0 && c.WordDropout < 1):
		return fmt.Errorf("%w: word dropout %v outside [0, 1)", ErrConfig, c.WordDropout)
	}
	return nil
}

// Progress is one report of a training run.
type Progress struct {
	Epoch, Epochs int
	Step, Steps   int     // steps done in this epoch, of Steps
	Done, Total   int     // steps done in the run, of Total
	Loss          float64 // mean sampled loss since the last report
	SamplesPerSec float64
	Elapsed, ETA  time.Duration
	// EpochEnd marks the report after validation; Valid is then set.
	EpochEnd bool
	Valid    Metrics
}

// EpochResult summarises one epoch.
type EpochResult struct {
	Epoch         int           `json:"epoch"`
	TrainLoss     float64       `json:"train_loss"` // mean sampled loss
	Valid         Metrics       `json:"valid"`
	Duration      time.Duration `json:"duration_ns"`
	SamplesPerSec float64       `json:"samples_per_sec"`
}

// Result summarises a training run.
type Result struct {
	Epochs    []EpochResult
	BestEpoch int  // epoch with the best validation top-1, 0 if none
	Stopped   bool // MaxDuration or the context ended the run early
	Samples   int  // training samples processed
	Elapsed   time.Duration
}

// Train fits m to the train split with sampled softmax and sparse Adagrad,
// validating with the full classifier after every epoch. MaxDuration or
// cancelling ctx stops it cleanly with a checkpoint; a NaN or infinite
// loss stops it with an error wrapping ErrDiverged.
func Train(ctx context.Context, m *Model, trainSplit, valid *Split, cfg TrainConfig) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := m.Config()
	for _, sp := range []*Split{trainSplit, valid} {
		if err := checkSplit(sp, c); err != nil {
			return nil, err
		}
	}
	if trainSplit.Len() == 0 {
		return nil, fmt.Errorf("wordnet: empty training split")
	}
	sampler := nn.NewSampler(c.Classes, cfg.Seed)
	if cfg.Related != nil {
		if len(cfg.Related) != c.Classes {
			return nil, fmt.Errorf("%w: related lists for %d classes, model has %d", ErrConfig, len(cfg.Related), c.Classes)
		}
		sampler.Related = cfg.Related
	}
	opt := nn.NewAdagrad(m.Params(), 0)
	opt.Pool = m.pool
	k := &wnTask{m: m, cfg: cfg, data: trainSplit, valid: valid, sampler: sampler, opt: opt,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x7472_6169_6e)),
		order: make([]int32, trainSplit.Len()), res: &Result{}}
	for i := range k.order {
		k.order[i] = int32(i)
	}
	loop := cfg.Loop(cfg.Epochs, (trainSplit.Len()+cfg.Batch-1)/cfg.Batch, train.Position{}, cfg.Progress != nil)
	loop.Goal, loop.Best = train.Higher, -1
	loop.Name, loop.StepName, loop.Params = "wordnet", "step", m.Params()
	r, err := train.Run(ctx, loop, k)
	if err != nil {
		return nil, err
	}
	k.res.Stopped, k.res.Elapsed = r.Stopped, r.Elapsed
	return k.res, nil
}

// wnTask is one Train run as train.Run drives it.
type wnTask struct {
	m           *Model
	cfg         TrainConfig
	data, valid *Split
	sampler     *nn.Sampler
	opt         *nn.Adagrad
	ss          nn.SampledSoftmax
	rng         *rand.Rand
	order       []int32
	res         *Result
	epoch       time.Time // when the epoch began

	bStart, bWords, targets []int32
	dh                      []float32
	cand                    []int32 // the step's candidates, for Update
	valM                    Metrics // the last validation
}

func (k *wnTask) BeginEpoch(epoch int) error {
	k.epoch = time.Now()
	k.rng.Shuffle(len(k.order), func(i, j int) { k.order[i], k.order[j] = k.order[j], k.order[i] })
	return nil
}

func (k *wnTask) Loss(_, s int) (float64, error) {
	m, batch, d := k.m, k.cfg.Batch, k.m.Config().Dim
	ids := k.order[s*batch : min(len(k.order), (s+1)*batch)]
	n := len(ids)
	k.bStart, k.bWords, k.targets = gatherBatch(k.bStart[:0], k.bWords[:0], k.targets[:0], k.data, ids, k.cfg.WordDropout, k.rng)
	h := m.Forward(k.bStart, k.bWords)
	cand, logQ, pos := k.sampler.Candidates(k.targets, k.cfg.Negatives)
	k.cand = cand
	k.dh = grow(k.dh, n*d)
	k.res.Samples += n
	return k.ss.Loss(m.pool, h, n, d, m.Decoder.Data, m.Bias.Data, cand, logQ, pos, k.dh), nil
}

func (k *wnTask) Update(_, _ int) error {
	m, opt, lr := k.m, k.opt, k.cfg.LR
	words := m.Backward(k.dh)
	if k.cand == nil {
		opt.Dense(m.Decoder, k.ss.DW, lr)
		opt.Dense(m.Bias, k.ss.DB, lr)
	} else {
		opt.Rows(m.Decoder, k.cand, k.ss.DW, lr)
		opt.Rows(m.Bias, k.cand, k.ss.DB, lr)
	}
	opt.Rows(m.Encoder.Weight, words, nil, lr)
	opt.Dense(m.Hidden.Weight, nil, lr)
	opt.Dense(m.Hidden.Bias, nil, lr)
	return nil
}

func (k *wnTask) Validate(int) (float64, error) {
	var err error
	k.valM, err = k.m.Evaluate(k.valid)
	return k.valM.Top1, err
}

func (k *wnTask) Report(s train.Status) error {
	speed := float64(k.res.Samples) / max(s.Elapsed.Seconds(), 1e-9)
	p := Progress{
		Epoch: s.Epoch, Epochs: s.Epochs, Step: s.Step, Steps: s.Steps, Done: s.Done, Total: s.Total,
		Loss: s.Loss, SamplesPerSec: speed, Elapsed: s.Elapsed, ETA: s.ETA(s.Elapsed),
	}
	if s.EpochEnd {
		if s.Improved {
			k.res.BestEpoch = s.Epoch
		}
		er := EpochResult{
			Epoch: s.Epoch, TrainLoss: s.Loss, Valid: k.valM,
			Duration: time.Since(k.epoch), SamplesPerSec: speed,
		}
		k.res.Epochs = append(k.res.Epochs, er)
		p.EpochEnd, p.Valid = true, k.valM
	}
	if k.cfg.Progress != nil {
		k.cfg.Progress(p)
	}
	return nil
}

// Save writes the weights with the number of epochs done, and where a
// run stopped within the next.
func (k *wnTask) Save(c train.Checkpoint) error {
	path := k.cfg.Out
	extra := map[string]string{"stopped_step": strconv.Itoa(c.Pos.Step)}
	switch c.Kind {
	case train.Best:
		path = k.cfg.BestOut
		fallthrough
	case train.EpochEnd:
		extra = map[string]string{
			"valid_top1": strconv.FormatFloat(k.valM.Top1, 'f', 5, 64),
			"valid_top5": strconv.FormatFloat(k.valM.Top5, 'f', 5, 64),
		}
	}
	if path == "" {
		return nil
	}
	cfg := k.cfg
	meta := maps.Clone(cfg.Meta)
	if meta == nil {
		meta = map[string]string{}
	}
	maps.Copy(meta, extra)
	meta["epoch"] = strconv.Itoa(c.Pos.Epoch - 1)
	meta["negatives"] = strconv.Itoa(cfg.Negatives)
	meta["lr"] = strconv.FormatFloat(cfg.LR, 'g', -1, 64)
	meta["seed"] = strconv.FormatUint(cfg.Seed, 10)
	return k.m.Save(path, meta)
}

// gatherBatch appends the bags and labels of samples ids of sp, dropping
// each word with probability p but keeping at least one per bag.
func gatherBatch(start, words, targets []int32, sp *Split, ids []int32, p float64, rng *rand.Rand) ([]int32, []int32, []int32) {
	start = append(start, 0)
	for _, i := range ids {
		bag := sp.Bag(int(i))
		n0 := len(words)
		if p == 0 {
			words = append(words, bag...)
		} else {
			for _, w := range bag {
				if rng.Float64() >= p {
					words = append(words, w)
				}
			}
			if len(words) == n0 && len(bag) > 0 {
				words = append(words, bag[rng.IntN(len(bag))])
			}
		}
		start = append(start, int32(len(words)))
		targets = append(targets, sp.Labels[i])
	}
	return start, words, targets
}

// checkSplit returns an error wrapping ErrMismatch if a word or label of
// sp does not fit c.
func checkSplit(sp *Split, c Config) error {
	for _, w := range sp.Words {
		if w < 0 || int(w) >= c.Vocab {
			return fmt.Errorf("wordnet: %s split: word %d outside the model's %d: %w", sp.Name, w, c.Vocab, ErrMismatch)
		}
	}
	for _, l := range sp.Labels {
		if l < 0 || int(l) >= c.Classes {
			return fmt.Errorf("wordnet: %s split: label %d outside the model's %d classes: %w", sp.Name, l, c.Classes, ErrMismatch)
		}
	}
	return nil
}
