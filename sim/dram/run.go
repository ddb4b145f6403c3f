package dram

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/sim/core"
)

// MaxTraceBytes caps the trace file Run reads; a trace of a real run is
// megabytes.
const MaxTraceBytes = 1 << 30

// Options configure a DRAM run.
type Options struct {
	Preset   string // timing preset; "" means DDR4-2400R
	Org      Org    // zero means Table63
	Mapping  string // mapping preset or field list; "" means bg-interleaved
	Pattern  string // "stream", "random" or "trace" (Run); ignored by RunTrace
	Trace    string // trace file for pattern "trace" (see ParseTrace)
	Requests int64  // bursts per channel (Run)
	// WriteFraction of the generated requests are writes (seeded).
	WriteFraction float64
	Seed          uint64
}

// Report is a run's result. Bandwidths are in GB/s (10⁹ bytes per
// second) under the json name gbps; Cycles runs to the last data beat of
// the slowest channel. RowHitRate is the share of requests served without
// an ACT or PRE of their own; RefreshShare is the share of rank-cycles
// spent in tRFC, RefreshShareExpected its nominal tRFC/tREFI; PJPerBit
// is all energy (commands and standby of every rank) over the bits moved.
type Report struct {
	Preset               string             `json:"preset"`
	Pattern              string             `json:"pattern"`
	Mapping              string             `json:"mapping"`
	MappingFields        string             `json:"mapping_fields"`
	Channels             int                `json:"channels"`
	Ranks                int                `json:"ranks_per_channel"`
	Requests             int64              `json:"requests"`
	Bytes                int64              `json:"bytes"`
	Cycles               int64              `json:"cycles"`
	Seconds              float64            `json:"seconds"`
	GBps                 float64            `json:"gbps"`
	GBpsPerChannel       float64            `json:"gbps_per_channel"`
	PeakGBpsPerChannel   float64            `json:"peak_gbps_per_channel"`
	RefreshBoundGBps     float64            `json:"refresh_bound_gbps_per_channel"`
	OfRefreshBound       float64            `json:"fraction_of_refresh_bound"`
	RowHitRate           float64            `json:"row_hit_rate"`
	RefreshShare         float64            `json:"refresh_share"`
	RefreshShareExpected float64            `json:"refresh_share_expected"`
	ReadLatencyNS        float64            `json:"avg_read_latency_ns"`
	PJPerBit             float64            `json:"pj_per_bit"`
	EnergyPJ             map[string]float64 `json:"energy_pj"`
	Commands             map[string]int64   `json:"commands"`
}

// config is a validated Options.
type config struct {
	t   *Timing
	o   Org
	m   Mapping
	idd IDD
	e   CommandEnergy
}

func (opts Options) config() (*config, error) {
	name := opts.Preset
	if name == "" {
		name = "DDR4-2400R"
	}
	t, err := Preset(name)
	if err != nil {
		return nil, err
	}
	o := opts.Org
	if o == (Org{}) {
		o = Table63()
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	mname := opts.Mapping
	if mname == "" {
		mname = "bg-interleaved"
	}
	m, err := ParseMapping(mname)
	if err != nil {
		return nil, err
	}
	if !(opts.WriteFraction >= 0 && opts.WriteFraction <= 1) {
		return nil, fmt.Errorf("dram: write fraction %v not in [0, 1]", opts.WriteFraction)
	}
	// The IDD currents are DDR4-2400 datasheet values; other speed bins
	// reuse them (an assumption the report's preset name makes visible).
	idd := MT40A1G8()
	e, err := idd.Energies(t, o)
	if err != nil {
		return nil, err
	}
	return &config{t: t, o: o, m: m, idd: idd, e: e}, nil
}

// genSource generates one channel's stream or random requests.
type genSource struct {
	cfg    *config
	ch     int
	random bool
	i, n   int64
	wf     float64
	rng    *rand.Rand
}

func (s *genSource) Next() (Request, bool) {
	if s.i >= s.n {
		return Request{}, false
	}
	line := s.i
	if s.random {
		line = s.rng.Int64N(s.cfg.o.LinesPerChannel())
	} else {
		line %= s.cfg.o.LinesPerChannel()
	}
	s.i++
	w := s.wf > 0 && s.rng.Float64() < s.wf
	return Request{Addr: s.cfg.m.Local(s.cfg.o, s.ch, line), Write: w}, true
}

// Run simulates opts.Requests bursts per channel of the given pattern on
// every channel and reports bandwidth, row hits, refresh and energy.
// "stream" reads each channel's bursts in address order under the
// mapping; "random" draws them uniformly over the channel (seeded);
// "trace" replays the file opts.Trace (RunTrace).
func Run(opts Options) (*Report, error) {
	if opts.Pattern == "trace" {
		// A regular file of bounded size: not a device or pipe that never ends.
		f, _, err := budget.Open(opts.Trace, MaxTraceBytes)
		if err != nil {
			return nil, fmt.Errorf("dram: %w", err)
		}
		defer f.Close()
		tr, err := ParseTrace(io.LimitReader(f, MaxTraceBytes))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opts.Trace, err)
		}
		return RunTrace(opts, tr)
	}
	cfg, err := opts.config()
	if err != nil {
		return nil, err
	}
	if opts.Requests <= 0 || opts.Requests > 1<<32 {
		return nil, fmt.Errorf("dram: %d requests per channel, want 1 … 2^32", opts.Requests)
	}
	var random bool
	switch opts.Pattern {
	case "stream":
	case "random":
		random = true
	default:
		return nil, fmt.Errorf("dram: unknown pattern %q (stream, random, trace)", opts.Pattern)
	}
	srcs := make([]Source, cfg.o.Channels)
	for ch := range srcs {
		srcs[ch] = &genSource{cfg: cfg, ch: ch, random: random, n: opts.Requests, wf: opts.WriteFraction,
			rng: rand.New(rand.NewPCG(opts.Seed, uint64(ch)))}
	}
	return cfg.simulate(opts.Pattern, srcs)
}

// simulate runs one controller per channel on one engine.
func (cfg *config) simulate(pattern string, srcs []Source) (*Report, error) {
	clk := core.Clock{Name: "dram", Hz: uint64(cfg.t.RateMTs) * 1_000_000 / 2}
	eng, err := core.NewEngine(clk)
	if err != nil {
		return nil, err
	}
	ctrls := make([]*Controller, len(srcs))
	for i, s := range srcs {
		if ctrls[i], err = NewController(cfg.t, cfg.o, s); err != nil {
			return nil, err
		}
		if _, err := eng.Add(ctrls[i], clk); err != nil {
			return nil, err
		}
	}
	if _, err := eng.Run(0); err != nil {
		return nil, err
	}
	rep := &Report{Preset: cfg.t.Name, Pattern: pattern, Mapping: cfg.m.Name, MappingFields: cfg.m.String(),
		Channels: cfg.o.Channels, Ranks: cfg.o.Ranks,
		EnergyPJ: map[string]float64{}, Commands: map[string]int64{}}
	var hits, reads, latency, refresh int64
	for _, c := range ctrls {
		if err := c.Err(); err != nil {
			return nil, err
		}
		s := c.Stats()
		rep.Requests += s.Reads + s.Writes
		hits += s.RowHits
		reads += s.Reads
		latency += s.LatencySum
		refresh += s.RefreshCycles
		rep.Cycles = max(rep.Cycles, s.Done)
		for k := range numCommands {
			rep.Commands[k.String()] += s.Commands[k]
		}
		for k, v := range cfg.e.Of(s) {
			rep.EnergyPJ[k] += v
		}
	}
	if rep.Requests == 0 {
		return nil, errors.New("dram: no requests")
	}
	line := int64(cfg.o.LineBytes())
	rep.Bytes = rep.Requests * line
	rep.Seconds = clk.Seconds(rep.Cycles)
	rep.GBps = float64(rep.Bytes) / rep.Seconds / 1e9
	rep.GBpsPerChannel = rep.GBps / float64(cfg.o.Channels)
	rep.PeakGBpsPerChannel = cfg.t.PeakBytesPerSecond() / 1e9
	rep.RefreshShareExpected = float64(cfg.t.RFC) / float64(cfg.t.REFI)
	rep.RefreshBoundGBps = rep.PeakGBpsPerChannel * (1 - rep.RefreshShareExpected)
	rep.OfRefreshBound = rep.GBpsPerChannel / rep.RefreshBoundGBps
	rep.RowHitRate = float64(hits) / float64(rep.Requests)
	rep.RefreshShare = float64(refresh) / float64(int64(cfg.o.Channels*cfg.o.Ranks)*rep.Cycles)
	if reads > 0 {
		rep.ReadLatencyNS = float64(latency) / float64(reads) * cfg.t.TCKps / 1000
	}
	total := 0.0
	for _, k := range EnergyParts() { // fixed order: float sums must not follow map order
		total += rep.EnergyPJ[k]
	}
	rep.EnergyPJ["total"] = total
	rep.PJPerBit = total / float64(rep.Bytes*8)
	if err := cfg.check(rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// check asserts the invariants of every run: no channel beats its data
// bus, and the shares are fractions.
func (cfg *config) check(rep *Report) error {
	perCh := float64(rep.Bytes) / float64(cfg.o.Channels)
	// One burst per BL cycles is the data-bus bound of a channel.
	bus := core.Bound{Name: "data bus", Work: perCh / float64(cfg.o.LineBytes()) * float64(cfg.t.BL), Rate: 1}
	if err := core.CheckBounds(rep.Cycles, bus); err != nil {
		return fmt.Errorf("dram: invariant: %w", err)
	}
	for name, v := range map[string]float64{"row hit rate": rep.RowHitRate, "refresh share": rep.RefreshShare} {
		if !(v >= 0 && v <= 1) || math.IsNaN(v) {
			return fmt.Errorf("dram: invariant: %s %v not in [0, 1]", name, v)
		}
	}
	return nil
}
