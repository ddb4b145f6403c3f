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
	return cmd
}

func newBenchGemv(stdout, stderr io.Writer) *cobra.Command {
	cfg := bench.GemvConfig{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gemv",
		Short: "Dense, row-gather, INT8 and INT4 GEMV vs copy bandwidth, weights cold",
		Long: `gemv measures in one process: a STREAM-style copy bandwidth probe (buffers four
times the last-level cache; bytes read plus written), dense float32 GEMV,
row-gather GEMV keeping a random fraction of rows, INT8 and INT4 GEMV (each
including run-time quantization of x). Weights are cold: each kernel rotates
through enough copies to span twice the last-level cache. Times are medians.

The default shape is one LSTM-1500 layer's stacked gates over [x; h]; the
thesis's WikiText-2 classifier is --rows 33278 --cols 1500.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = progressWriter(stderr)
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
	f.IntVar(&cfg.Rows, "rows", 6000, "matrix rows (outputs)")
	f.IntVar(&cfg.Cols, "cols", 3000, "matrix columns (inputs)")
	f.Float64Var(&cfg.Keep, "keep", 0.5, "fraction of rows the row-gather kernel computes, in (0, 1]")
	f.IntVar(&cfg.Reps, "reps", 25, "timed repetitions per kernel (median reported)")
	f.IntVar(&cfg.Threads, "threads", 0, "worker threads (0: GOMAXPROCS)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed for weights, inputs and the kept rows")
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
	row("dense f32", r.Dense, 4*n, fmt.Sprintf("%.0f%% of copy", 100*r.DenseOfBW))
	row(fmt.Sprintf("gather %.0f%%", 100*r.Keep), r.Gather, 4*n*r.Keep, fmt.Sprintf("%.3f× time", r.GatherRel))
	row("int8", r.Int8, n, fmt.Sprintf("%.2f× faster", r.Int8Speed))
	row("int4", r.Int4, n/2, fmt.Sprintf("%.2f× faster", r.Int4Speed))
	return tw.Flush()
}
