package enmc

import (
	"fmt"

	"github.com/elasticml/elastic/sim/core"
	"github.com/elasticml/elastic/sim/dram"
)

// Config is an ENMC system: DIMMs on every channel, ENMC logic at every
// rank (thesis Table 6.3 and §6.4.2).
type Config struct {
	Channels, RanksPerChannel int
	ClockHz                   uint64 // ENMC logic clock
	ScreenerMACs              int    // INT4 MACs per rank
	ExecutorMACs              int    // FP32 MACs per rank
	BufferBytes               int    // each input and partial-sum buffer
	Preset                    string // DRAM timing preset
	// Partition is how classes are spread over the ranks: Interleaved
	// (class j on rank j mod ranks) or Contiguous (equal ranges). The
	// thesis does not say; frequent classes cluster at low indices in
	// Zipf-like vocabularies, so contiguous ranges load one rank with
	// most candidates.
	Partition Partition
	// StreamLoads sends every screener-weight LDR after the first without
	// an address (Inst.Next; our extension): the DIMM's address generator
	// continues the stream, so the host's DQ bus carries no addresses.
	StreamLoads bool
	// Assumed micro-architecture details the thesis does not give:
	FilterLanes int // threshold comparators per cycle
	UnitQueue   int // instructions queued at each compute unit
	TaylorOrder int // terms of the exp series (§6.5.2: 4th order)
}

// Partition is a class-to-rank assignment.
type Partition uint8

// The partitions.
const (
	Interleaved Partition = iota
	Contiguous
)

// ParsePartition parses "interleaved" or "contiguous".
func ParsePartition(s string) (Partition, error) {
	switch s {
	case "interleaved":
		return Interleaved, nil
	case "contiguous":
		return Contiguous, nil
	}
	return 0, fmt.Errorf("enmc: unknown partition %q (interleaved, contiguous)", s)
}

func (p Partition) String() string {
	if p == Contiguous {
		return "contiguous"
	}
	return "interleaved"
}

// Table63Config is the configuration of thesis Table 6.3: 8 channels × 8
// ranks, 400 MHz logic with 128 INT4 and 16 FP32 MACs and 256 B buffers
// per rank, DDR4-2400. (§6.5.2's text says 64 INT4 MACs per DIMM; the
// table's 128 per rank is used, as issue 15 asks.) FilterLanes 16 and
// UnitQueue 4 are assumed.
func Table63Config() Config {
	return Config{Channels: 8, RanksPerChannel: 8, ClockHz: 400_000_000,
		ScreenerMACs: 128, ExecutorMACs: 16, BufferBytes: 256, Preset: "DDR4-2400R",
		FilterLanes: 16, UnitQueue: 4, TaylorOrder: 4}
}

// Validate reports a configuration that cannot be simulated.
func (c Config) Validate() error {
	if err := core.Positive("enmc: config",
		core.Param{Name: "channels", Value: c.Channels}, core.Param{Name: "ranks per channel", Value: c.RanksPerChannel},
		core.Param{Name: "screener MACs", Value: c.ScreenerMACs}, core.Param{Name: "executor MACs", Value: c.ExecutorMACs},
		core.Param{Name: "buffer bytes", Value: c.BufferBytes}, core.Param{Name: "filter lanes", Value: c.FilterLanes},
		core.Param{Name: "unit queue", Value: c.UnitQueue}, core.Param{Name: "Taylor order", Value: c.TaylorOrder}); err != nil {
		return err
	}
	if c.Partition > Contiguous {
		return fmt.Errorf("enmc: config: unknown partition %d", c.Partition)
	}
	if c.BufferBytes%64 != 0 {
		return fmt.Errorf("enmc: config: %d-byte buffers are not whole 64-byte bursts", c.BufferBytes)
	}
	if c.ClockHz == 0 {
		return fmt.Errorf("enmc: config: clock 0 Hz")
	}
	t, err := dram.Preset(c.Preset)
	if err != nil {
		return err
	}
	dramHz := uint64(t.RateMTs) * 1_000_000 / 2
	if dramHz%c.ClockHz != 0 {
		return fmt.Errorf("enmc: config: logic clock %d Hz does not divide the %d Hz DRAM clock", c.ClockHz, dramHz)
	}
	return nil
}

// Ranks is the number of ENMC rank units.
func (c Config) Ranks() int { return c.Channels * c.RanksPerChannel }

// LogicEnergy returns the energies the logic is charged with at 28 nm
// (Table 6.3's node). Horowitz's 45 nm numbers are published; an INT4
// MAC (a quarter of an 8-bit multiply, multiplier energy ∝ bits², plus a
// 32-bit add), the 256 B buffer access (his 8 KB SRAM read scaled by
// √(256/8192), wire length ∝ √capacity) and the 45 → 28 nm factor 28/45
// (switched capacitance ∝ feature size at equal voltage) are assumptions.
func LogicEnergy() (*core.EnergyTable, error) {
	h := core.Horowitz45()
	get := func(op string) float64 { e, _ := h.Lookup(op); return e.PJ }
	at45, err := core.NewEnergyTable("enmc45",
		core.Energy{Op: "fp32_mac", PJ: get("fp32_mul") + get("fp32_add"), NodeNM: 45,
			Source: "Horowitz ISSCC 2014: fp32 mul 3.7 + fp32 add 0.9 pJ", Published: true},
		core.Energy{Op: "int4_mac", PJ: get("int8_mul")/4 + get("int32_add"), NodeNM: 45,
			Source: "assumed: Horowitz int8 mul / 4 + int32 add"},
		core.Energy{Op: "buf_access64", PJ: get("sram8k_read64") * 0.1767767, NodeNM: 45,
			Source: "assumed: Horowitz 8 KB SRAM 64-bit read × √(256/8192)"},
		core.Energy{Op: "fp32_cmp", PJ: get("fp32_add"), NodeNM: 45,
			Source: "assumed: a comparison costs an fp32 add"},
	)
	if err != nil {
		return nil, err
	}
	return at45.Scaled("enmc28", 28, 28.0/45, "assumed: energy ∝ feature size at equal voltage")
}

// AreaPower is one block's synthesised area and power.
type AreaPower struct {
	Part string
	MM2  float64
	MW   float64
}

// Table65 is thesis Table 6.5, one rank's ENMC logic synthesised at 28 nm
// (TSMC, Design Compiler, 400 MHz): published. Its totals are 0.442 mm²
// and 285.4 mW; §6.6.2's text says 0.388 mm² and 264.6 mW, which no
// subset of the rows sums to exactly; the table is used.
func Table65() []AreaPower {
	return []AreaPower{
		{"INT4 MAC", 0.013, 10.4}, {"FP32 MAC", 0.145, 58.0},
		{"compute buffer", 0.061, 56.8}, {"control buffer", 0.053, 49.3},
		{"ENMC controller", 0.035, 32.9}, {"DRAM controller", 0.135, 78.0},
	}
}

// Table65Total sums Table65: the per-rank logic area and power the
// energy model charges.
func Table65Total() (mm2, mw float64) {
	for _, r := range Table65() {
		mm2 += r.MM2
		mw += r.MW
	}
	return mm2, mw
}
