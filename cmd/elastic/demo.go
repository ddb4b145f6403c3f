package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/demo"
	"github.com/elasticml/elastic/report"
)

func newDemo(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg    demo.Config
		plot   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Perplexity and speed of dual-module inference on the embedded LSTM language model",
		Long: `demo runs the LSTM language model embedded in the binary (trained by lm train
on the KJV training books, float16 weights, little modules from dmi fit) over
held-out text (the start of 1 Samuel) at batch 1 with the state carried: once
dense, then once per top-K insensitive ratio 0, 0.1, …, 0.9 with dual-module
layers. It prints the perplexities, the measured insensitive ratio and the
median milliseconds per token of the whole step (embedding, recurrent layers,
decoder), dense steps being timed alongside the dual-module ones. It needs no
data install. The plot shows perplexity and speed relative to the dense model;
scripts/make-demo-model.sh rebuilds the embedded files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	threadsFlag(fl, &cfg.Threads)
	fl.StringVar(&plot, "plot", "demo.png", "PNG file for the plot (\"\": none)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

// demoPlot puts both curves on one axis as multiples of the dense model:
// perplexity rises from 1 and speed rises from 1 as more rows are left to
// the little modules.
func demoPlot(r *demo.Result) *report.Plot {
	ppl := report.Series{Name: "PPL ÷ dense PPL"}
	speed := report.Series{Name: "speedup"}
	for _, row := range r.Rows {
		ppl.X = append(ppl.X, row.Ratio)
		ppl.Y = append(ppl.Y, row.DMIPPL/row.DensePPL)
		speed.X = append(speed.X, row.Ratio)
		speed.Y = append(speed.Y, row.Speedup)
	}
	return &report.Plot{
		Title:  fmt.Sprintf("DMI on %s, %d tokens", r.Model.Arch, r.Tokens),
		XLabel: "insensitive ratio (top-K)",
		YLabel: "× dense",
		Series: []report.Series{ppl, speed},
	}
}

func printDemo(w io.Writer, r *demo.Result, plot string) error {
	m := r.Model
	fmt.Fprintf(w, "model: %s, float16, %.2f MiB embedded; checkpoint %s\n",
		m.Arch, float64(m.ModelBytes)/(1<<20), m.Trained())
	fmt.Fprintf(w, "little modules: %s, ε=%g, k_x=%v k_h=%v, %.2f MiB; recurrent layers are %.0f%% of the weights a step reads\n",
		m.Precision, m.Eps, m.KX, m.KH, float64(m.LittleBytes)/(1<<20), 100*m.RecurrentShare)
	fmt.Fprintf(w, "held-out text: %d tokens of the test books, batch 1, %d threads; ms/token = median step time\n\n",
		r.Tokens, r.Threads)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ratio\tmeasured\tPPL dense\tPPL DMI\tΔPPL\tms/token dense\tms/token DMI\tspeedup\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%.1f\t%.3f\t%.2f\t%.2f\t%+.2f\t%.3f\t%.3f\t%.2f×\t\n",
			row.Ratio, row.Insensitive, row.DensePPL, row.DMIPPL, row.DeltaPPL, row.DenseMs, row.DMIMs, row.Speedup)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if plot != "" {
		if _, err := fmt.Fprintf(w, "\nplot: %s\n", plot); err != nil {
			return err
		}
	}
	return nil
}
