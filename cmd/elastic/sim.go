package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/sim/dram"
	"github.com/elasticml/elastic/sim/enmc"
)

func newSim(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the accelerator simulators (DDR4 memory, ENMC near-memory classifier)",
	}
	cmd.AddCommand(newSimDRAM(stdout), newSimENMC(stdout), newSimTrace(stdout))
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
unless cpu_cache_resident says the classifier fits its L3.`,
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
			fmt.Fprintf(stdout, "CPU model      %s: full %.1f µs, screening %.1f µs; ENMC %.1f× its full classification (cache resident: %v)\n",
				rep.CPUModel, rep.CPUFullUS, rep.CPUScreenUS, rep.SpeedupVsCPUModel, rep.CPUCacheResident)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Trace, "trace", "", "candidate trace to replay (overrides --classes, --dim, --k, --batch, --m)")
	intFlag(f, &opts.Classes, "classes", 1_000_000, closed(2, 1<<31-1), "classes l of the synthetic task")
	intFlag(f, &opts.Dim, "dim", 512, closed(1, 1<<20), "feature dimension d")
	intFlag(f, &opts.K, "k", 0, atLeast(1), "screener dimension (default: dim/4)")
	intFlag(f, &opts.Batch, "batch", 1, atLeast(1), "batch size (at most buffer/4, the PSUM buffer's partial sums: 64 at 256 B)")
	intFlag(f, &opts.M, "m", 100, atLeast(1), "synthetic candidates per batch item")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of the synthetic candidates")
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
