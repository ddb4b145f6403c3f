package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/wordnet"
)

func newWN(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wn",
		Short: "Train and evaluate a 117,659-class WordNet synset classifier",
	}
	cmd.AddCommand(newWNTrain(stdout, stderr), newWNEval(stdout, stderr))
	return cmd
}

// wnDataFlags are the data-set options shared by train and eval.
type wnDataFlags struct {
	dir          string
	splitSeed    uint64
	lemmaSamples bool
}

func (f *wnDataFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "data", "", "WordNet directory (default "+wordnet.DefaultDir+")")
	cmd.Flags().Uint64Var(&f.splitSeed, "split-seed", 1, "seed of the held-out split")
	cmd.Flags().BoolVar(&f.lemmaSamples, "lemma-samples", true, "add each synset word alone as a training sample")
}

func (f *wnDataFlags) load() (*wordnet.Dataset, error) {
	if f.splitSeed == 0 {
		return nil, errors.New("--split-seed must be positive")
	}
	return wordnet.LoadDataset(wordnet.Options{Dir: f.dir, Seed: f.splitSeed, LemmaSamples: f.lemmaSamples})
}

type wnTrainFlags struct {
	dim         int
	epochs      int
	batch       int
	negatives   int
	lr          float64
	wordDropout float64
	senses      int
	seed        uint64
	out         string
	best        string
	maxMinutes  float64
	ckptMin     float64
	logEvery    int
	threads     int
	asJSON      bool
}

func newWNTrain(stdout, stderr io.Writer) *cobra.Command {
	var f wnTrainFlags
	var df wnDataFlags
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train the synset classifier with sampled softmax and Adagrad",
		Long: `train fits an embedding bag → tanh → 117,659-way softmax classifier that
predicts a WordNet synset from its definition or an example sentence with the
synset's own words removed. Training uses sampled softmax (the batch's classes
plus --negatives uniform draws, with the logQ correction; --negatives -1 for the
full softmax) and sparse Adagrad; validation after each epoch uses the full
classifier. The checkpoint (safetensors: encoder.weight, hidden.weight,
hidden.bias, decoder.weight, decoder.bias) goes to --out after every epoch,
every --checkpoint-minutes and when --max-minutes or Ctrl-C stops the run; the
weights with the best validation top-1 accuracy go to --best.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWNTrain(cmd.Context(), stdout, stderr, f, df)
		},
	}
	fl := cmd.Flags()
	intFlag(fl, &f.dim, "dim", 256, atLeast(1), "embedding and hidden width")
	intFlag(fl, &f.epochs, "epochs", 10, atLeast(1), "epochs")
	intFlag(fl, &f.batch, "batch", 256, atLeast(1), "samples per step")
	intFlag(fl, &f.negatives, "negatives", 2048, domain{lo: 1, hi: math.Inf(1), hiOpen: true, also: []float64{-1}}, "sampled negative classes per step (-1: full softmax)")
	floatFlag(fl, &f.lr, "lr", 0.2, above(0), "Adagrad learning rate")
	floatFlag(fl, &f.wordDropout, "word-dropout", 0, unitLeft(), "probability of dropping each training word")
	intFlag(fl, &f.senses, "senses", 0, atLeast(0), "add up to this many other senses of each target's words to the candidates (0: none)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed for initialisation, shuffling and sampling")
	fl.StringVar(&f.out, "out", "wordnet.safetensors", "checkpoint file")
	fl.StringVar(&f.best, "best", "", "file for the best-validation weights (default: --out with .best before the extension; \"-\" for none)")
	floatFlag(fl, &f.maxMinutes, "max-minutes", 0, above(0), "stop cleanly with a checkpoint after this many minutes (default: no limit)")
	floatFlag(fl, &f.ckptMin, "checkpoint-minutes", 10, atLeast(0), "minutes between mid-epoch checkpoints (0: only at epoch ends)")
	intFlag(fl, &f.logEvery, "log-every", 50, atLeast(1), "steps between progress lines when stderr is not a terminal")
	threadsFlag(fl, &f.threads)
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	df.add(cmd)
	return cmd
}

func (f *wnTrainFlags) check() error {
	// The numeric flags are checked by their domains when parsed.
	switch {
	case f.seed == 0:
		return errors.New("--seed must be positive")
	case f.out == "":
		return errors.New("--out: empty path")
	}
	return nil
}

// wnTrainResult is the JSON form of a training run.
type wnTrainResult struct {
	Model         string                `json:"model"`
	Out           string                `json:"out"`
	Best          string                `json:"best,omitempty"`
	BestEpoch     int                   `json:"best_epoch"`
	Epochs        []wordnet.EpochResult `json:"epochs"`
	Stopped       bool                  `json:"stopped"`
	Samples       int                   `json:"samples"`
	Seconds       float64               `json:"seconds"`
	SamplesPerSec float64               `json:"samples_per_sec"`
}

func runWNTrain(ctx context.Context, stdout, stderr io.Writer, f wnTrainFlags, df wnDataFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	best := bestPath(f.out, f.best)
	d, err := df.load()
	if err != nil {
		return err
	}
	cfg := wordnet.Config{Vocab: len(d.Vocab), Dim: f.dim, Classes: d.Classes()}
	m, err := wordnet.New(cfg, f.seed)
	if err != nil {
		return err
	}
	pool := kernels.NewPool(f.threads)
	defer pool.Close()
	m.SetPool(pool)

	tc := wordnet.TrainConfig{
		Epochs: f.epochs, Batch: f.batch, Negatives: f.negatives, LR: f.lr,
		WordDropout: f.wordDropout, Seed: f.seed,
		Control: runControl(f.out, best, f.maxMinutes, f.ckptMin, f.logEvery),
		Meta:    d.Meta(),
	}
	if f.senses > 0 {
		tc.Related = d.Senses(f.senses)
	}
	tc.Progress = trainProgress(stderr, &tc.LogEvery, formatWNProgress, wnBar)
	fmt.Fprintf(stderr, "training %v on %d samples, validating on %d\n", cfg, d.Train.Len(), d.Valid.Len())

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	res, err := wordnet.Train(ctx, m, d.Train, d.Valid, tc)
	if err != nil {
		return err
	}
	out := wnTrainResult{
		Model: cfg.String(), Out: f.out, Best: best, BestEpoch: res.BestEpoch, Epochs: res.Epochs, Stopped: res.Stopped,
		Samples: res.Samples, Seconds: res.Elapsed.Seconds(),
		SamplesPerSec: float64(res.Samples) / max(res.Elapsed.Seconds(), 1e-9),
	}
	if f.asJSON {
		return writeJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "model %s, %d samples in %.0f s (%.0f samples/s)\n", out.Model, out.Samples, out.Seconds, out.SamplesPerSec)
	for _, e := range out.Epochs {
		fmt.Fprintf(stdout, "epoch %3d  sampled loss %.3f  valid top-1 %.2f%% top-5 %.2f%% loss %.3f  %5.0f s\n",
			e.Epoch, e.TrainLoss, 100*e.Valid.Top1, 100*e.Valid.Top5, e.Valid.Loss, e.Duration.Seconds())
	}
	if out.Stopped {
		fmt.Fprintln(stdout, "stopped early")
	}
	if out.Best != "" && out.BestEpoch > 0 {
		fmt.Fprintf(stdout, "best validation top-1 at epoch %d saved to %s\n", out.BestEpoch, out.Best)
	}
	_, err = fmt.Fprintf(stdout, "checkpoint %s\n", out.Out)
	return err
}

func formatWNProgress(p wordnet.Progress) string {
	if p.EpochEnd {
		return fmt.Sprintf("epoch %d/%d done: sampled loss %.3f, valid top-1 %.2f%% top-5 %.2f%% loss %.3f, %.0f samples/s, ETA %s",
			p.Epoch, p.Epochs, p.Loss, 100*p.Valid.Top1, 100*p.Valid.Top5, p.Valid.Loss, p.SamplesPerSec, p.ETA.Round(time.Second))
	}
	return fmt.Sprintf("epoch %d/%d step %d/%d: sampled loss %.3f, %.0f samples/s, ETA %s",
		p.Epoch, p.Epochs, p.Step, p.Steps, p.Loss, p.SamplesPerSec, p.ETA.Round(time.Second))
}

// wnBar is the progress bar's state and description of a report.
func wnBar(p wordnet.Progress) (int, int, bool, string) {
	return p.Total, p.Done, p.EpochEnd, fmt.Sprintf("epoch %d/%d loss %.2f %.0f samples/s ETA %s",
		p.Epoch, p.Epochs, p.Loss, p.SamplesPerSec, p.ETA.Round(time.Second))
}

// wnEvalResult is the JSON form of an evaluation.
type wnEvalResult struct {
	Model   string  `json:"model"`
	Split   string  `json:"split"`
	Classes int     `json:"classes"`
	Samples int     `json:"samples"`
	Top1    float64 `json:"top1"`
	Top5    float64 `json:"top5"`
	Loss    float64 `json:"loss"`
	Seconds float64 `json:"seconds"`
}

func newWNEval(stdout, stderr io.Writer) *cobra.Command {
	var (
		model, split string
		threads      int
		asJSON       bool
		df           wnDataFlags
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Report the full classifier's top-1/top-5 accuracy on a split",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, meta, err := wordnet.LoadModel(model)
			if err != nil {
				return err
			}
			d, err := df.load()
			if err != nil {
				return err
			}
			if err := d.Check(m, meta); err != nil {
				return fmt.Errorf("%s: %w", model, err)
			}
			sp, err := d.Split(split)
			if err != nil {
				return err
			}
			pool := kernels.NewPool(threads)
			defer pool.Close()
			m.SetPool(pool)
			t0 := time.Now()
			met, err := m.Evaluate(sp)
			if err != nil {
				return err
			}
			r := wnEvalResult{m.Config().String(), split, d.Classes(), met.Samples, met.Top1, met.Top5, met.Loss, time.Since(t0).Seconds()}
			if asJSON {
				return writeJSON(stdout, r)
			}
			_, err = fmt.Fprintf(stdout, "%s on %s (%d samples): top-1 %.2f%%, top-5 %.2f%%, loss %.3f (%.1f s)\n",
				r.Model, r.Split, r.Samples, 100*r.Top1, 100*r.Top5, r.Loss, r.Seconds)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "wordnet.safetensors", "model file written by wn train")
	fl.StringVar(&split, "split", "test", "split to evaluate: train, valid or test")
	threadsFlag(fl, &threads)
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	df.add(cmd)
	return cmd
}
