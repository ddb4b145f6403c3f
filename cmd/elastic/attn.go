package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/elasticml/elastic/attn"
	"github.com/elasticml/elastic/nn"
)

func newAttn(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attn",
		Short: "Train and evaluate the dense transformers of the attention tasks (ListOps, Text, Retrieval, Image)",
	}
	cmd.AddCommand(newAttnTrain(stdout, stderr), newAttnEval(stdout), newAttnMACs(stdout))
	return cmd
}

type attnTrainFlags struct {
	task                            string
	layers, heads, dim, ffn, hidden int
	length, minLength               int
	examples                        []int
	steps, epochs, batch, warmup    int
	lr, decay, dropout              float64
	seed, dataSeed                  uint64
	validEvery, validLimit          int
	threads, logEvery               int
	out, best, kjv, fmnist          string
	resume, asJSON                  bool
	maxMinutes, ckptMin             float64
	dsa                             attnDSAFlags
	init                            string
}

// attnSavedFlags are the flags a checkpoint fixes; --resume refuses them.
var attnSavedFlags = []string{"task", "layers", "heads", "dim", "ffn", "hidden", "length", "min-length", "examples",
	"batch", "lr", "warmup", "weight-decay", "dropout", "seed", "data-seed", "valid-every", "valid-limit",
	"dsa-mode", "keep", "sparsity", "top-k", "threshold", "block", "sigma", "bits", "dsa-seed", "lambda"}

func newAttnTrain(stdout, stderr io.Writer) *cobra.Command {
	var f attnTrainFlags
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a task's dense transformer classifier with AdamW",
		Long: `train fits a pre-norm transformer encoder (token and learned positional
embeddings, mean pooling, an MLP head; for retrieval one shared encoder over both
passages and a head over [u, v, u⊙v, u−v]) to one of the four attention tasks:

  listops    LRA's ListOps grammar, generated with --data-seed (no data package)
  text       6-way genre of 1024-byte KJV passages, book-disjoint (bible-kjv-text)
  retrieval  same book or not, KJV passage pairs (bible-kjv-text)
  image      Fashion-MNIST as 784-pixel sequences (dataset-fashion-mnist)

Every model and recipe flag left unset takes the task's planned value
(docs/results/attention-tasks.md). Training is AdamW with decoupled weight
decay, a linear warm-up of --warmup steps and rsqrt decay; every --valid-every
steps the first --valid-limit validation examples are scored. The checkpoint
(safetensors: weights, AdamW moments, the configuration in its metadata) goes
to --out after every validation, every --checkpoint-minutes and when
--max-minutes or Ctrl-C stops the run; --resume continues from it and repeats
the uninterrupted run (the same --threads). The best-validation weights go to
--best. attn eval reports the test accuracy of either file.

With --dsa-mode every attention layer is dynamic sparse (thesis chapter 7;
the mask flags as for attn eval), and with --dsa-mode predicted and --lambda
the loss is the joint loss of eq. 7.7, which trains the predictors; the
checkpoint then holds them. --init starts from a trained checkpoint's weights
(model adaptation: fine-tune a dense model with DSA; the predictors start
from --dsa-seed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAttnTrain(cmd, stdout, stderr, f)
		},
	}
	fl := cmd.Flags()
	choiceFlag(fl, &f.task, "task", "", attn.Tasks, "the task (required unless --resume)")
	plan := " (default: the task's plan)"
	intFlag(fl, &f.layers, "layers", 0, atLeast(1), "encoder layers"+plan)
	intFlag(fl, &f.heads, "heads", 0, atLeast(1), "attention heads, dividing --dim"+plan)
	intFlag(fl, &f.dim, "dim", 0, atLeast(1), "model width d"+plan)
	intFlag(fl, &f.ffn, "ffn", 0, atLeast(1), "feed-forward hidden width"+plan)
	intFlag(fl, &f.hidden, "hidden", 0, atLeast(1), "classifier head's hidden width"+plan)
	intFlag(fl, &f.length, "length", 0, atLeast(1), "longest sequence: ListOps expression tokens, Text/Retrieval passage bytes, Image 784"+plan)
	intFlag(fl, &f.minLength, "min-length", 0, atLeast(1), "shortest ListOps expression"+plan)
	intsFlag(fl, &f.examples, "examples", nil, atLeast(1), "ListOps expressions or Retrieval pairs in train,valid,test (default: lra's)")
	intFlag(fl, &f.steps, "steps", 0, atLeast(1), "training steps, rounded up to a multiple of --valid-every"+plan)
	intFlag(fl, &f.epochs, "epochs", 0, atLeast(1), "passes over the training split, instead of --steps")
	intFlag(fl, &f.batch, "batch", 0, atLeast(1), "sequences (pairs) per step"+plan)
	floatFlag(fl, &f.lr, "lr", 0, above(0), "peak learning rate"+plan)
	intFlag(fl, &f.warmup, "warmup", 0, atLeast(0), "linear warm-up steps"+plan)
	floatFlag(fl, &f.decay, "weight-decay", 0, atLeast(0), "AdamW decoupled weight decay"+plan)
	floatFlag(fl, &f.dropout, "dropout", 0, unitLeft(), "dropout on embeddings, attention and FFN outputs"+plan)
	fl.Uint64Var(&f.seed, "seed", 1, "seed of initialisation, example order and dropout")
	fl.Uint64Var(&f.dataSeed, "data-seed", 1, "seed of the data set (ListOps generator, KJV balancing and pairs)")
	intFlag(fl, &f.validEvery, "valid-every", 0, atLeast(1), "steps between validations"+plan)
	intFlag(fl, &f.validLimit, "valid-limit", 0, atLeast(1), "validation examples scored each time"+plan)
	fl.StringVar(&f.out, "out", "attn.safetensors", "checkpoint file")
	fl.StringVar(&f.best, "best", "", "file for the best-validation weights (default: --out with .best before the extension; \"-\" for none)")
	fl.BoolVar(&f.resume, "resume", false, "continue training from the checkpoint at --out (--steps may extend it)")
	floatFlag(fl, &f.maxMinutes, "max-minutes", 0, above(0), "stop cleanly with a checkpoint after this many minutes (default: no limit)")
	floatFlag(fl, &f.ckptMin, "checkpoint-minutes", 10, atLeast(0), "minutes between mid-round checkpoints (0: only after validations)")
	intFlag(fl, &f.logEvery, "log-every", 10, atLeast(1), "steps between progress lines when stderr is not a terminal")
	fl.StringVar(&f.kjv, "kjv", "", "bible.data of bible-kjv-text (default /usr/lib/bible.data)")
	fl.StringVar(&f.fmnist, "fmnist", "", "Fashion-MNIST directory of dataset-fashion-mnist (default /usr/share/datasets/fashion-mnist)")
	threadsFlag(fl, &f.threads)
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	addDSAFlags(fl, &f.dsa, true)
	fl.StringVar(&f.init, "init", "", "start from this checkpoint's weights, of the same model shape (default: initialise from --seed)")
	return cmd
}

// attnConfig turns the flags into a Config: the task's plan, overridden
// by every flag given; with --resume only the run's own flags.
func attnConfig(cmd *cobra.Command, f attnTrainFlags) (attn.Config, error) {
	changed := cmd.Flags().Changed
	if f.out == "" {
		return attn.Config{}, errors.New("--out: empty path")
	}
	if f.seed == 0 || f.dataSeed == 0 {
		return attn.Config{}, errors.New("--seed and --data-seed must be positive")
	}
	if changed("steps") && changed("epochs") {
		return attn.Config{}, errors.New("--steps and --epochs: give one")
	}
	var c attn.Config
	if f.resume {
		for _, n := range attnSavedFlags {
			if changed(n) {
				return attn.Config{}, fmt.Errorf("--%s: the checkpoint at --out fixes it; --resume takes only run flags", n)
			}
		}
		if _, err := os.Stat(f.out); err != nil {
			return attn.Config{}, fmt.Errorf("--resume: no checkpoint at %s: %w", f.out, err)
		}
		c.Resume = f.out
	} else {
		if f.task == "" {
			return attn.Config{}, fmt.Errorf("--task is required: one of %s", strings.Join(attn.Tasks, ", "))
		}
		var err error
		if c, err = attn.Plan(f.task); err != nil {
			return attn.Config{}, err
		}
		set := func(name string, dst, v *int) {
			if changed(name) {
				*dst = *v
			}
		}
		set("layers", &c.Layers, &f.layers)
		set("heads", &c.Heads, &f.heads)
		set("dim", &c.Dim, &f.dim)
		set("ffn", &c.FFN, &f.ffn)
		set("hidden", &c.Hidden, &f.hidden)
		set("length", &c.Length, &f.length)
		set("min-length", &c.MinLength, &f.minLength)
		set("batch", &c.Batch, &f.batch)
		set("warmup", &c.Warmup, &f.warmup)
		set("valid-every", &c.ValidEvery, &f.validEvery)
		set("valid-limit", &c.ValidLimit, &f.validLimit)
		if changed("lr") {
			c.LR = f.lr
		}
		if changed("weight-decay") {
			c.Decay = f.decay
		}
		if changed("dropout") {
			c.Dropout = f.dropout
		}
		if changed("examples") {
			if len(f.examples) != 3 {
				return attn.Config{}, fmt.Errorf("--examples: want three counts train,valid,test, got %d", len(f.examples))
			}
			c.Examples = [3]int(f.examples)
		}
		c.Seed, c.DataSeed = f.seed, f.dataSeed
		if c.Sparse, err = f.dsa.config(cmd); err != nil {
			return attn.Config{}, err
		}
		c.Init = f.init
		c.Steps = 0 // the plan's unless given below; a resumed run keeps its own
		if !changed("epochs") {
			p, _ := attn.Plan(f.task)
			c.Steps = p.Steps
		}
	}
	if changed("steps") {
		c.Steps = f.steps
	}
	if changed("epochs") {
		c.Epochs = f.epochs
	}
	c.Threads = f.threads
	c.Data = attn.DataPaths{KJV: f.kjv, FMNIST: f.fmnist}
	c.Control = runControl(f.out, bestPath(f.out, f.best), f.maxMinutes, f.ckptMin, f.logEvery)
	return c, nil
}

func runAttnTrain(cmd *cobra.Command, stdout, stderr io.Writer, f attnTrainFlags) error {
	c, err := attnConfig(cmd, f)
	if err != nil {
		return err
	}
	c.Progress = trainProgress(stderr, &c.LogEvery, formatAttnProgress, attnBar)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	res, err := attn.Train(ctx, c)
	if err != nil {
		return err
	}
	if f.asJSON {
		return writeJSON(stdout, res)
	}
	rc := res.Config
	fmt.Fprintf(stdout, "%s: %d layers, %d heads, d %d, FFN %d, length %d; %d steps of %d in %.0f s\n",
		rc.Task, rc.Layers, rc.Heads, rc.Dim, rc.FFN, rc.Length, res.Steps, rc.Batch, res.Elapsed.Seconds())
	for _, r := range res.Rounds {
		fmt.Fprintf(stdout, "step %6d  loss %.4f  valid accuracy %.2f%%\n", r.Step, r.Loss, 100*r.Valid)
	}
	if res.Stopped {
		fmt.Fprintln(stdout, "stopped early; continue with --resume")
	}
	if res.Best >= 0 {
		fmt.Fprintf(stdout, "best validation accuracy %.2f%%\n", 100*res.Best)
	}
	_, err = fmt.Fprintf(stdout, "checkpoint %s\n", c.Out)
	return err
}

func formatAttnProgress(p attn.Progress) string {
	if p.RoundEnd {
		return fmt.Sprintf("round %d/%d: loss %.4f, valid accuracy %.2f%% (best %.2f%%), %.1f seq/s, ETA %s",
			p.Round, p.Rounds, p.Loss, 100*p.Valid, 100*p.Best, p.SeqPerSec, p.ETA.Round(time.Second))
	}
	return fmt.Sprintf("round %d/%d step %d/%d: loss %.4f, lr %.3g, %.1f seq/s, ETA %s",
		p.Round, p.Rounds, p.Step, p.Steps, p.Loss, p.LR, p.SeqPerSec, p.ETA.Round(time.Second))
}

func attnBar(p attn.Progress) (int, int, bool, string) {
	return p.Total, p.Done, p.RoundEnd, fmt.Sprintf("round %d/%d loss %.3f %.1f seq/s ETA %s",
		p.Round, p.Rounds, p.Loss, p.SeqPerSec, p.ETA.Round(time.Second))
}

// attnDSAFlags are attn eval's dynamic sparse attention flags.
type attnDSAFlags struct {
	mode                                  string
	keep, sparsity, threshold, sg, lambda float64
	topK, block, bits                     int
	seed                                  uint64
}

// dsaFlagNames are the flags that only make sense with --dsa-mode.
var dsaFlagNames = []string{"keep", "sparsity", "top-k", "threshold", "block", "sigma", "bits", "dsa-seed", "lambda"}

// addDSAFlags registers the DSA flags on attn train (with --lambda) or
// attn eval.
func addDSAFlags(fl *pflag.FlagSet, dsa *attnDSAFlags, train bool) {
	choiceFlag(fl, &dsa.mode, "dsa-mode", "", []string{"oracle", "predicted"}, "dynamic sparse attention masks (default: dense attention)")
	floatFlag(fl, &dsa.keep, "keep", 0, unitRight(), "fraction of keys each query row keeps")
	floatFlag(fl, &dsa.sparsity, "sparsity", 0, unitLeft(), "fraction of keys each query row drops, instead of --keep")
	intFlag(fl, &dsa.topK, "top-k", 0, atLeast(1), "keys each query row keeps, instead of --keep")
	floatFlag(fl, &dsa.threshold, "threshold", 0, unitOpen(), "keep keys of softmax probability at least θ (oracle only), instead of --keep")
	intFlag(fl, &dsa.block, "block", 1, oneOf(1, 4, 8), "keys selected in aligned groups of this many")
	floatFlag(fl, &dsa.sg, "sigma", 0.25, unitRight(), "predictor width k_p/d_head (predicted only)")
	intFlag(fl, &dsa.bits, "bits", 32, oneOf(2, 4, 8, 32), "predictor precision; 4 and 2 quantize in Go, no fast kernel (predicted only)")
	fl.Uint64Var(&dsa.seed, "dsa-seed", 1, "seed of the predictor's projection and weights")
	if train {
		floatFlag(fl, &dsa.lambda, "lambda", 0, atLeast(0), "λ of the joint loss CE + λ·Σ MSE(S, S̃) training the predictor (predicted only)")
	}
}

// config turns the flags into an nn.DSA, nil when --dsa-mode is not given.
func (f attnDSAFlags) config(cmd *cobra.Command) (*nn.DSA, error) {
	changed := cmd.Flags().Changed
	if f.mode == "" {
		for _, n := range dsaFlagNames {
			if changed(n) {
				return nil, fmt.Errorf("--%s needs --dsa-mode oracle or predicted", n)
			}
		}
		return nil, nil
	}
	mode, err := nn.ParseDSAMode(f.mode)
	if err != nil {
		return nil, err
	}
	given := 0
	for _, n := range []string{"keep", "sparsity", "top-k", "threshold"} {
		if changed(n) {
			given++
		}
	}
	if given != 1 {
		return nil, errors.New("--dsa-mode: give exactly one of --keep, --sparsity, --top-k and --threshold")
	}
	c := &nn.DSA{Mode: mode, Keep: f.keep, TopK: f.topK, Threshold: f.threshold, Block: f.block, Seed: f.seed}
	if changed("sparsity") {
		if c.Keep, err = nn.KeepForSparsity(f.sparsity); err != nil {
			return nil, fmt.Errorf("--sparsity: %w", err)
		}
	}
	if mode == nn.DSAPredicted {
		c.Sigma, c.Bits, c.Lambda = f.sg, f.bits, f.lambda
	} else if changed("sigma") || changed("bits") || changed("lambda") {
		return nil, errors.New("--sigma, --bits and --lambda concern the predictor: --dsa-mode predicted only")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func newAttnEval(stdout io.Writer) *cobra.Command {
	var (
		model, split, kjv, fmnist, masks string
		threads, batch, maskExamples     int
		asJSON                           bool
		dsa                              attnDSAFlags
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Report a checkpoint's accuracy on its task's test split",
		Long: `eval loads a checkpoint written by attn train, rebuilds its task's data from the
configuration the checkpoint holds (the same data seed gives the same data) and
reports the accuracy on the whole split.

With --dsa-mode every attention layer runs dynamic sparse attention (thesis
chapter 7) without fine-tuning, as in Table 7.1: each query row keeps --keep
of its keys (or 1 − --sparsity, or --top-k keys, in groups of --block), or
with --threshold the keys whose softmax probability reaches θ, and the kept
probabilities are renormalised (eq. 7.4). oracle selects from the exact
scores; predicted from a predictor Q̃K̃ᵀ (eq. 7.5) of size --sigma and
precision --bits, untrained, initialised from --dsa-seed. A checkpoint
trained with --dsa-mode is always scored with its own masks and trained
predictors, and refuses --dsa-mode here. The output reports the realised
sparsity. --masks writes the masks of the split's first --mask-examples
examples to a mask file (docs/results/dsa.md) for the simulators.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sparse, err := dsa.config(cmd)
			if err != nil {
				return err
			}
			e, err := attn.Evaluate(model, attn.EvalOptions{Split: split, Threads: threads, Batch: batch,
				Data: attn.DataPaths{KJV: kjv, FMNIST: fmnist}, Sparse: sparse, Masks: masks, MaskExamples: maskExamples})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, e)
			}
			if _, err = fmt.Fprintf(stdout, "%s on %s (%d examples): accuracy %.2f%%\n", e.Config.Task, e.Split, e.Examples, 100*e.Accuracy); err != nil {
				return err
			}
			if s := e.Sparse; s != nil {
				_, err = fmt.Fprintf(stdout, "dynamic sparse attention (%s, block %d): sparsity %.2f%% (%d of %d entries kept)\n",
					s.Mode, s.Block, 100*s.Sparsity, s.Kept, s.Total)
			}
			if err == nil && e.Masks != "" {
				_, err = fmt.Fprintf(stdout, "masks of the first %d examples written to %s\n", e.MaskExamples, e.Masks)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "attn.safetensors", "checkpoint written by attn train")
	choiceFlag(fl, &split, "split", "test", []string{"train", "valid", "test"}, "split to score")
	intFlag(fl, &batch, "batch", 0, atLeast(1), "sequences per forward pass (default: the training batch)")
	fl.StringVar(&kjv, "kjv", "", "bible.data of bible-kjv-text (default /usr/lib/bible.data)")
	fl.StringVar(&fmnist, "fmnist", "", "Fashion-MNIST directory of dataset-fashion-mnist (default /usr/share/datasets/fashion-mnist)")
	threadsFlag(fl, &threads)
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	fl.StringVar(&masks, "masks", "", "write the DSA masks of the split's first --mask-examples examples to this file (sparse.Masks, for the simulators)")
	intFlag(fl, &maskExamples, "mask-examples", 4, atLeast(1), "examples whose masks --masks writes")
	addDSAFlags(fl, &dsa, false)
	return cmd
}
