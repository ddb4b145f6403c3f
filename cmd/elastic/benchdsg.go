package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/dsg"
)

func newBenchDSG(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg    dsg.BenchConfig
		model  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "dsg",
		Short: "Dense vs DSG training step of a Fashion-MNIST model, per layer and whole",
		Long: `dsg times, in one process and round by round, a training step (forward, loss,
backward, SGD-momentum update) of the dense model and of the same model with
dynamic sparse graphs at each --sparsities value, all from the same weights
(--init checkpoint, or random from --seed) on the first --batch Fashion-MNIST
training images (--synthetic: random pixels). It reports the step time and the
paired dense/DSG ratio, per convolution and FC layer the forward and
forward+backward times (the search included, and also shown alone), the
sparse layers' backward stash as float32 and as held (--zvc: zero-value
compressed), and the dense layers' GFLOPS against the FMA peak probe.
γ = 0 runs the DSG machinery keeping everything. The default masks are whole
output channels ranked over the batch (--mask channel --select batch), run as
GEMMs over the selected weight rows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := dsg.ParseArch(model)
			if err != nil {
				return fmt.Errorf("--model: %w", err)
			}
			cfg.Arch = a
			cfg.Progress = progressWriter(stderr)
			res, err := dsg.RunBench(cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			return printBenchDSG(stdout, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "vgg8", "model: mlp, lenet or vgg8")
	intFlag(f, &cfg.Batch, "batch", 64, atLeast(1), "images per training step")
	floatsFlag(f, &cfg.Gammas, "sparsities", []float64{0, 0.5, 0.8, 0.9}, unitLeft(), "DSG sparsities γ")
	intFlag(f, &cfg.Rounds, "rounds", 10, atLeast(1), "timed rounds (medians and paired ratios reported)")
	threadsFlag(f, &cfg.Threads)
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of weights and projections")
	f.StringVar(&cfg.Init, "init", "", "checkpoint whose weights every model starts from")
	f.StringVar(&cfg.DataDir, "data", "", "directory of the Fashion-MNIST idx files (default /usr/share/datasets/fashion-mnist)")
	f.BoolVar(&cfg.Synthetic, "synthetic", false, "random pixels and labels instead of Fashion-MNIST")
	floatFlag(f, &cfg.Sparse.Eps, "eps", 0.5, unitOpen(), "JL ε of the dimension-reduction search")
	f.StringVar(&cfg.Sparse.Select, "select", dsg.SelectBatch, "top-k ranking: first, per-sample, or batch (channel masks only)")
	f.StringVar(&cfg.Sparse.Granularity, "mask", dsg.GranChannel, "mask granularity: channel (GEMM executor) or element (row-by-row executor)")
	f.StringVar(&cfg.Sparse.Strategy, "strategy", dsg.StrategyDRS, "activation estimate: drs, oracle or random")
	floatFlag(f, &cfg.Sparse.SearchFraction, "search-fraction", 1, unitRight(), "fraction of the rows the channel ranking searches (a stride through them)")
	f.BoolVar(&cfg.Sparse.ZVC, "zvc", true, "zero-value-compressed backward stash")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
	return cmd
}

func newDSGPlotBench() *cobra.Command {
	var speed, stash string
	cmd := &cobra.Command{
		Use:   "plot-bench FILE.json...",
		Short: "Plot saved `elastic bench dsg --json` runs: step speedup and stash compression vs sparsity",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, files []string) error {
			return dsg.PlotBenchFiles(speed, stash, files...)
		},
	}
	cmd.Flags().StringVar(&speed, "speed", "dsg-step-speedup.png", "PNG of the step speedups")
	cmd.Flags().StringVar(&stash, "stash", "dsg-stash.png", "PNG of the stash compression")
	return cmd
}

func printBenchDSG(w io.Writer, r *dsg.BenchResult) error {
	fmt.Fprintf(w, "%s batch %d, %d threads, kernels %s, %d rounds, data %s\n", r.Model, r.Batch, r.Threads, r.Impl, r.Rounds, r.Data)
	fmt.Fprintf(w, "DSG: %s masks, %s ranking, %s search ε=%g (%.2f M MACs per image, forward %.2f M), zvc %v\n",
		r.DSG.Granularity, r.DSG.Select, r.DSG.Strategy, r.DSG.Eps, float64(r.SearchMACs)/1e6, float64(r.MACs)/1e6, r.DSG.ZVC)
	fmt.Fprintf(w, "FMA peak %.1f GFLOPS; dense conv/FC layers %.1f GFLOPS (%.0f%% of peak); GEMM %v %.1f GFLOPS (%.0f%%)\n",
		r.PeakGFLOPS, r.DenseGFLOPS, 100*r.DenseOfPeak, r.GemmShape, r.GemmGFLOPS, 100*r.GemmOfPeak)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "γ\tdense ms\tDSG ms\tspeedup\tsearch ms\tstash dense MB\tstash held MB\tcompression\t")
	for _, p := range r.Points {
		fmt.Fprintf(tw, "%g\t%.1f\t%.1f\t%.2f×\t%.1f\t%.2f\t%.2f\t%.2f×\t\n", p.Sparsity, p.DenseStepMs, p.DSGStepMs, p.StepSpeedup,
			p.SearchMs, float64(p.StashBytesDense)/1e6, float64(p.StashBytesDSG)/1e6, p.StashCompression)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range r.Points {
		fmt.Fprintf(w, "γ=%g per layer (forward+backward; forward alone)\n", p.Sparsity)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "layer\tdense ms\tDSG ms\tspeedup\tfwd dense\tfwd DSG\tfwd speedup\tsearch ms\tdense GFLOPS\t")
		for _, l := range p.Layers {
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f×\t%.2f\t%.2f\t%.2f×\t%.2f\t%.1f\t\n", l.Name, l.DenseMs, l.DSGMs, l.Speedup,
				l.DenseFwdMs, l.DSGFwdMs, l.FwdSpeedup, l.SearchMs, l.DenseGFLOPS)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
