package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
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
(one verse per line) for demos. Both read the corpus (--data).`,
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
