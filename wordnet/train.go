package wordnet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/elasticml/elastic/nn"
)

// ErrDiverged reports a training loss that became NaN or infinite.
var ErrDiverged = errors.New("training diverged")

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

	// Out, if not empty, receives a checkpoint after every epoch, every
	// CheckpointEvery and when training stops early.
	Out string
	// BestOut, if not empty, receives the weights each time the
	// validation top-1 accuracy improves: the model to keep, since a
	// synset classifier seeing each class about twice an epoch starts to
	// overfit after a few epochs.
	BestOut         string
	CheckpointEvery time.Duration // [10 minutes]; negative disables
	// MaxDuration, if positive, stops training cleanly after this much
	// time, with a checkpoint.
	MaxDuration time.Duration
	// Progress, if not nil, is called every LogEvery steps [50] and after
	// each epoch's validation.
	Progress func(Progress)
	LogEvery int
	// Meta is stored in every checkpoint's metadata, e.g. Dataset.Meta.
	Meta map[string]string
}

func (c TrainConfig) withDefaults() TrainConfig {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Epochs, 10)
	def(&c.Batch, 256)
	def(&c.Negatives, 2048)
	def(&c.LogEvery, 50)
	if c.LR == 0 {
		c.LR = 0.2
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 10 * time.Minute
	}
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
func Train(ctx context.Context, m *Model, train, valid *Split, cfg TrainConfig) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := m.Config()
	for _, sp := range []*Split{train, valid} {
		if err := checkSplit(sp, c); err != nil {
			return nil, err
		}
	}
	if train.Len() == 0 {
		return nil, fmt.Errorf("wordnet: empty training split")
	}
	d := c.Dim
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7472_6169_6e))
	sampler := NewSampler(c.Classes, cfg.Seed)
	if cfg.Related != nil {
		if len(cfg.Related) != c.Classes {
			return nil, fmt.Errorf("%w: related lists for %d classes, model has %d", ErrConfig, len(cfg.Related), c.Classes)
		}
		sampler.Related = cfg.Related
	}
	opt := NewAdagrad(float32(cfg.LR), 0)
	opt.Pool = m.pool
	var ss SampledSoftmax

	order := make([]int32, train.Len())
	for i := range order {
		order[i] = int32(i)
	}
	steps := (train.Len() + cfg.Batch - 1) / cfg.Batch
	total := steps * cfg.Epochs
	start := time.Now()
	lastSave := start
	res := &Result{}
	var done int
	best := -1.0
	var bStart, bWords, targets []int32
	var dh []float32

	saveTo := func(path string, epoch int, extra map[string]string) error {
		if path == "" {
			return nil
		}
		meta := maps.Clone(cfg.Meta)
		if meta == nil {
			meta = map[string]string{}
		}
		maps.Copy(meta, extra)
		meta["epoch"] = strconv.Itoa(epoch)
		meta["negatives"] = strconv.Itoa(cfg.Negatives)
		meta["lr"] = strconv.FormatFloat(cfg.LR, 'g', -1, 64)
		meta["seed"] = strconv.FormatUint(cfg.Seed, 10)
		lastSave = time.Now()
		return m.Save(path, meta)
	}
	save := func(epoch int, extra map[string]string) error {
		return saveTo(cfg.Out, epoch, extra)
	}
	eta := func() time.Duration {
		if done == 0 {
			return 0
		}
		return time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done))
	}
	speed := func() float64 { return float64(res.Samples) / max(time.Since(start).Seconds(), 1e-9) }

	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		t0 := time.Now()
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var epochLoss, repLoss float64
		var repN int
		for s := range steps {
			if cfg.MaxDuration > 0 && time.Since(start) >= cfg.MaxDuration || ctx.Err() != nil {
				res.Stopped = true
				res.Elapsed = time.Since(start)
				return res, save(epoch-1, map[string]string{"stopped_step": strconv.Itoa(s)})
			}
			ids := order[s*cfg.Batch : min(len(order), (s+1)*cfg.Batch)]
			n := len(ids)
			bStart, bWords, targets = gatherBatch(bStart[:0], bWords[:0], targets[:0], train, ids, cfg.WordDropout, rng)
			h := m.Forward(bStart, bWords)
			cand, logQ, pos := sampler.Candidates(targets, cfg.Negatives)
			dh = grow(dh, n*d)
			loss := ss.Loss(m.pool, h, n, d, m.Decoder.Data, m.Bias.Data, cand, logQ, pos, dh)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				err := fmt.Errorf("wordnet: epoch %d step %d: loss %v: %w", epoch, s, loss, ErrDiverged)
				if ferr := nn.CheckFinite(m.Params()); ferr != nil {
					err = fmt.Errorf("%w: %w", err, ferr)
				}
				return nil, err
			}
			words := m.Backward(dh)
			if cand == nil {
				opt.step(m.Decoder.Data, ss.DW, opt.accumulator(m.Decoder))
				opt.step(m.Bias.Data, ss.DB, opt.accumulator(m.Bias))
			} else {
				opt.Rows(m.Decoder, cand, ss.DW)
				opt.Rows(m.Bias, cand, ss.DB)
			}
			opt.Rows(m.Encoder.Weight, words, nil)
			opt.Dense(m.Hidden.Weight)
			opt.Dense(m.Hidden.Bias)

			done++
			res.Samples += n
			epochLoss += loss
			repLoss += loss
			repN++
			if cfg.Progress != nil && repN == cfg.LogEvery {
				cfg.Progress(Progress{
					Epoch: epoch, Epochs: cfg.Epochs, Step: s + 1, Steps: steps, Done: done, Total: total,
					Loss: repLoss / float64(repN), SamplesPerSec: speed(), Elapsed: time.Since(start), ETA: eta(),
				})
				repLoss, repN = 0, 0
			}
			if cfg.Out != "" && cfg.CheckpointEvery > 0 && time.Since(lastSave) >= cfg.CheckpointEvery {
				if err := save(epoch-1, map[string]string{"stopped_step": strconv.Itoa(s + 1)}); err != nil {
					return nil, err
				}
			}
		}
		val, err := m.Evaluate(valid)
		if err != nil {
			return nil, err
		}
		er := EpochResult{
			Epoch: epoch, TrainLoss: epochLoss / float64(steps), Valid: val,
			Duration: time.Since(t0), SamplesPerSec: speed(),
		}
		res.Epochs = append(res.Epochs, er)
		if cfg.Progress != nil {
			cfg.Progress(Progress{
				Epoch: epoch, Epochs: cfg.Epochs, Step: steps, Steps: steps, Done: done, Total: total,
				Loss: er.TrainLoss, SamplesPerSec: speed(), Elapsed: time.Since(start), ETA: eta(),
				EpochEnd: true, Valid: val,
			})
		}
		scores := map[string]string{
			"valid_top1": strconv.FormatFloat(val.Top1, 'f', 5, 64),
			"valid_top5": strconv.FormatFloat(val.Top5, 'f', 5, 64),
		}
		if err := save(epoch, scores); err != nil {
			return nil, err
		}
		if val.Top1 > best {
			best, res.BestEpoch = val.Top1, epoch
			if err := saveTo(cfg.BestOut, epoch, scores); err != nil {
				return nil, err
			}
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
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
