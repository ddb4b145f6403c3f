package nmp

import (
	"fmt"

	"github.com/elasticml/elastic/sim/core"
	"github.com/elasticml/elastic/sim/dram"
	"github.com/elasticml/elastic/sim/enmc"
)

// Report is a simulated run of one task on a baseline.
type Report struct {
	Design         string `json:"design"`
	Level          string `json:"level"`
	Dataflow       string `json:"dataflow"`
	Streams        int    `json:"streams"`
	UnitsPerStream int    `json:"units_per_stream"`
	Units          int    `json:"units"`
	Classes        int    `json:"classes"`
	Dim            int    `json:"dim"`
	K              int    `json:"k"`
	Batch          int    `json:"batch"`
	Candidates     int    `json:"candidates"`
	Source         string `json:"candidates_source"`
	// Cycles is the slowest stream's logic cycles (400 MHz), first
	// request to its last compute or write; the host's part is not
	// modelled (the instructions are assumed free).
	Cycles int64   `json:"cycles"`
	TimeUS float64 `json:"time_us"`
	// DRAM bytes moved on the buses, by purpose: screener weights,
	// partial sums spilled and read back, features, candidate rows.
	DRAMBytes    int64 `json:"dram_bytes"`
	ScreenBytes  int64 `json:"screen_bytes"`
	SpillBytes   int64 `json:"spill_bytes"`
	FeatureBytes int64 `json:"feature_bytes"`
	ExecBytes    int64 `json:"exec_bytes"`
	// FeatureChunks is the pieces k is cut into so that a batch of FP32
	// features fits the feature buffer (> 1: partial sums spill).
	FeatureChunks  int     `json:"feature_chunks"`
	ScreenMACs     int64   `json:"screen_fp32_macs"`
	ExecMACs       int64   `json:"exec_fp32_macs"`
	DenseMACs      int64   `json:"dense_fp32_macs"`
	ComputeBound   int64   `json:"compute_bound_cycles"`
	BandwidthBound int64   `json:"bandwidth_bound_cycles"`
	ComputeUtil    float64 `json:"compute_util"` // MACs over peak MACs × units × cycles
	StreamGBps     float64 `json:"stream_gbps"`  // the slowest stream's read rate
	EnergyUJ       float64 `json:"energy_uj"`
	// dram_static (standby and refresh), dram_access (ACT/PRE, bursts),
	// logic (Table 6.4 power × units × time).
	EnergyPartsUJ map[string]float64 `json:"energy_parts_uj"`
	AreaMM2       float64            `json:"area_mm2_per_unit"`
	PowerMW       float64            `json:"power_mw_per_unit"`
	Where         string             `json:"where"`
	DesignSource  string             `json:"design_source"`
	enmc.CPUComparison
}

// Simulate builds the task opts describe (a trace or a synthetic task,
// and the CPU measurement, as for enmc.Simulate; ENMC's own options are
// ignored), runs it on the named design and compares it with the CPUs.
func Simulate(design string, opts enmc.Options) (*Report, error) {
	d, err := ByName(design)
	if err != nil {
		return nil, err
	}
	task, err := opts.Task()
	if err != nil {
		return nil, err
	}
	m, err := opts.MeasuredCPU(task)
	if err != nil {
		return nil, err
	}
	rep, err := Run(task, d)
	if err != nil {
		return nil, err
	}
	cpu, err := enmc.Xeon8280()
	if err != nil {
		return nil, err
	}
	return rep, rep.Compare(task, rep.TimeUS, cpu, m)
}

// Run simulates task on design d in the Table 6.3 memory system (8
// channels of one 8-rank DDR4-2400 DIMM), one DRAM stream at a time.
func Run(task *enmc.Task, d Design) (*Report, error) {
	if err := task.Validate(); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	sys := enmc.Table63Config()
	t, err := dram.Preset(sys.Preset)
	if err != nil {
		return nil, err
	}
	org := dram.Table63()
	org.Channels = 1
	streams := sys.Channels
	if d.Level == RankLevel {
		org.Ranks = 1
		streams *= sys.RanksPerChannel
	} else {
		org.Ranks = sys.RanksPerChannel
	}
	de, err := dram.MT40A1G8().Energies(t, org)
	if err != nil {
		return nil, err
	}
	slots := d.Units * d.StreamBytes / 64
	if d.ByteLane {
		slots = d.StreamBytes / 8
	}
	rep := &Report{Design: d.Name, Level: d.Level.String(), Dataflow: d.Dataflow.String(), Streams: streams,
		UnitsPerStream: d.Units, Units: streams * d.Units, Classes: task.Classes, Dim: task.Dim, K: task.K,
		Batch: task.Batch, Source: task.Source, AreaMM2: d.AreaMM2, PowerMW: d.PowerMW, Where: d.Where,
		DesignSource: d.Source, EnergyPartsUJ: map[string]float64{}}
	stats := make([]*streamStats, streams)
	var slow *streamStats
	var slowProg *program
	var tr Traffic
	for s := range stats {
		p, err := compile(d, task, s, streams, uint64(org.CapacityBytes()))
		if err != nil {
			return nil, err
		}
		if stats[s], err = simulate(p, slots, org, t, d.ClockHz); err != nil {
			return nil, fmt.Errorf("nmp: %s stream %d: %w", d.Name, s, err)
		}
		if err := invariants(d, t, p, stats[s]); err != nil {
			return nil, fmt.Errorf("nmp: %s stream %d: %w", d.Name, s, err)
		}
		if slow == nil || stats[s].Cycles > slow.Cycles {
			slow, slowProg = stats[s], p
		}
		tr.add(p.traffic)
		rep.ScreenMACs += p.screenMACs
		rep.ExecMACs += p.execMACs
		rep.Candidates += p.candidates
		rep.FeatureChunks = p.chunks
	}
	// Every candidate ran on exactly one stream, all of its row at full
	// precision; every screener row was read.
	if n := task.NumCandidates(); rep.Candidates != n || rep.ExecMACs != int64(n)*int64(task.Dim) {
		return nil, fmt.Errorf("nmp: %s: %d candidates and %d FP32 MACs at full precision, want %d and %d", d.Name, rep.Candidates, rep.ExecMACs, n, int64(n)*int64(task.Dim))
	}
	if rep.ScreenMACs != int64(task.Classes)*int64(task.K)*int64(task.Batch) || tr.Screen < int64(task.Classes)*int64(task.K)/2 {
		return nil, fmt.Errorf("nmp: %s: %d screening MACs over %d bytes for %d×%d×%d", d.Name, rep.ScreenMACs, tr.Screen, task.Classes, task.K, task.Batch)
	}
	clk := core.Clock{Name: "logic", Hz: d.ClockHz}
	ratio := int64(t.RateMTs) * 1_000_000 / 2 / int64(d.ClockHz)
	rep.Cycles = slow.Cycles
	rep.TimeUS = clk.Seconds(rep.Cycles) * 1e6
	rep.ScreenBytes, rep.SpillBytes, rep.FeatureBytes, rep.ExecBytes = tr.Screen, tr.Spill, tr.Feature, tr.Exec
	rep.DRAMBytes = tr.Total()
	rep.DenseMACs = int64(task.Classes) * int64(task.Dim) * int64(task.Batch)
	rep.ComputeBound = slowProg.computeCyc
	rep.BandwidthBound = bandwidthBound(t, d, slowProg)
	var busy int64
	for _, s := range stats {
		static, access := de.Split(s.DRAM, rep.Cycles*ratio, org.Ranks, t)
		rep.EnergyPartsUJ["dram_static"] += static / 1e6
		rep.EnergyPartsUJ["dram_access"] += access / 1e6
		busy += s.Busy
	}
	rep.EnergyPartsUJ["logic"] = d.PowerMW * 1e-3 * float64(rep.Units) * rep.TimeUS
	for _, k := range []string{"dram_static", "dram_access", "logic"} { // fixed order
		rep.EnergyUJ += rep.EnergyPartsUJ[k]
	}
	if _, err := core.Utilisation(busy, rep.Cycles*int64(streams)); err != nil {
		return nil, err
	}
	util, err := core.Utilisation(rep.ScreenMACs+rep.ExecMACs, rep.Cycles*int64(rep.Units)*int64(d.PeakMACs()))
	if err != nil {
		return nil, fmt.Errorf("nmp: %s: %w", d.Name, err)
	}
	rep.ComputeUtil = util
	rep.StreamGBps = float64(slow.ReadBytes) / clk.Seconds(slow.Cycles) / 1e9
	return rep, nil
}

// bandwidthBound is a program's bytes over its stream's data bus.
func bandwidthBound(t *dram.Timing, d Design, p *program) int64 {
	return int64(core.Bound{Work: float64(p.traffic.Total()), Rate: t.PeakBytesPerSecond() / float64(d.ClockHz)}.Cycles())
}

// invariants checks what every stream must satisfy: no faster than its
// bus or its compute; exactly its candidates' rows at full precision;
// every byte the program names moved.
func invariants(d Design, t *dram.Timing, p *program, s *streamStats) error {
	bw := core.Bound{Name: "stream bandwidth", Work: float64(p.traffic.Total()), Rate: t.PeakBytesPerSecond() / float64(d.ClockHz)}
	cmp := core.Bound{Name: "compute", Work: float64(p.computeCyc), Rate: 1}
	if err := core.CheckBounds(s.Cycles, bw, cmp); err != nil {
		return err
	}
	if s.Busy != p.computeCyc {
		return fmt.Errorf("ran %d of %d compute cycles", s.Busy, p.computeCyc)
	}
	if moved := (s.DRAM.Reads + s.DRAM.Writes) * 64; moved != p.traffic.Total() {
		return fmt.Errorf("moved %d bytes, the program names %d", moved, p.traffic.Total())
	}
	return nil
}
