package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/report"
)

func newBenchAttention(stdout, stderr io.Writer) *cobra.Command {
	cfg := bench.AttentionConfig{}
	var asJSON bool
	var plotPath string
	cmd := &cobra.Command{
		Use:   "attention",
		Short: "Dense tiled attention vs DSA (predictor + SDDMM + softmax + SpMM), per part",
		Long: `attention measures in one process: the FMA peak probe at the ISA in use, our
dense tiled attention (online softmax, never forming the l×l matrix) for
--heads × --seq × --dim, and for each --sparsity the DSA path of thesis
chapter 7: the INT8 predictor Q̃K̃ᵀ over σ·d projected columns with its
per-row top-k fused in, then SDDMM → sparse softmax → SpMM on the kept keys.
Dense and each part are interleaved round by round; speed-ups are medians of
per-round ratios. --decode adds one decoding step of --heads sequences
against KV caches of each --decode-lens length, dense vs DSA at the first
sparsity, with the predictor's recall of the exact top-k. --softmax-sweep adds
the row-softmax sweep of thesis Fig. 7.10 (sparse softmax over the kept keys
against the same kernel over all keys), drawn to --plot as a PNG.

Inputs are synthetic (seeded uniform q, k, v; the predictor's projection a
random ±1 matrix): these are kernel timings, and the recall says nothing
about trained models (see docs/results/dsa.md for those).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = progressWriter(stderr)
			if err := attentionBudget(cfg); err != nil {
				return err
			}
			if plotPath != "" && len(cfg.SoftmaxSweep) == 0 {
				return fmt.Errorf("--plot draws the --softmax-sweep curve: give --softmax-sweep")
			}
			res, err := bench.RunAttention(cfg)
			if err != nil {
				return err
			}
			if plotPath != "" {
				if err := plotSoftmaxSweep(plotPath, res); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			return printAttention(stdout, res)
		},
	}
	f := cmd.Flags()
	intFlag(f, &cfg.Seq, "seq", 2000, closed(1, 1<<16), "sequence length l")
	intFlag(f, &cfg.Heads, "heads", 4, closed(1, 64), "attention heads (the decode batch too)")
	intFlag(f, &cfg.Dim, "dim", 64, closed(1, 1024), "head dimension d")
	floatsFlag(f, &cfg.Sparsities, "sparsity", []float64{0.9, 0.95}, unitLeft(), "shares of keys each query drops")
	intFlag(f, &cfg.Block, "block", 1, oneOf(1, 4, 8), "column-vector block of the masks (§7.5.1)")
	floatFlag(f, &cfg.Sigma, "sigma", 0.25, unitRight(), "predictor width σ = k/d")
	f.BoolVar(&cfg.Decode, "decode", false, "also time one decoding step per --decode-lens cache length")
	intsFlag(f, &cfg.DecodeLens, "decode-lens", []int{8192, 32768}, closed(1, 1<<20), "KV-cache lengths of the decode rows")
	floatsFlag(f, &cfg.SoftmaxSweep, "softmax-sweep", nil, unitLeft(), "sparsities of the row-softmax sweep (Fig. 7.10)")
	f.StringVar(&plotPath, "plot", "", "PNG file for the --softmax-sweep curve")
	intFlag(f, &cfg.Reps, "reps", 5, atLeast(1), "timed rounds (median reported)")
	threadsFlag(f, &cfg.Threads)
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed for inputs and the projection")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

// attentionBudget: q, k, v, two outputs and the predictor's forms for the
// prefill shape, each sparsity's index lists, the softmax sweep's rows
// and patterns, and the decode caches.
func attentionBudget(cfg bench.AttentionConfig) error {
	need := budget.Add(budget.Mul(4, 6, cfg.Heads, cfg.Seq, cfg.Dim), budget.Mul(4, len(cfg.Sparsities), cfg.Heads, cfg.Seq, cfg.Seq))
	if len(cfg.SoftmaxSweep) > 0 { // scores, output, the full pattern, and one sweep point's pattern
		need = budget.Add(need, budget.Mul(4, 4, cfg.Heads, cfg.Seq, cfg.Seq))
	}
	if cfg.Decode {
		for _, l := range cfg.DecodeLens {
			need = budget.Add(need, budget.Mul(4, 3, cfg.Heads, l, cfg.Dim))
		}
	}
	return budget.Check(fmt.Sprintf("--heads %d × --seq %d × --dim %d (--sparsity, --decode-lens)", cfg.Heads, cfg.Seq, cfg.Dim), need)
}

func printAttention(w io.Writer, r *bench.AttentionResult) error {
	fmt.Fprintf(w, "attention %d heads × %d × %d, %d threads, kernels %s, σ %.2f (%d predictor columns), block %d, %d rounds; %s\n",
		r.Heads, r.Seq, r.Dim, r.Threads, r.Impl, r.Sigma, r.PredCols, r.Block, r.Reps, r.Data)
	fmt.Fprintf(w, "dense %.2f ms, %.1f GFLOPS = %.0f%% of the %.1f GFLOPS FMA peak\n\n", r.DenseMs, r.DenseGFLOPS, 100*r.DenseOfPeak, r.PeakGFLOPS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sparsity\tkept\tDSA ms\tpredictor ms\tsparse ms\tpredictor/dense\tspeed-up\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%.3f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f×\t\n", row.Sparsity, row.TopK, row.DSAMs, row.PredictorMs, row.SparseMs, row.PredictorShare, row.Speedup)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Softmax) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "softmax sparsity	kept	dense ms	sparse ms	speed-up	")
		for _, x := range r.Softmax {
			fmt.Fprintf(tw, "%.3f\t%d\t%.3f\t%.3f\t%.2f×\t\n", x.Sparsity, x.TopK, x.DenseMs, x.SparseMs, x.Speedup)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Decode) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "decode l\tsparsity\tdense ms\tDSA ms\tspeed-up\ttop-k recall\t")
		for _, d := range r.Decode {
			fmt.Fprintf(tw, "%d\t%.3f\t%.3f\t%.3f\t%.2f×\t%.3f\t\n", d.L, d.Sparsity, d.DenseMs, d.DSAMs, d.Speedup, d.Recall)
		}
		return tw.Flush()
	}
	return nil
}

// plotSoftmaxSweep draws the sparse row softmax's speed-up over the dense
// one against sparsity (thesis Fig. 7.10).
func plotSoftmaxSweep(path string, r *bench.AttentionResult) error {
	var xs, ys []float64
	for _, x := range r.Softmax {
		xs, ys = append(xs, 100*x.Sparsity), append(ys, x.Speedup)
	}
	p := report.Plot{
		Title:  fmt.Sprintf("sparse row softmax vs dense, %d rows of %d (%s)", r.Heads*r.Seq, r.Seq, r.Impl),
		XLabel: "sparsity (%)", YLabel: "speed-up over dense softmax",
		Series: []report.Series{{Name: "measured", X: xs, Y: ys}},
		LogY:   true,
	}
	return p.SavePNG(path, 6, 4)
}
