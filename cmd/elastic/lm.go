package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
)

func newLM(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lm",
		Short: "Train and evaluate word-level LSTM/GRU language models on the KJV corpus",
	}
	cmd.AddCommand(newLMTrain(stdout, stderr), newLMEval(stdout, stderr))
	cmd.AddCommand(newLMExport(stdout, stderr))
	return cmd
}

// corpusFlags are the corpus options shared by train and eval.
type corpusFlags struct {
	data     string
	minCount int
}

func (c *corpusFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.data, "data", "", "bible.data file (default "+corpus.DefaultPath+")")
	intFlag(cmd.Flags(), &c.minCount, "min-count", 0, atLeast(1), "training count a word needs to enter the vocabulary (default: the corpus default)")
}

// check refuses a --data path that load would refuse, without reading it,
// so that a command can check it before it loads a model.
func (c *corpusFlags) check() error { return corpus.CheckData(c.data) }

func (c *corpusFlags) load() (*corpus.Corpus, error) {
	return corpus.Load(corpus.Options{Path: c.data, MinCount: c.minCount})
}

// vocabKey is the checkpoint metadata key holding vocabFingerprint.
const vocabKey = "corpus_vocab"

// vocabFingerprint identifies a vocabulary, so a model is never run on
// token ids that mean other words.
func vocabFingerprint(v *corpus.Vocab) string {
	sum := sha256.Sum256([]byte(strings.Join(v.Words(), "\n")))
	return hex.EncodeToString(sum[:8])
}

func checkVocab(path string, extra map[string]string, v *corpus.Vocab) error {
	if fp, ok := extra[vocabKey]; ok && fp != vocabFingerprint(v) {
		return fmt.Errorf("%s was trained on another vocabulary (fingerprint %s, corpus gives %s): %w",
			path, fp, vocabFingerprint(v), lm.ErrMismatch)
	}
	return nil
}

type lmTrainFlags struct {
	cell       string
	hidden     int
	emb        int
	layers     int
	tied       bool
	dropout    float64
	seed       uint64
	epochs     int
	lr         float64
	bptt       int
	batch      int
	evalBatch  int
	clip       float64
	out        string
	best       string
	resume     bool
	maxMinutes float64
	ckptMin    float64
	logEvery   int
	threads    int
	asJSON     bool
}

func newLMTrain(stdout, stderr io.Writer) *cobra.Command {
	var f lmTrainFlags
	var cf corpusFlags
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a language model with PyTorch word_language_model's recipe",
		Long: `train fits an embedding → LSTM/GRU → dropout → linear model to the KJV training
books with truncated BPTT, SGD, gradient clipping and learning-rate annealing
(÷4 when validation loss does not improve), as PyTorch's word_language_model.

A checkpoint (safetensors with PyTorch state-dict names plus training metadata)
is written to --out after every epoch, every --checkpoint-minutes and when
--max-minutes or Ctrl-C stops the run; --resume continues from it. The weights
with the best validation loss go to --best.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("dropout") && f.hidden >= 650 {
				f.dropout = 0.5 // the example's large model
			}
			return runLMTrain(cmd.Context(), stdout, stderr, f, cf)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cell, "cell", "lstm", "recurrent cell: lstm or gru")
	intFlag(fl, &f.hidden, "hidden", 200, atLeast(1), "units per recurrent layer")
	intFlag(fl, &f.emb, "emb", 0, atLeast(1), "embedding width (default: same as --hidden)")
	intFlag(fl, &f.layers, "layers", 2, atLeast(1), "recurrent layers")
	fl.BoolVar(&f.tied, "tied", false, "tie the decoder weight to the embedding (needs emb == hidden)")
	floatFlag(fl, &f.dropout, "dropout", 0.2, unitLeft(), "dropout probability (default 0.5 when --hidden >= 650)")
	fl.Uint64Var(&f.seed, "seed", 1111, "seed for initialisation and dropout")
	intFlag(fl, &f.epochs, "epochs", 40, atLeast(1), "epochs")
	floatFlag(fl, &f.lr, "lr", 20, above(0), "initial learning rate")
	intFlag(fl, &f.bptt, "bptt", 35, atLeast(1), "truncated BPTT window, steps")
	intFlag(fl, &f.batch, "batch", 20, atLeast(1), "training batch columns")
	intFlag(fl, &f.evalBatch, "eval-batch", 10, atLeast(1), "validation batch columns")
	floatFlag(fl, &f.clip, "clip", 0.25, above(0), "gradient-norm bound")
	fl.StringVar(&f.out, "out", "model.safetensors", "checkpoint file")
	fl.StringVar(&f.best, "best", "", "file for the best-validation weights (default: --out with .best before the extension; \"-\" for none)")
	fl.BoolVar(&f.resume, "resume", false, "continue training from the checkpoint at --out")
	floatFlag(fl, &f.maxMinutes, "max-minutes", 0, above(0), "stop cleanly with a checkpoint after this many minutes (default: no limit)")
	floatFlag(fl, &f.ckptMin, "checkpoint-minutes", 10, atLeast(0), "minutes between mid-epoch checkpoints (0: only at epoch ends)")
	intFlag(fl, &f.logEvery, "log-every", 200, atLeast(1), "batches between progress lines when stderr is not a terminal")
	threadsFlag(fl, &f.threads)
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	cf.add(cmd)
	return cmd
}

func (f *lmTrainFlags) check() (lm.Config, error) {
	cell, err := nn.ParseCell(f.cell)
	if err != nil {
		return lm.Config{}, fmt.Errorf("--cell: %w", err)
	}
	// The numeric flags are checked by their domains when parsed.
	if f.out == "" {
		return lm.Config{}, errors.New("--out: empty path")
	}
	cfg := lm.Config{Cell: cell, Emb: f.emb, Hidden: f.hidden, Layers: f.layers, Tied: f.tied, Dropout: f.dropout, Vocab: 1}
	if err := cfg.Validate(); err != nil {
		return lm.Config{}, err
	}
	return cfg, nil
}

// lmTrainResult is the JSON form of a training run.
type lmTrainResult struct {
	Model        string           `json:"model"`
	Out          string           `json:"out"`
	Best         string           `json:"best,omitempty"`
	Epochs       []lm.EpochResult `json:"epochs"`
	BestValLoss  float64          `json:"best_val_loss"`
	BestValPPL   float64          `json:"best_val_ppl"`
	Stopped      bool             `json:"stopped"`
	ValLoss      float64          `json:"val_loss,omitempty"`
	ValPPL       float64          `json:"val_ppl,omitempty"`
	Tokens       int              `json:"tokens"`
	Seconds      float64          `json:"seconds"`
	TokensPerSec float64          `json:"tokens_per_sec"`
	NextEpoch    int              `json:"next_epoch"`
	NextBatch    int              `json:"next_batch"`
}

func runLMTrain(ctx context.Context, stdout, stderr io.Writer, f lmTrainFlags, cf corpusFlags) error {
	cfg, err := f.check()
	if err != nil {
		return err
	}
	c, err := cf.load()
	if err != nil {
		return err
	}
	cfg.Vocab = c.Vocab.Len()
	best := bestPath(f.out, f.best)

	var m *lm.Model
	var state lm.TrainState
	if f.resume {
		if m, state, err = lm.Load(f.out); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("--resume: no checkpoint at %s", f.out)
			}
			return err
		}
		if got := m.Config(); got.Fingerprint() != cfg.Fingerprint() {
			return fmt.Errorf("--resume: %s holds a %v model, the flags ask for %v: %w", f.out, got, cfg, lm.ErrMismatch)
		}
		if err := checkVocab(f.out, state.Extra, c.Vocab); err != nil {
			return err
		}
	} else if m, err = lm.New(cfg, f.seed); err != nil {
		return err
	}
	pool := kernels.NewPool(f.threads)
	defer pool.Close()
	m.SetPool(pool)

	tc := lm.TrainConfig{
		Epochs: f.epochs, LR: f.lr, BPTT: f.bptt, Batch: f.batch, EvalBatch: f.evalBatch, Clip: f.clip,
		Control: runControl(f.out, best, f.maxMinutes, f.ckptMin, f.logEvery),
		Extra:   map[string]string{vocabKey: vocabFingerprint(c.Vocab)},
	}
	tc.Progress = trainProgress(stderr, &tc.LogEvery, formatProgress, lmBar)
	tr, err := lm.NewTrainer(m, tc)
	if err != nil {
		return err
	}
	if f.resume {
		tr.Resume(state)
		fmt.Fprintf(stderr, "resuming %v from %s at epoch %d window %d, lr %g\n", m.Config(), f.out, state.Epoch, state.Batch, state.LR)
	} else {
		fmt.Fprintf(stderr, "training %v (dropout %g) on %d tokens, validating on %d\n", m.Config(), cfg.Dropout, len(c.Train), len(c.Valid))
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	res, err := tr.Run(ctx, c.Train, c.Valid)
	if err != nil {
		return err
	}
	out := lmTrainResult{
		Model: m.Config().String(), Out: f.out, Best: best, Epochs: res.Epochs,
		BestValLoss: res.BestVal, BestValPPL: lm.Perplexity(res.BestVal),
		Stopped: res.Stopped, Tokens: res.Tokens, Seconds: res.Elapsed.Seconds(),
		NextEpoch: res.State.Epoch, NextBatch: res.State.Batch,
	}
	if res.Stopped {
		out.ValLoss, out.ValPPL = res.ValLoss, lm.Perplexity(res.ValLoss)
	}
	out.TokensPerSec = float64(res.Tokens) / max(res.Elapsed.Seconds(), 1e-9)
	if math.IsInf(out.BestValLoss, 1) {
		out.BestValLoss, out.BestValPPL = 0, 0 // no epoch finished; JSON has no +Inf
	}
	if f.asJSON {
		return writeJSON(stdout, out)
	}
	return printLMTrain(stdout, out)
}

func printLMTrain(w io.Writer, r lmTrainResult) error {
	fmt.Fprintf(w, "model %s, %d tokens in %.0f s (%.0f tokens/s)\n", r.Model, r.Tokens, r.Seconds, r.TokensPerSec)
	for _, e := range r.Epochs {
		fmt.Fprintf(w, "epoch %3d  lr %-8g train loss %.3f (ppl %8.2f)  valid loss %.3f (ppl %8.2f)  %5.0f s\n",
			e.Epoch, e.LR, e.TrainLoss, lm.Perplexity(e.TrainLoss), e.ValLoss, lm.Perplexity(e.ValLoss), e.Duration.Seconds())
	}
	if r.Stopped {
		fmt.Fprintf(w, "stopped early at epoch %d window %d: valid loss %.3f (ppl %.2f); resume with --resume\n",
			r.NextEpoch, r.NextBatch, r.ValLoss, r.ValPPL)
	}
	if r.BestValLoss > 0 {
		fmt.Fprintf(w, "best valid loss %.3f (ppl %.2f)", r.BestValLoss, r.BestValPPL)
		if r.Best != "" {
			fmt.Fprintf(w, " saved to %s", r.Best)
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "checkpoint %s\n", r.Out)
	return err
}

func formatProgress(p lm.Progress) string {
	if p.EpochEnd {
		return fmt.Sprintf("epoch %d/%d done: train loss %.3f, valid loss %.3f (ppl %.2f), next lr %g, %.0f tokens/s, ETA %s",
			p.Epoch, p.Epochs, p.Loss, p.ValLoss, lm.Perplexity(p.ValLoss), p.LR, p.TokensPerSec, p.ETA.Round(time.Second))
	}
	return fmt.Sprintf("epoch %d/%d window %d/%d: loss %.3f (ppl %.2f), lr %g, %.0f tokens/s, ETA %s",
		p.Epoch, p.Epochs, p.Batch, p.Batches, p.Loss, lm.Perplexity(p.Loss), p.LR, p.TokensPerSec, p.ETA.Round(time.Second))
}

// lmBar is the progress bar's state and description of a report.
func lmBar(p lm.Progress) (int, int, bool, string) {
	return p.Total, p.Done, p.EpochEnd, fmt.Sprintf("epoch %d/%d loss %.2f ppl %.0f %.0f tok/s ETA %s",
		p.Epoch, p.Epochs, p.Loss, lm.Perplexity(p.Loss), p.TokensPerSec, p.ETA.Round(time.Second))
}

// lmEvalResult is the JSON form of an evaluation.
type lmEvalResult struct {
	Model      string  `json:"model"`
	Split      string  `json:"split"`
	Tokens     int     `json:"tokens"`
	Loss       float64 `json:"loss"`
	Perplexity float64 `json:"perplexity"`
	Batch      int     `json:"batch"`
	BPTT       int     `json:"bptt"`
	Checksum   string  `json:"checksum"` // "checksum verified" or "checksum absent"
}

func newLMEval(stdout, stderr io.Writer) *cobra.Command {
	var (
		model, split string
		batch, bptt  int
		threads      int
		asJSON       bool
		cf           corpusFlags
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Report a model's perplexity on the validation or test books",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var s corpus.Split
			switch split {
			case "valid":
				s = corpus.Valid
			case "test":
				s = corpus.Test
			default:
				return fmt.Errorf("--split %q: want valid or test", split)
			}
			if err := cf.check(); err != nil {
				return err
			}
			m, state, err := lm.Load(model)
			if err != nil {
				return err
			}
			c, err := corpusForModel(model, m, state, cf)
			if err != nil {
				return err
			}
			pool := kernels.NewPool(threads)
			defer pool.Close()
			m.SetPool(pool)
			stream := c.Stream(s)
			loss, err := m.Evaluate(stream, batch, bptt)
			if err != nil {
				return err
			}
			r := lmEvalResult{m.Config().String(), split, len(stream), loss, lm.Perplexity(loss), batch, bptt, state.Checksum.String()}
			if asJSON {
				return writeJSON(stdout, r)
			}
			_, err = fmt.Fprintf(stdout, "%s on %s (%d tokens): loss %.4f, perplexity %.2f (%s: %s)\n", r.Model, r.Split, r.Tokens, r.Loss, r.Perplexity, model, r.Checksum)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "model.safetensors", "model file (safetensors, elastic or PyTorch state-dict names)")
	fl.StringVar(&split, "split", "test", "split to evaluate: valid or test")
	intFlag(fl, &batch, "batch", 10, atLeast(1), "evaluation batch columns")
	intFlag(fl, &bptt, "bptt", 35, atLeast(1), "window length, steps")
	threadsFlag(fl, &threads)
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cf.add(cmd)
	return cmd
}

// bestPath resolves a trainer's --best flag: empty means --out with .best
// before the extension, "-" means no best-weights file.
func bestPath(out, best string) string {
	switch best {
	case "":
		return strings.TrimSuffix(out, ".safetensors") + ".best.safetensors"
	case "-":
		return ""
	}
	return best
}
