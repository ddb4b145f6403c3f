package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/bench"
)

func newBench(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure kernels and layers against memory bandwidth and the dense baseline",
	}
	cmd.AddCommand(newBenchGemv(stdout, stderr))
	cmd.AddCommand(newBenchDMI(stdout, stderr))
	cmd.AddCommand(newBenchFit(stdout, stderr))
	cmd.AddCommand(newBenchScreen(stdout, stderr))
	cmd.AddCommand(newBenchAttention(stdout, stderr))
	cmd.AddCommand(newBenchDSG(stdout, stderr))
	return cmd
}

func newBenchGemv(stdout, stderr io.Writer) *cobra.Command {
	cfg := bench.GemvConfig{}
	var asJSON bool
	var llcMiB int
	cmd := &cobra.Command{
		Use:   "gemv",
		Short: "Dense, row-gather, INT8 and INT4 GEMV vs copy bandwidth, weights cold",
		Long: `gemv measures in one process: a STREAM-style copy bandwidth probe (buffers four
times the last-level cache; bytes read plus written), a streaming-read probe
(the same buffer size, read once), dense float32 GEMV, row-gather GEMV keeping
a random fraction of rows, INT8 and INT4 GEMV (each including run-time
quantization of x), and dense and row-gather float16 GEMV. Weights are cold:
each kernel rotates through enough copies to span twice the last-level cache.
Times are medians; ratios are medians of per-round ratios. Weights of 32 MiB or more sit on
transparent huge pages (ELASTIC_HUGEPAGES=0 turns that off).

The default shape is one LSTM-1500 layer's stacked gates over [x; h]; the
thesis's WikiText-2 classifier is --rows 33278 --cols 1500.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = progressWriter(stderr)
			cfg.LLC = llcMiB << 20
			if err := gemvBudget(cfg); err != nil {
				return err
			}
			res, err := bench.RunGemv(cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			return printGemv(stdout, res)
		},
	}
	f := cmd.Flags()
	intFlag(f, &cfg.Rows, "rows", 6000, atLeast(1), "matrix rows (outputs)")
	intFlag(f, &cfg.Cols, "cols", 3000, width(), "matrix columns (inputs)")
	floatFlag(f, &cfg.Keep, "keep", 0.5, unitRight(), "fraction of rows the row-gather kernel computes")
	intFlag(f, &cfg.Reps, "reps", 25, atLeast(1), "timed repetitions per kernel (median reported)")
	threadsFlag(f, &cfg.Threads)
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed for weights, inputs and the kept rows")
	intFlag(f, &llcMiB, "llc-mib", 0, llcDomain(), "last-level cache size in MiB that sizes the cold-weight rotation (default: read from sysfs)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

func printGemv(w io.Writer, r *bench.GemvResult) error {
	fmt.Fprintf(w, "GEMV %d×%d, %d threads, kernels %s, LLC %d MiB, %d reps (median, min–max)\n\n",
		r.Rows, r.Cols, r.Threads, r.Impl, r.LLCBytes>>20, r.Reps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kernel\tms\tmin\tmax\tGB/s\tvs dense\t")
	row := func(name string, t bench.Timing, bytes float64, rel string) {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.1f\t%s\t\n", name, t.Median, t.Min, t.Max, bytes/(t.Median*1e6), rel)
	}
	n := float64(r.Rows) * float64(r.Cols)
	row("copy (r+w)", r.CopyTiming, r.CopyGBps*r.CopyTiming.Median*1e6, "")
	row("read", r.ReadTiming, r.ReadGBps*r.ReadTiming.Median*1e6, "")
	row("dense f32", r.Dense, 4*n, fmt.Sprintf("%.0f%% of copy, %.0f%% of read", 100*r.DenseOfBW, 100*r.DenseOfRd))
	row(fmt.Sprintf("gather %.0f%%", 100*r.Keep), r.Gather, 4*n*r.Keep, fmt.Sprintf("%.3f× time", r.GatherRel))
	row("int8", r.Int8, n, fmt.Sprintf("%.2f× faster", r.Int8Speed))
	row("int4", r.Int4, n/2, fmt.Sprintf("%.2f× faster", r.Int4Speed))
	row("float16", r.Half, 2*n, fmt.Sprintf("%.0f%% of dense GB/s", 100*r.HalfOfF32))
	row(fmt.Sprintf("f16 gather %.0f%%", 100*r.Keep), r.HalfGather, 2*n*r.Keep, fmt.Sprintf("%.0f%% of gather GB/s", 100*r.HalfGthRel))
	return tw.Flush()
}

func newBenchFit(stdout, stderr io.Writer) *cobra.Command {
	cfg := bench.FitConfig{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fit",
		Short: "Time the closed-form speculator fit (eq. 3.12) on a random linear map",
		Long: `fit streams random calibration inputs through the closed-form speculator fit:
accumulate the Gram matrix of [Px; 1] and the cross moments with the inputs,
then solve by Cholesky and form W̃. The map W (n×d) and inputs are random and
seeded; generating inputs is not timed. Also reports the held-out fit MSE in
FP32 and INT8 against the mean squared norm of the targets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = progressWriter(stderr)
			if err := fitBudget(cfg); err != nil {
				return err
			}
			res, err := bench.RunFit(cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			fmt.Fprintf(stdout, "closed-form fit n=%d d=%d k=%d, %d samples, %d threads\n", res.N, res.D, res.K, res.Samples, res.Threads)
			fmt.Fprintf(stdout, "  accumulate %.2f s, solve %.2f s, total %.2f s\n", res.AccumulateS, res.SolveS, res.TotalS)
			fmt.Fprintf(stdout, "  held-out MSE fp32 %.4g, int8 %.4g (target mean ‖y‖² %.4g)\n", res.HeldMSE, res.HeldMSEInt8, res.TargetEnergy)
			fmt.Fprintf(stdout, "  speculator %d bytes (INT8) = %.1f%% of the exact map's %d\n", res.SpecBytes, 100*float64(res.SpecBytes)/float64(res.ExactBytes), res.ExactBytes)
			return nil
		},
	}
	f := cmd.Flags()
	intFlag(f, &cfg.N, "n", 6000, atLeast(1), "outputs of the exact map")
	intFlag(f, &cfg.D, "d", 3000, width(), "inputs of the exact map")
	intFlag(f, &cfg.K, "k", 512, atLeast(1), "projected dimension, at most --d")
	intFlag(f, &cfg.Samples, "samples", 20000, atLeast(1), "calibration samples streamed, more than --k")
	intFlag(f, &cfg.Chunk, "chunk", 1000, atLeast(1), "samples per streamed chunk")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed for the map, projection and inputs")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
