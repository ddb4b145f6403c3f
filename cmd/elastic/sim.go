package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/sim/dram"
	"github.com/elasticml/elastic/sim/enmc"
	"github.com/elasticml/elastic/sim/nmp"
)

func newSim(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the accelerator simulators (DDR4 memory, ENMC near-memory classifier, its baselines)",
	}
	cmd.AddCommand(newSimDRAM(stdout), newSimENMC(stdout), newSimTrace(stdout), newSimBaseline(stdout), newSimFigures(stdout, stderr), newSimTraceModel(stdout, stderr))
	return cmd
}

func newSimTrace(stdout io.Writer) *cobra.Command {
	var o enmc.RecordOptions
	var out string
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Record an ENMC candidate trace from a screener fitted to a synthetic classifier",
		Long: `trace makes a --classes x --dim synthetic classifier (screen/synth
defaults, --seed), fits an INT4 screener with --k dimensions to --calib
sampled hidden vectors (screen.Fit, one thread), takes the top --m
candidates of --batch further samples and writes them, in the trace format
elastic sim enmc --trace reads, to --out. The data are synthetic; the
screening is the real pipeline.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			// The classifier, and the calibration and test vectors.
			need := budget.Add(budget.Mul(4, o.Classes, o.Dim+1), budget.Mul(4, o.Calib+o.Batch, o.Dim))
			if err := budget.Check(fmt.Sprintf("--classes %d × --dim %d with --calib %d", o.Classes, o.Dim, o.Calib), need); err != nil {
				return err
			}
			return enmc.RecordSynthFile(out, o)
		},
	}
	f := cmd.Flags()
	intFlag(f, &o.Classes, "classes", 65536, atLeast(2), "classes of the synthetic classifier")
	intFlag(f, &o.Dim, "dim", 512, closed(1, synth.MaxDim), "feature dimension")
	intFlag(f, &o.K, "k", 0, atLeast(1), "screener dimension (default: dim/4)")
	intFlag(f, &o.M, "m", 64, atLeast(1), "candidates per input (top-m)")
	intFlag(f, &o.Batch, "batch", 1, closed(1, 64), "inputs in the batch")
	intFlag(f, &o.Calib, "calib", 4096, atLeast(1), "calibration vectors for the fit")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the classifier, the projection and the samples")
	f.StringVar(&out, "out", "", "trace file to write (required)")
	return cmd
}

// taskFlags registers the flags that describe a task and the CPU
// measurement, shared by sim enmc and sim baseline.
func taskFlags(f *pflag.FlagSet, opts *enmc.Options) {
	f.StringVar(&opts.Trace, "trace", "", "candidate trace to replay (overrides --classes, --dim, --k, --batch, --m)")
	intFlag(f, &opts.Classes, "classes", 1_000_000, closed(2, 1<<31-1), "classes l of the synthetic task")
	intFlag(f, &opts.Dim, "dim", 512, closed(1, 1<<20), "feature dimension d")
	intFlag(f, &opts.K, "k", 0, atLeast(1), "screener dimension (default: dim/4)")
	intFlag(f, &opts.M, "m", 100, atLeast(1), "synthetic candidates per batch item")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of the synthetic candidates")
	f.StringVar(&opts.CPUJSON, "cpu-json", "", "measured CPU: JSON from elastic bench screen --json of the same shape")
	floatFlag(f, &opts.CPUFullMs, "cpu-ms", 0, above(0), "measured CPU: full classification time in ms (measured elsewhere; default: none)")
	floatFlag(f, &opts.CPUScreenMs, "cpu-screen-ms", 0, above(0), "measured CPU: screening time in ms (with --cpu-ms)")
	f.BoolVar(&opts.CPUMeasure, "cpu-measure", false, "measured CPU: run the screen benchmark for this shape here first (times the CPU)")
	intFlag(f, &opts.CPUReps, "cpu-reps", 10, atLeast(1), "timed rounds of --cpu-measure")
}

func newSimBaseline(stdout io.Writer) *cobra.Command {
	var opts enmc.Options
	var design string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Simulate screening-based classification on a near-memory baseline of ENMC (NDA, Chameleon, TensorDIMM)",
		Long: `baseline runs the task elastic sim enmc would (same flags) on one of
the near-memory baselines of thesis Table 6.4, in the same Table 6.3 memory
system (8 channels, one 8-rank DDR4-2400 DIMM each), with the same
screening algorithm on FP32 units: --design nda (a 4x4 CGRA at every rank),
chameleon (a 4x4 systolic array in each of a DIMM's 8 data buffers, each on
one byte lane), tensordimm (a 16-lane vector unit in each DIMM's buffer
device), tensordimm-large (8 such cores per DIMM: ENMC's logic budget) or
tensordimm-rank (a sensitivity variant with a core at every rank).

Reported: cycles (400 MHz) of the slowest DRAM stream, time, DRAM bytes by
purpose (screener, spilled partial sums, features, candidate rows), the
compute and bandwidth bounds, and energy (DRAM from IDD currents, logic at
the design's Table 6.4 power); speed-ups over the modelled Xeon and, given
a measurement, over this machine's CPU, as for elastic sim enmc. The host's
instruction issue is not modelled for the baselines.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			rep, err := nmp.Simulate(design, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, rep)
			}
			fmt.Fprintf(stdout, "%s (%s, %s): %d streams × %d units; %d classes × %d, k %d, batch %d, %d candidates\n",
				rep.Design, rep.Where, rep.Dataflow, rep.Streams, rep.UnitsPerStream, rep.Classes, rep.Dim, rep.K, rep.Batch, rep.Candidates)
			fmt.Fprintf(stdout, "cycles         %d (%.2f µs); bounds: compute %d, bandwidth %d; utilisation %.3f\n",
				rep.Cycles, rep.TimeUS, rep.ComputeBound, rep.BandwidthBound, rep.ComputeUtil)
			fmt.Fprintf(stdout, "DRAM           %d bytes (screener %d, spills %d, features %d, rows %d); slowest stream %.2f GB/s\n",
				rep.DRAMBytes, rep.ScreenBytes, rep.SpillBytes, rep.FeatureBytes, rep.ExecBytes, rep.StreamGBps)
			fmt.Fprintf(stdout, "energy         %.2f µJ (DRAM static %.2f, DRAM access %.2f, logic %.2f)\n", rep.EnergyUJ,
				rep.EnergyPartsUJ["dram_static"], rep.EnergyPartsUJ["dram_access"], rep.EnergyPartsUJ["logic"])
			printCPU(stdout, rep.Design, &rep.CPUComparison)
			return nil
		},
	}
	f := cmd.Flags()
	taskFlags(f, &opts)
	intFlag(f, &opts.Batch, "batch", 1, atLeast(1), "batch size")
	f.StringVar(&design, "design", "tensordimm", "baseline: "+strings.Join(nmp.DesignNames(), ", "))
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func newSimFigures(stdout, stderr io.Writer) *cobra.Command {
	o := nmp.DefaultFigureOptions()
	var from, kjv string
	var noScaling bool
	cmd := &cobra.Command{
		Use:   "figures",
		Short: "Run ENMC and its baselines for thesis Fig. 6.12-6.14 and write PNGs, results.json and tables",
		Long: `figures runs ENMC (Table 6.3) and the baselines NDA, Chameleon,
TensorDIMM, TensorDIMM-Large and TensorDIMM@rank on synthetic 267744,
670091 and 1000000 x 512 classifiers at batch 1, 2 and 4, and ENMC,
TensorDIMM and TensorDIMM-Large on 1M, 10M and 100M classes at batch 1.
Each task has the candidates per item that the real screener chose for
that shape (conformal m, from --cpu-dir), placed uniformly. --cpu-dir
holds one elastic bench screen --json file per shape,
screen_<classes>_b<batch>.json: the measured CPU. It writes results.json (--results),
fig6_12_speedup.png, fig6_13_energy.png and fig6_14_scaling.png (--out)
and prints the Markdown tables and headline ratios. --from re-reads a
results.json instead of simulating.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			var res *nmp.Results
			var err error
			if from != "" {
				res, err = nmp.LoadResults(from)
				if err == nil {
					err = res.Plots(o.Out)
				}
			} else {
				if noScaling {
					o.Scaling = nil
				}
				if kjv != "" {
					o.Workloads = append([]nmp.Workload{{Name: "KJV", Classes: 8323, Trace: kjv}}, o.Workloads...)
				}
				o.Progress = stderr
				res, err = nmp.Figures(o)
			}
			if err != nil {
				return err
			}
			return res.Tables(stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.CPUDir, "cpu-dir", "", "directory of elastic bench screen --json files, screen_<classes>_b<batch>.json")
	f.StringVar(&o.Out, "out", ".", "directory for the PNGs")
	f.StringVar(&o.Results, "results", "", "path of results.json (default: in --out)")
	f.StringVar(&from, "from", "", "re-plot and tabulate this results.json instead of simulating")
	intsFlag(f, &o.Scaling, "scaling", o.Scaling, closed(2, 1<<31-1), "class counts of the scaling study (batch 1)")
	f.BoolVar(&noScaling, "no-scaling", false, "skip the scaling study")
	f.StringVar(&o.ReuseScaling, "reuse-scaling", "", "take the scaling points from this results.json instead of simulating them")
	f.StringVar(&kjv, "kjv-traces", "", "also the KJV LM decoder (8323 classes): trace files, %d for the batch (elastic sim trace-model)")
	return cmd
}

func printCPU(w io.Writer, who string, c *enmc.CPUComparison) {
	fmt.Fprintf(w, "CPU model      %s: full %.1f µs, screening %.1f µs; %s %.1f× its full classification (cache resident: %v)\n",
		c.CPUModel, c.CPUFullUS, c.CPUScreenUS, who, c.SpeedupVsCPUModel, c.CPUCacheResident)
	if m := c.CPU; m != nil {
		fmt.Fprintf(w, "CPU measured   %s: full %.3f ms, screening %.3f ms; %s %.1f× its full classification\n",
			m.Source, m.FullMs, m.ScreenMs, who, *c.SpeedupVsCPU)
	} else {
		fmt.Fprintln(w, "CPU measured   none (--cpu-json, --cpu-ms or --cpu-measure)")
	}
}

func newSimTraceModel(stdout, stderr io.Writer) *cobra.Command {
	var cls classifierFlags
	var o enmc.RecordOptions
	var out string
	cmd := &cobra.Command{
		Use:   "trace-model",
		Short: "Record an ENMC candidate trace from a real classifier and its hidden vectors (e.g. the KJV LM decoder)",
		Long: `trace-model records a trace as elastic sim trace does, from a real
classifier instead of a synthetic one: --classifier with --lm is a language
model whose decoder is the classifier, run over the corpus for its hidden
vectors (the first --tokens training tokens calibrate the INT4 screener,
screen.Fit with --k dimensions; the first --batch validation tokens are the
batch); with --hidden the vectors come from a file, its first --tokens rows
calibrating and the next --batch forming the batch. The top --m candidates
of each are written to --out.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := cls.check(); err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			src, err := cls.open(0, nil)
			if err != nil {
				return err
			}
			pool := kernels.NewPool(1)
			defer pool.Close()
			calib, _, err := cls.vectors(src, corpus.Train, pool)
			if err != nil {
				return err
			}
			var test []float32
			if src.model != nil {
				test, _, err = cls.vectorsN(src, corpus.Valid, o.Batch, pool)
			} else {
				var all []float32
				all, _, err = cls.vectorsN(src, corpus.Train, cls.tokens+o.Batch, pool)
				test = all[min(len(all), len(calib)):]
			}
			if err != nil {
				return err
			}
			o.Classes, o.Dim = src.lin.N, src.lin.D
			t, err := enmc.Record(src.lin, calib, test, o, cls.path+" (real classifier and hidden vectors)")
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "%d×%d classifier, %d candidates over a batch of %d\n", t.Classes, t.Dim, t.NumCandidates(), t.Batch)
			return enmc.WriteTraceFile(out, t)
		},
	}
	cls.add(cmd, "calibration vectors (training tokens with --lm, leading rows of --hidden)", 4096)
	f := cmd.Flags()
	intFlag(f, &o.K, "k", 0, atLeast(1), "screener dimension (default: dim/4)")
	intFlag(f, &o.M, "m", 32, atLeast(1), "candidates per input (top-m)")
	intFlag(f, &o.Batch, "batch", 1, closed(1, 64), "inputs in the batch")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the screener's projection")
	f.StringVar(&out, "out", "", "trace file to write (required)")
	return cmd
}

func newSimENMC(stdout io.Writer) *cobra.Command {
	var opts enmc.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "enmc",
		Short: "Simulate screening-based classification on ENMC DIMMs (thesis §6.4)",
		Long: `enmc compiles one batch of screening-based classification to ENMC
instruction streams, one per rank of the Table 6.3 system (8 channels x 8
ranks; 400 MHz logic with 128 INT4 and 16 FP32 MACs and 256 B buffers per
rank; DDR4-2400), and simulates every rank: Screener, threshold filter,
instruction generator and Executor over the rank's own DDR4 chips. The
candidate sets come from --trace (a file written by elastic sim trace or
enmc.WriteTrace) or, without it, are synthetic: --m uniform candidates per
item of a --classes x --dim classifier with a --k dimensional screener.
--partition spreads the classes over the 64 ranks: interleaved (default)
or contiguous ranges, which load one rank with most candidates when the
frequent classes have low indices. --stream-loads sends the screener-weight
loads after the first without an address on DQ (an extension of Table 6.1:
the DIMM's address generator continues the stream).

Reported: cycles (400 MHz), the larger of rank_cycles (the slowest rank,
simulated) and host_issue_cycles (what the host needs to send the streams
over the channels; computed, not simulated), and time; DRAM bytes, MACs,
unit utilisation, the bandwidth and compute bounds; and energy (DRAM from Micron IDD currents; logic at the
thesis's Table 6.5 power, 285.4 mW per rank; logic_ops, apart, from
Horowitz's 45 nm op energies scaled to 28 nm by an assumed factor). The CPU
comparison is a model, not a measurement: the thesis's Xeon 8280 reduced to
the bandwidth bound of its 6 DDR4-2666 channels (our DDR4 model's stream),
so speedup_vs_cpu_model is a lower bound on the speed-up over that CPU
unless cpu_cache_resident says the classifier fits its L3.

speedup_vs_cpu is over a measured CPU: this machine's full classification
of the same shape, from --cpu-json (a file written by elastic bench screen
--json), --cpu-ms (times measured elsewhere) or --cpu-measure (runs the
screen benchmark here first; it times the CPU, so only on a quiet
machine). Without one it is null.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			rep, err := enmc.Simulate(opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, rep)
			}
			fmt.Fprintf(stdout, "%d classes × %d, k %d, batch %d, %d candidates (%s), %d ranks (%s), %d B buffers\n",
				rep.Classes, rep.Dim, rep.K, rep.Batch, rep.Candidates, rep.Source, rep.Ranks, rep.Partition, rep.BufferB)
			fmt.Fprintf(stdout, "cycles         %d (%.2f µs); bounds: bandwidth %d, compute %d; host issue %d\n",
				rep.Cycles, rep.TimeUS, rep.BandwidthBound, rep.ComputeBound, rep.HostIssueCycles)
			fmt.Fprintf(stdout, "DRAM           %d bytes (screener %d, executor %d); slowest rank %.2f GB/s\n",
				rep.DRAMBytes, rep.ScreenBytes, rep.ExecBytes, rep.RankGBps)
			fmt.Fprintf(stdout, "MACs           INT4 %d, FP32 %d (dense %d, %.4f skipped)\n",
				rep.INT4MACs, rep.FP32MACs, rep.DenseFP32MACs, rep.Skipped)
			fmt.Fprintf(stdout, "utilisation    Screener %.3f, Executor %.3f\n", rep.ScreenerUtil, rep.ExecutorUtil)
			fmt.Fprintf(stdout, "energy         %.2f µJ (DRAM static %.2f, DRAM access %.2f, logic %.2f; logic ops alone %.2f)\n", rep.EnergyUJ,
				rep.EnergyPartsUJ["dram_static"], rep.EnergyPartsUJ["dram_access"], rep.EnergyPartsUJ["logic"], rep.EnergyPartsUJ["logic_ops"])
			printCPU(stdout, "ENMC", &rep.CPUComparison)
			return nil
		},
	}
	f := cmd.Flags()
	taskFlags(f, &opts)
	intFlag(f, &opts.Batch, "batch", 1, atLeast(1), "batch size (at most buffer/4, the PSUM buffer's partial sums: 64 at 256 B)")
	intFlag(f, &opts.BufferBytes, "buffer", 256, atLeast(1), "bytes of each ENMC buffer (Table 6.3: 256)")
	f.BoolVar(&opts.StreamLoads, "stream-loads", false, "send screener-weight loads after the first without an address (the DIMM continues the stream; our extension)")
	f.StringVar(&opts.Partition, "partition", "interleaved", "classes to ranks: interleaved (class j on rank j mod 64) or contiguous ranges")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func newSimDRAM(stdout io.Writer) *cobra.Command {
	var opts dram.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "dram",
		Short: "Simulate a DDR4 memory system under a stream, random or traced load",
		Long: `dram simulates the memory system of thesis Table 6.3 — 8 channels of 8
ranks of 8Gb x8 DDR4 devices (4 bank groups x 4 banks), one open-page
FR-FCFS controller with a 64-entry queue per channel, staggered per-rank
refresh — and reports bandwidth (GB/s, 10^9 bytes/s, as "gbps"), row hits,
the share of rank time spent refreshing and energy per bit from the
devices' IDD currents.

--pattern stream reads --requests 64-byte bursts per channel in address
order under --mapping; random draws them uniformly over the channel with
--seed; trace replays --trace, a text file of "R <addr>" / "W <addr>" lines
(byte addresses, decimal or 0x hex; # comments).

--mapping is a preset, bg-interleaved (ro-ra-ba-co-ch-bg: bank group in the
lowest bits above the burst) or bg-high (ro-ra-bg-ba-co-ch: consecutive
bursts share a bank group and pay tCCD_L), or six fields most significant
first, each of ch ra bg ba ro co once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("trace") && !cmd.Flags().Changed("pattern") {
				opts.Pattern = "trace"
			}
			rep, err := dram.Run(opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, rep)
			}
			fmt.Fprintf(stdout, "%s %s, mapping %s (%s), %d channels × %d ranks, %d requests\n",
				rep.Preset, rep.Pattern, rep.Mapping, rep.MappingFields, rep.Channels, rep.Ranks, rep.Requests)
			fmt.Fprintf(stdout, "bandwidth      %.2f GB/s total, %.3f GB/s per channel (%.1f%% of %.2f = peak × (1 − tRFC/tREFI))\n",
				rep.GBps, rep.GBpsPerChannel, 100*rep.OfRefreshBound, rep.RefreshBoundGBps)
			fmt.Fprintf(stdout, "row hit rate   %.4f\nrefresh share  %.4f (tRFC/tREFI %.4f)\nread latency   %.1f ns\nenergy         %.2f pJ/bit\n",
				rep.RowHitRate, rep.RefreshShare, rep.RefreshShareExpected, rep.ReadLatencyNS, rep.PJPerBit)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Pattern, "pattern", "stream", "access pattern: stream, random or trace")
	f.StringVar(&opts.Trace, "trace", "", "trace file to replay (implies --pattern trace)")
	f.StringVar(&opts.Mapping, "mapping", "bg-interleaved", "address mapping: bg-interleaved, bg-high or fields like ro-ra-ba-co-ch-bg")
	f.StringVar(&opts.Preset, "preset", "DDR4-2400R", "timing preset: "+strings.Join(dram.Presets(), ", "))
	intFlag(f, &opts.Requests, "requests", 1<<16, atLeast(1), "64-byte requests per channel (stream, random)")
	floatFlag(f, &opts.WriteFraction, "writes", 0, closed(0, 1), "fraction of generated requests that are writes")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of random addresses and writes")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
