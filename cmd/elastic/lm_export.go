package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/safetensors"
)

// maxFloat16 is the largest finite IEEE binary16 value; larger weights
// would round to infinity.
const maxFloat16 = 65504

type lmExportFlags struct {
	model, out   string
	fp16         bool
	vocab        string
	sample       string
	sampleTokens int
}

func newLMExport(stdout, stderr io.Writer) *cobra.Command {
	var (
		f  lmExportFlags
		cf corpusFlags
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a model's weights for deployment: float16, one copy of a tied table, vocabulary",
		Long: `export rewrites a checkpoint for inference. With --fp16 the weights are stored
as IEEE float16 (F16), half the bytes; a weight beyond float16's range is an
error rather than an infinity. A tied decoder weight is stored once, as
encoder.weight (PyTorch: load with strict=False and tie, or copy it to
decoder.weight). The metadata, training state and vocabulary fingerprint
included, is kept, so lm eval and dmi fit accept the result.

--vocab writes the corpus vocabulary the model was trained on, one word per
line in id order, after checking its fingerprint against the checkpoint;
--sample writes the first --sample-tokens tokens of the test split as text
(one verse per line) for demos. Both read the corpus (--data); with it, export
also evaluates the exported weights on the validation split and records that
loss (export_valid_loss) and the fractional epochs of training (epochs_done)
in the metadata, since the checkpoint's best_val_loss is the training run's
record and need not be these weights'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLMExport(stdout, f, cf)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "model.safetensors", "checkpoint to export")
	fl.StringVar(&f.out, "out", "", "output safetensors file (required)")
	fl.BoolVar(&f.fp16, "fp16", false, "store weights as float16 (default: float32)")
	fl.StringVar(&f.vocab, "vocab", "", "also write the vocabulary to this file, one word per line")
	fl.StringVar(&f.sample, "sample", "", "also write held-out text (start of the test split) to this file")
	intFlag(fl, &f.sampleTokens, "sample-tokens", 5000, atLeast(1), "tokens written by --sample")
	cf.add(cmd)
	return cmd
}

func runLMExport(w io.Writer, f lmExportFlags, cf corpusFlags) error {
	switch {
	case f.out == "":
		return errors.New("--out: no output file given")
	case f.sample != "" && f.sampleTokens < 2:
		return fmt.Errorf("--sample-tokens %d: need at least 2", f.sampleTokens)
	}
	src, err := safetensors.ReadFile(f.model)
	if err != nil {
		return fmt.Errorf("lm export: %w", err)
	}
	m, state, err := lm.FromFile(src)
	if err != nil {
		return fmt.Errorf("lm export: %s: %w", f.model, err)
	}
	cfg := m.Config()
	// Check the corpus before writing anything.
	var c *corpus.Corpus
	if f.vocab != "" || f.sample != "" {
		if c, err = cf.load(); err != nil {
			return err
		}
		if err := checkVocab(f.model, state.Extra, c.Vocab); err != nil {
			return err
		}
		if c.Vocab.Len() != cfg.Vocab {
			return fmt.Errorf("%s has a vocabulary of %d words, the corpus %d: %w", f.model, cfg.Vocab, c.Vocab.Len(), lm.ErrMismatch)
		}
	}
	var ts []safetensors.Tensor
	var before, after int
	for _, t := range m.Tensors() {
		before += len(t.Data)
		if cfg.Tied && t.Name == "decoder.weight" {
			continue // the alias of encoder.weight
		}
		if f.fp16 {
			if t, err = toFloat16(t); err != nil {
				return fmt.Errorf("lm export: %s: %w", f.model, err)
			}
		}
		after += len(t.Data)
		ts = append(ts, t)
	}
	if err := safetensors.WriteFile(f.out, ts, src.Metadata()); err != nil {
		return fmt.Errorf("lm export: %w", err)
	}
	// Read the result back as every consumer will.
	back, _, err := lm.Load(f.out)
	if err != nil {
		return fmt.Errorf("lm export: reading back %s: %w", f.out, err)
	}
	if back.Config().Fingerprint() != cfg.Fingerprint() || back.Config().Tied != cfg.Tied {
		return fmt.Errorf("lm export: %s reads back as %v, not %v: %w", f.out, back.Config(), cfg, lm.ErrMismatch)
	}
	dtype := "float32"
	if f.fp16 {
		dtype = "float16"
	}
	fmt.Fprintf(w, "%s: %v, %s, %.2f MiB of weights (from %.2f MiB), max |rounding error| %.3g\n",
		f.out, cfg, dtype, float64(after)/(1<<20), float64(before)/(1<<20), maxDiff(m, back))
	if c != nil {
		// The checkpoint's best_val_loss is the training run's record, not
		// necessarily of these weights (nor of their float16 rounding):
		// record what the exported weights give, and how far into training
		// they are, for the demo to show.
		meta, msg, err := exportRecord(back, state, c, src.Metadata())
		if err != nil {
			return fmt.Errorf("lm export: %w", err)
		}
		if err := safetensors.WriteFile(f.out, ts, meta); err != nil {
			return fmt.Errorf("lm export: %w", err)
		}
		fmt.Fprintf(w, "%s: %s\n", f.out, msg)
	}

	if f.vocab != "" {
		if err := os.WriteFile(f.vocab, []byte(strings.Join(c.Vocab.Words(), "\n")+"\n"), 0o644); err != nil {
			return fmt.Errorf("lm export: %w", err)
		}
		fmt.Fprintf(w, "%s: %d words (fingerprint %s)\n", f.vocab, c.Vocab.Len(), vocabFingerprint(c.Vocab))
	}
	if f.sample != "" {
		text := c.Sample(f.sampleTokens)
		n := min(f.sampleTokens, len(c.Test))
		if !slices.Equal(c.Vocab.EncodeLines(text), c.Test[:n]) {
			return fmt.Errorf("lm export: the sample text does not encode back to the test tokens")
		}
		if err := os.WriteFile(f.sample, []byte(text), 0o644); err != nil {
			return fmt.Errorf("lm export: %w", err)
		}
		fmt.Fprintf(w, "%s: first %d tokens of the test split\n", f.sample, n)
	}
	return nil
}

// Metadata keys lm export adds: the validation loss of the exported
// weights and the epochs of training they have had.
const (
	exportValidLossKey = "export_valid_loss"
	epochsDoneKey      = "epochs_done"
)

// exportRecord evaluates the exported model on the validation split (lm
// eval's defaults: batch 10, windows of 35) and returns the metadata with
// that loss and the fractional epochs done: the epochs completed plus the
// share of the epoch in progress, counted in windows of lm train's
// default shape (batch 20, 35 steps).
func exportRecord(m *lm.Model, ts lm.TrainState, c *corpus.Corpus, meta map[string]string) (map[string]string, string, error) {
	loss, err := m.Evaluate(c.Valid, 10, 35)
	if err != nil {
		return nil, "", fmt.Errorf("validation: %w", err)
	}
	windows := corpus.Batchify(c.Train, 20).NumWindows(35)
	epochs := float64(ts.Epoch - 1)
	if windows > 0 {
		epochs += float64(ts.Batch) / float64(windows)
	}
	out := maps.Clone(meta)
	out[exportValidLossKey] = strconv.FormatFloat(loss, 'g', -1, 64)
	out[epochsDoneKey] = strconv.FormatFloat(epochs, 'f', 2, 64)
	return out, fmt.Sprintf("validation perplexity %.2f of the exported weights (%d tokens); %.2f epochs of training (epoch %d, window %d of %d)",
		lm.Perplexity(loss), len(c.Valid), epochs, ts.Epoch, ts.Batch, windows), nil
}

// toFloat16 converts a float tensor to F16, refusing values beyond
// float16's range.
func toFloat16(t safetensors.Tensor) (safetensors.Tensor, error) {
	v, err := t.Float32s()
	if err != nil {
		return t, err
	}
	for i, x := range v {
		if math.Abs(float64(x)) > maxFloat16 {
			return t, fmt.Errorf("tensor %q: value %g at %d exceeds float16's range", t.Name, x, i)
		}
	}
	return safetensors.FromFloat16(t.Name, t.Shape, v), nil
}

// maxDiff returns the largest absolute difference between the weights of
// two models of one architecture.
func maxDiff(a, b *lm.Model) float64 {
	var d float64
	pb := b.Params()
	for i, p := range a.Params() {
		for j, v := range p.Data {
			d = max(d, math.Abs(float64(v-pb[i].Data[j])))
		}
	}
	return d
}
