package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/demo"
	"github.com/elasticml/elastic/report"
)

func newDemo(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg    demo.Config
		gen    demo.GenerateConfig
		plot   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole elastic model — dual-module layers and a screened decoder — on the embedded LSTM language model",
		Long: `demo runs the LSTM language model embedded in the binary (trained by lm train
on the KJV training books, float16 weights; little modules from dmi fit; an
INT4 screener of the tied decoder from screen fit) over held-out text (the
start of 1 Samuel) at batch 1 with the state carried, four ways at once: dense,
dual-module layers only, screened decoder only, and both (the elastic model).
Each insensitive ratio of --ratios is one pass that streams every token
through the four models round-robin, each with its own state, so every time is
paired with a dense step taken in the same conditions. It prints perplexity,
ΔPPL, top-1 agreement with the dense model and the median milliseconds per
token of the whole step (embedding, recurrent layers, decoder), both warm
(weights left in cache by the steps before) and cold (before each step of
--cold-tokens tokens the caches are emptied of the weights, as a model larger
than the cache is served: by default the four models' weights are flushed from
every cache level; --evict read reads a buffer twice the last-level cache
instead, which also evicts code, activations and TLBs; --evict copies runs
each cold step on the next of enough private weight copies to stream twice
the last-level cache between two uses, a real larger-than-cache model).
It needs no data install. With --prompt it instead prints the greedy
continuation of the prompt by the dense and by the elastic model side by side.
scripts/make-demo-model.sh rebuilds the embedded files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("prompt") {
				gen.Threads, gen.M = cfg.Threads, cfg.M
				c, err := demo.Generate(gen)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(stdout, c)
				}
				return printContinuation(stdout, c)
			}
			cfg.Progress = progressWriter(stderr)
			res, err := demo.Run(cfg)
			if err != nil {
				return err
			}
			if plot != "" {
				if err := demoPlot(res).SavePNG(plot, 7, 4.5); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			return printDemo(stdout, res, plot)
		},
	}
	fl := cmd.Flags()
	intFlag(fl, &cfg.Tokens, "tokens", demo.DefaultTokens, atLeast(2), "held-out tokens to stream (the embedded sample's length at most)")
	floatsFlag(fl, &cfg.Ratios, "ratios", demo.Ratios(), unitLeft(), "top-K insensitive ratios of the dual-module layers")
	intFlag(fl, &cfg.M, "m", demo.DefaultM, atLeast(1), "candidates per token the screened decoder computes exactly (the vocabulary at most)")
	intFlag(fl, &cfg.ColdTokens, "cold-tokens", demo.DefaultColdTokens, atLeast(1), "tokens per pass timed cold, caches evicted before each step")
	fl.StringVar(&cfg.Evict, "evict", "", "how cold steps find the caches empty: flush (the models' weights flushed from every cache; default where the build can) read (a buffer twice the last-level cache read on every core) or copies (cold steps rotate through enough private copies of the weights to stream twice the last-level cache between two uses)")
	threadsFlag(fl, &cfg.Threads)
	fl.StringVar(&gen.Prompt, "prompt", "", "print the greedy continuation of this text by the dense and the elastic model instead")
	intFlag(fl, &gen.Words, "words", demo.DefaultWords, closed(1, 1000), "with --prompt: words to generate")
	floatFlag(fl, &gen.Ratio, "ratio", demo.DefaultGenerateRatio, unitLeft(), "with --prompt: the elastic model's insensitive ratio")
	fl.StringVar(&plot, "plot", "demo.png", "PNG file for the plot (\"\": none)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

// demoPlot puts the elastic model's curves on one axis as multiples of
// the dense model: perplexity rises from 1, and warm and cold speed rise
// as more rows are left to the little modules.
func demoPlot(r *demo.Result) *report.Plot {
	ppl := report.Series{Name: "PPL ÷ dense PPL"}
	warm := report.Series{Name: "speedup, warm"}
	cold := report.Series{Name: "speedup, cold"}
	for _, row := range r.Rows {
		ppl.X = append(ppl.X, row.Ratio)
		ppl.Y = append(ppl.Y, row.PPL/row.DensePPL)
		warm.X = append(warm.X, row.Ratio)
		warm.Y = append(warm.Y, row.WarmSpeedup)
		cold.X = append(cold.X, row.Ratio)
		cold.Y = append(cold.Y, row.ColdSpeedup)
	}
	return &report.Plot{
		Title:  fmt.Sprintf("elastic model (DMI + screened decoder, m=%d) on %s, %d tokens", r.M, r.Model.Arch, r.Tokens),
		XLabel: "insensitive ratio (top-K)",
		YLabel: "× dense",
		Series: []report.Series{ppl, warm, cold},
	}
}

func printDemo(w io.Writer, r *demo.Result, plot string) error {
	m := r.Model
	fmt.Fprintf(w, "model: %s, float16, %.2f MiB embedded; checkpoint %s\n",
		m.Arch, float64(m.ModelBytes)/(1<<20), m.Trained())
	fmt.Fprintf(w, "little modules: %s, ε=%g, k_x=%v k_h=%v, %.2f MiB; recurrent layers are %.0f%% of the weights a step reads\n",
		m.Precision, m.Eps, m.KX, m.KH, float64(m.LittleBytes)/(1<<20), 100*m.RecurrentShare)
	fmt.Fprintf(w, "screened decoder: %s screener k=%d, %.2f MiB, m=%d of %d classes exact per token\n",
		m.ScreenerBits, m.ScreenerK, float64(m.ScreenerBytes)/(1<<20), r.M, m.Vocab)
	fmt.Fprintf(w, "held-out text: %d tokens of the test books, batch 1, %d threads, %s kernels; ms/token = median step time,\n", r.Tokens, r.Threads, r.Impl)
	how := "every weight of the four models flushed from all cache levels (CLFLUSHOPT) before each step"
	switch r.Evict {
	case demo.EvictRead:
		how = fmt.Sprintf("%d MiB read on every core before each step to evict the caches", r.EvictBytes>>20)
	case demo.EvictCopies:
		how = fmt.Sprintf("each step on the next of %d private copies of the weights, streamed from memory", r.Copies)
	}
	fmt.Fprintf(w, "  warm: weights left in cache; cold: %d tokens a pass, %s\n\n", r.ColdTokens, how)
	table := func(title string, rows []demo.Row) error {
		fmt.Fprintf(w, "%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ratio\tmeasured\tPPL dense\tPPL\tΔPPL\ttop-1\twarm ms dense\twarm ms\twarm\tcold ms dense\tcold ms\tcold\t")
		for _, row := range rows {
			fmt.Fprintf(tw, "%.1f\t%.3f\t%.2f\t%.2f\t%+.2f\t%.3f\t%.3f\t%.3f\t%.2f×\t%.3f\t%.3f\t%.2f×\t\n",
				row.Ratio, row.Insensitive, row.DensePPL, row.PPL, row.DeltaPPL, row.Top1,
				row.WarmDenseMs, row.WarmMs, row.WarmSpeedup, row.ColdDenseMs, row.ColdMs, row.ColdSpeedup)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w)
		return err
	}
	if err := table(fmt.Sprintf("elastic model: dual-module layers + screened decoder (m=%d)", r.M), r.Rows); err != nil {
		return err
	}
	if err := table("dual-module layers only (dense decoder)", r.Parts.DMI); err != nil {
		return err
	}
	if err := table(fmt.Sprintf("screened decoder only (dense layers, m=%d; the ratio does not apply)", r.M), r.Parts.Screened); err != nil {
		return err
	}
	if plot != "" {
		if _, err := fmt.Fprintf(w, "plot: %s\n", plot); err != nil {
			return err
		}
	}
	return nil
}

func printContinuation(w io.Writer, c *demo.Continuation) error {
	fmt.Fprintf(w, "prompt: %s\n", strings.Join(c.Prompt, " "))
	if len(c.Unknown) > 0 {
		fmt.Fprintf(w, "  (not in the vocabulary, read as <unk>: %s)\n", strings.Join(c.Unknown, " "))
	}
	fmt.Fprintf(w, "greedy continuation, %d words, batch 1, %d threads\n\n", len(c.Dense), c.Threads)
	fmt.Fprintf(w, "dense   (%6.0f tokens/s): %s\n", c.DenseTokensPerSec, strings.Join(c.Dense, " "))
	fmt.Fprintf(w, "elastic (%6.0f tokens/s): %s\n", c.ElasticTokensPerSec, strings.Join(c.Elastic, " "))
	_, err := fmt.Fprintf(w, "  elastic = dual-module layers at insensitive ratio %.2f + screened decoder at m=%d; %d of %d words as the dense model's\n",
		c.Ratio, c.M, c.Same, len(c.Dense))
	return err
}
