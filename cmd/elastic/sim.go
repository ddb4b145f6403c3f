package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/sim/dram"
)

func newSim(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the accelerator simulators (DDR4 memory model)",
	}
	cmd.AddCommand(newSimDRAM(stdout))
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
	f.Int64Var(&opts.Requests, "requests", 1<<16, "64-byte requests per channel (stream, random)")
	f.Float64Var(&opts.WriteFraction, "writes", 0, "fraction of generated requests that are writes")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of random addresses and writes")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
