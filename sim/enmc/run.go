package enmc

import (
	"fmt"
	"io"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/sim/core"
	"github.com/elasticml/elastic/sim/dram"
)

// MaxTraceBytes caps the trace file Run reads; a trace of a real run is
// megabytes.
const MaxTraceBytes = 1 << 30

// Report is a simulated ENMC run of one task.
type Report struct {
	Classes    int    `json:"classes"`
	Dim        int    `json:"dim"`
	K          int    `json:"k"`
	Batch      int    `json:"batch"`
	Ranks      int    `json:"ranks"`
	Partition  string `json:"partition"`
	BufferB    int    `json:"buffer_bytes"`
	Streamed   bool   `json:"stream_loads"`
	Source     string `json:"candidates_source"`
	Candidates int    `json:"candidates"`
	// RankCycles is the slowest rank's simulated ENMC cycles (400 MHz),
	// from its first instruction to RETURN, with its FIFO kept full.
	// HostIssueCycles is the time the host needs to send the busiest
	// channel's instruction streams (commands on C/A, INIT and LDR data
	// on DQ); it is computed, not simulated. Cycles is the larger: the
	// run can be no faster than either.
	RankCycles      int64   `json:"rank_cycles"`
	Cycles          int64   `json:"cycles"`
	HostBound       bool    `json:"host_bound"`
	TimeUS          float64 `json:"time_us"`
	DRAMBytes       int64   `json:"dram_bytes"`
	ScreenBytes     int64   `json:"screen_bytes"`
	ExecBytes       int64   `json:"exec_bytes"`
	INT4MACs        int64   `json:"int4_macs"`
	FP32MACs        int64   `json:"fp32_macs"`
	DenseFP32MACs   int64   `json:"dense_fp32_macs"`
	Skipped         float64 `json:"skipped"`
	ScreenerUtil    float64 `json:"screener_util"`
	ExecutorUtil    float64 `json:"executor_util"`
	BandwidthBound  int64   `json:"bandwidth_bound_cycles"`
	ComputeBound    int64   `json:"compute_bound_cycles"`
	RankGBps        float64 `json:"rank_gbps"` // DRAM read rate of the slowest rank
	HostInstrs      int64   `json:"host_instructions"`
	GeneratedInstrs int64   `json:"generated_instructions"`
	HostIssueCycles int64   `json:"host_issue_cycles"`
	EnergyUJ        float64 `json:"energy_uj"`
	// Energy parts in µJ: dram_static (standby and refresh over the run),
	// dram_access (ACT/PRE and read bursts), logic (Table 6.5's 285.4 mW
	// per rank over the run: the thesis's synthesis result). logic_ops,
	// not in the total, is the op-count estimate (MACs, comparisons,
	// exponentials, buffer accesses) from assumed per-op energies.
	EnergyPartsUJ map[string]float64 `json:"energy_parts_uj"`
	CPUComparison
}

// Run compiles task for cfg and simulates every rank. Ranks run
// independently (each reads its own chips through its own controller);
// the run ends when the slowest returns.
func Run(task *Task, cfg Config) (*Report, error) {
	geo, err := newGeometry(task, cfg)
	if err != nil {
		return nil, err
	}
	t, err := dram.Preset(cfg.Preset)
	if err != nil {
		return nil, err
	}
	org := dram.Table63()
	org.Channels, org.Ranks = 1, 1
	de, err := dram.MT40A1G8().Energies(t, org)
	if err != nil {
		return nil, err
	}
	logic, err := LogicEnergy()
	if err != nil {
		return nil, err
	}
	rep := &Report{Classes: task.Classes, Dim: task.Dim, K: task.K, Batch: task.Batch, Ranks: cfg.Ranks(),
		Partition: cfg.Partition.String(), BufferB: cfg.BufferBytes, Streamed: cfg.StreamLoads,
		Source: task.Source, Candidates: task.NumCandidates(), EnergyPartsUJ: map[string]float64{}}
	// One rank at a time, its plan dropped after: memory stays one
	// rank's program however large the task.
	stats := make([]*RankStats, cfg.Ranks())
	var slow *RankStats
	for i := range stats {
		p, err := geo.rank(i)
		if err != nil {
			return nil, err
		}
		if stats[i], err = simulateRank(cfg, task, p); err != nil {
			return nil, err
		}
		s := stats[i]
		if slow == nil || s.Cycles > slow.Cycles {
			slow = s
		}
		if err := rankInvariants(cfg, task, p, s); err != nil {
			return nil, fmt.Errorf("enmc: rank %d: %w", i, err)
		}
	}
	ratio := slow.DRAMClockRatio
	clk := core.Clock{Name: "enmc", Hz: cfg.ClockHz}
	// The host sends each rank's commands on its channel's C/A bus (one a
	// DRAM cycle) and the data of INIT and LDR on its DQ bus (a burst
	// each); the two buses run in parallel.
	hostCA := make([]int64, cfg.Channels)
	hostDQ := make([]int64, cfg.Channels)
	for i, s := range stats {
		ch := i / cfg.RanksPerChannel
		hostCA[ch] += s.HostCommands
		hostDQ[ch] += s.HostDataBursts * int64(t.BL)
	}
	for ch := range hostCA {
		rep.HostIssueCycles = max(rep.HostIssueCycles, (max(hostCA[ch], hostDQ[ch])+ratio-1)/ratio)
	}
	rep.RankCycles = slow.Cycles
	rep.Cycles = max(rep.RankCycles, rep.HostIssueCycles)
	rep.HostBound = rep.HostIssueCycles > rep.RankCycles
	rep.TimeUS = clk.Seconds(rep.Cycles) * 1e6
	led := core.NewLedger(logic)
	var su, eu int64
	for _, s := range stats {
		rep.ScreenBytes += s.ScreenBytes
		rep.ExecBytes += s.ExecBytes
		rep.INT4MACs += s.INT4MACs
		rep.FP32MACs += s.FP32MACs
		rep.HostInstrs += s.HostCommands
		rep.GeneratedInstrs += s.Generated
		su += s.ScreenerBusy
		eu += s.ExecutorBusy
		// DRAM: access energy from the commands; standby over the whole
		// run (a rank that finishes early still idles until the slowest).
		static, access := de.Split(s.DRAM, rep.Cycles*ratio, 1, t)
		rep.EnergyPartsUJ["dram_access"] += access / 1e6
		rep.EnergyPartsUJ["dram_static"] += static / 1e6
		for _, c := range []struct {
			op string
			n  int64
		}{{"int4_mac", s.INT4MACs}, {"fp32_mac", s.FP32MACs + s.SFUOps}, {"fp32_cmp", s.FilterEntries}, {"buf_access64", s.BufferWords}} {
			if err := led.Charge("logic", c.op, c.n); err != nil {
				return nil, err
			}
		}
	}
	rep.EnergyPartsUJ["logic_ops"] = led.Total() / 1e6
	_, rankMW := Table65Total()
	rep.EnergyPartsUJ["logic"] = rankMW * 1e-3 * float64(cfg.Ranks()) * rep.TimeUS // W × µs = µJ
	// A fixed order: float sums must not follow map order.
	for _, k := range []string{"dram_static", "dram_access", "logic"} {
		rep.EnergyUJ += rep.EnergyPartsUJ[k]
	}
	rep.DRAMBytes = rep.ScreenBytes + rep.ExecBytes
	rep.DenseFP32MACs = int64(task.Classes) * int64(task.Dim) * int64(task.Batch)
	rep.Skipped = 1 - float64(rep.FP32MACs)/float64(rep.DenseFP32MACs)
	busy := rep.RankCycles * int64(len(stats))
	if rep.ScreenerUtil, err = core.Utilisation(su, busy); err != nil {
		return nil, err
	}
	if rep.ExecutorUtil, err = core.Utilisation(eu, busy); err != nil {
		return nil, err
	}
	rankBytesPerCycle := t.PeakBytesPerSecond() / float64(cfg.ClockHz)
	rep.BandwidthBound = int64(core.Bound{Work: float64(slow.ScreenBytes + slow.ExecBytes), Rate: rankBytesPerCycle}.Cycles())
	rep.ComputeBound = max(int64(core.Bound{Work: float64(slow.INT4MACs), Rate: float64(cfg.ScreenerMACs)}.Cycles()),
		int64(core.Bound{Work: float64(slow.FP32MACs), Rate: float64(cfg.ExecutorMACs)}.Cycles()))
	rep.RankGBps = float64(slow.ScreenBytes+slow.ExecBytes) / clk.Seconds(slow.Cycles) / 1e9
	return rep, nil
}

// rankInvariants checks what every rank run must satisfy: no faster than
// its bandwidth or compute bound; exactly the candidates' FP32 MACs; every
// screener weight read.
func rankInvariants(cfg Config, task *Task, p *Plan, s *RankStats) error {
	t, err := dram.Preset(cfg.Preset)
	if err != nil {
		return err
	}
	bw := core.Bound{Name: "rank bandwidth", Work: float64(s.ScreenBytes + s.ExecBytes), Rate: t.PeakBytesPerSecond() / float64(cfg.ClockHz)}
	int4 := core.Bound{Name: "Screener MACs", Work: float64(s.INT4MACs), Rate: float64(cfg.ScreenerMACs)}
	fp32 := core.Bound{Name: "Executor MACs", Work: float64(s.FP32MACs), Rate: float64(cfg.ExecutorMACs)}
	if err := core.CheckBounds(s.Cycles, bw, int4, fp32); err != nil {
		return err
	}
	var cand int64
	for _, g := range p.Groups {
		for _, c := range g {
			cand += int64(len(c))
		}
	}
	if want := cand * int64(task.Dim); s.FP32MACs != want {
		return fmt.Errorf("%d FP32 MACs for %d candidates of dim %d", s.FP32MACs, cand, task.Dim)
	}
	if want := int64(p.Layout.Rows) * int64(task.K) * int64(task.Batch); s.INT4MACs < want {
		return fmt.Errorf("%d INT4 MACs, screening needs %d", s.INT4MACs, want)
	}
	return nil
}

// Options configure Simulate.
type Options struct {
	// Trace is a candidate trace file (ReadTrace); when empty the task is
	// synthetic: Classes×Dim with screener dimension K (0: Dim/4), Batch
	// items of M uniform candidates each, from Seed.
	Trace                     string
	Classes, Dim, K, Batch, M int
	Seed                      uint64
	// BufferBytes overrides Table 6.3's 256-byte buffers when positive.
	BufferBytes int
	// Partition is "interleaved" (default) or "contiguous".
	Partition string
	// StreamLoads: see Config.StreamLoads.
	StreamLoads bool
	// The measured CPU, at most one of: CPUJSON, a file written by
	// `elastic bench screen --json` for the same shape; CPUFullMs (and
	// optionally CPUScreenMs), times measured elsewhere; CPUMeasure, run
	// screen.RunBench here for the task's shape (CPUReps rounds).
	CPUJSON                string
	CPUFullMs, CPUScreenMs float64
	CPUMeasure             bool
	CPUReps                int
}

// MeasuredCPU returns the CPU measurement opts ask for, checked against
// task's shape, or nil.
func (opts Options) MeasuredCPU(task *Task) (*CPUMeasured, error) {
	c, err := opts.measuredCPU(task)
	if err != nil || c == nil {
		return nil, err
	}
	return c, c.Matches(task)
}

func (opts Options) measuredCPU(task *Task) (*CPUMeasured, error) {
	n := 0
	for _, b := range []bool{opts.CPUJSON != "", opts.CPUFullMs != 0 || opts.CPUScreenMs != 0, opts.CPUMeasure} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, fmt.Errorf("enmc: give one CPU measurement: a benchmark JSON, measured times, or a run here")
	}
	switch {
	case opts.CPUJSON != "":
		return ReadCPUBenchFile(opts.CPUJSON)
	case opts.CPUFullMs != 0 || opts.CPUScreenMs != 0:
		c := &CPUMeasured{Source: "times given (--cpu-ms)", Classes: task.Classes, Dim: task.Dim, Batch: task.Batch,
			FullMs: opts.CPUFullMs, ScreenMs: opts.CPUScreenMs}
		return c, c.validate()
	case opts.CPUMeasure:
		res, err := screen.RunBench(screen.BenchConfig{Classes: task.Classes, Dim: task.Dim, Batch: task.Batch,
			KRatio: float64(task.K) / float64(task.Dim), M: opts.M, Reps: max(1, opts.CPUReps), Seed: opts.Seed + 1})
		if err != nil {
			return nil, fmt.Errorf("enmc: measuring the CPU: %w", err)
		}
		return CPUFromBench(res, fmt.Sprintf("screen.RunBench here, %d rounds, %d threads (%s)", res.Reps, res.Threads, res.Impl))
	}
	return nil, nil
}

// ReadTraceFile reads a trace from path: a regular file of bounded size,
// not a device or pipe that never ends.
func ReadTraceFile(path string) (*Task, error) {
	f, _, err := budget.Open(path, MaxTraceBytes)
	if err != nil {
		return nil, fmt.Errorf("enmc: %w", err)
	}
	defer f.Close()
	task, err := ReadTrace(io.LimitReader(f, MaxTraceBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return task, nil
}

// Task builds the task opts describe: the trace file, or a synthetic
// task.
func (opts Options) Task() (*Task, error) {
	if opts.Trace != "" {
		return ReadTraceFile(opts.Trace)
	}
	k := opts.K
	if k == 0 {
		k = opts.Dim / 4
	}
	return SyntheticTask(opts.Classes, opts.Dim, k, opts.Batch, opts.M, opts.Seed)
}

// Simulate builds the task opts describe, runs it on the Table 6.3
// system and compares it with the Xeon 8280 bandwidth model.
func Simulate(opts Options) (*Report, error) {
	cfg := Table63Config()
	if opts.BufferBytes != 0 {
		cfg.BufferBytes = opts.BufferBytes
	}
	cfg.StreamLoads = opts.StreamLoads
	if opts.Partition != "" {
		var err error
		if cfg.Partition, err = ParsePartition(opts.Partition); err != nil {
			return nil, err
		}
	}
	task, err := opts.Task()
	if err != nil {
		return nil, err
	}
	m, err := opts.MeasuredCPU(task) // before the simulation: a bad file fails fast
	if err != nil {
		return nil, err
	}
	rep, err := Run(task, cfg)
	if err != nil {
		return nil, err
	}
	cpu, err := Xeon8280()
	if err != nil {
		return nil, err
	}
	if err := rep.Compare(task, rep.TimeUS, cpu, m); err != nil {
		return nil, err
	}
	return rep, nil
}
