package enmc

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/sim/dram"
)

// CPUModel is a host CPU reduced to its memory system: classification on
// it takes at least its bytes over the sustained stream bandwidth of its
// channels (measured on the DDR4 model). That is the fastest such a CPU
// can be when the classifier is not cache-resident, so a speed-up over it
// is a lower bound on the speed-up over the real CPU. It is not a
// measurement of any CPU.
type CPUModel struct {
	Name     string
	L3Bytes  int64   // a classifier this small may be served from cache: the bound does not apply
	GBps     float64 // sustained stream bandwidth of all channels (DDR4 model)
	Channels int
	Preset   string
}

// Xeon8280 models the thesis's CPU baseline (§6.5.2): Xeon Platinum 8280,
// 6 channels of DDR4-2666 (128 GB/s peak; 2 ranks per channel assumed),
// 38.5 MB L3 (Intel's published figure). The bandwidth is our DDR4
// model's sequential stream on that memory.
func Xeon8280() (*CPUModel, error) {
	o := dram.Table63()
	o.Channels, o.Ranks = 6, 2
	r, err := dram.Run(dram.Options{Preset: "DDR4-2666V", Org: o, Pattern: "stream", Requests: 1 << 15})
	if err != nil {
		return nil, fmt.Errorf("enmc: CPU model: %w", err)
	}
	return &CPUModel{Name: "Xeon 8280, 6×DDR4-2666 (bandwidth bound, modelled)", L3Bytes: 38_500_000,
		GBps: r.GBps, Channels: o.Channels, Preset: r.Preset}, nil
}

// CPUFullBytes is what full classification reads: W (FP32) and b, once per
// batch (the batch's GEMM streams W once).
func CPUFullBytes(t *Task) int64 { return int64(t.Classes) * (int64(t.Dim)*4 + 4) }

// CPUScreenBytes is what screening reads on a CPU: the INT4 screener and its
// bias, then the candidate rows of W, each distinct row once per batch.
func CPUScreenBytes(t *Task) int64 {
	union := map[int32]struct{}{}
	for _, c := range t.Candidates {
		for _, j := range c {
			union[j] = struct{}{}
		}
	}
	return int64(t.Classes)*(int64(t.K+1)/2+4) + int64(len(union))*int64(t.Dim)*4
}

// Seconds returns the bound for reading n bytes.
func (c *CPUModel) Seconds(n int64) float64 { return float64(n) / (c.GBps * 1e9) }

// CPUMeasured is a measured CPU run of one shape: full classification and
// screening timed on this machine by package screen's benchmark
// (screen.RunBench, `elastic bench screen --json`). Nothing here is a
// constant: it comes from a run or a file written by one.
type CPUMeasured struct {
	Source              string  `json:"source"`
	Classes, Dim, Batch int     `json:"-"`
	M                   int     `json:"m,omitempty"`
	Candidates          float64 `json:"candidates,omitempty"`
	FullMs              float64 `json:"full_ms"`
	ScreenMs            float64 `json:"screen_ms"`
	Threads             int     `json:"threads,omitempty"`
	Impl                string  `json:"impl,omitempty"`
	// Note says how the times were derived when not as measured (e.g. a
	// batch's baseline as several batch-1 calls).
	Note string `json:"note,omitempty"`
}

// CPUFromBench takes the fields of a screen benchmark result.
func CPUFromBench(r *screen.BenchResult, source string) (*CPUMeasured, error) {
	c := &CPUMeasured{Source: source, Classes: r.Classes, Dim: r.Dim, Batch: r.Batch, M: r.M,
		Candidates: r.Candidates, FullMs: r.FullMs, ScreenMs: r.ScreenMs, Threads: r.Threads, Impl: r.Impl}
	return c, c.validate()
}

func (c *CPUMeasured) validate() error {
	ok := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case c.Classes <= 0 || c.Dim <= 0 || c.Batch <= 0:
		return fmt.Errorf("enmc: CPU measurement of %d classes × %d, batch %d", c.Classes, c.Dim, c.Batch)
	case !ok(c.FullMs) || !(c.ScreenMs == 0 || ok(c.ScreenMs)):
		return fmt.Errorf("enmc: CPU measurement: full %v ms, screening %v ms are not positive finite times", c.FullMs, c.ScreenMs)
	}
	return nil
}

// ReadCPUBench parses the JSON `elastic bench screen --json` prints. The
// shape and both times must be present and sane. (A ScreenMs of 0 means
// not measured, for times given by hand.)
func ReadCPUBench(r io.Reader, source string) (*CPUMeasured, error) {
	var b struct {
		Classes, Dim, Batch, M *int
		Threads                int
		Impl                   string
		Candidates             float64
		FullMs                 *float64 `json:"full_ms"`
		ScreenMs               *float64 `json:"screen_ms"`
	}
	dec := json.NewDecoder(io.LimitReader(r, maxCPUBenchBytes))
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("enmc: CPU benchmark JSON %s: %w", source, err)
	}
	if b.Classes == nil || b.Dim == nil || b.Batch == nil || b.FullMs == nil || b.ScreenMs == nil {
		return nil, fmt.Errorf("enmc: CPU benchmark JSON %s lacks classes, dim, batch, full_ms or screen_ms (not elastic bench screen --json output?)", source)
	}
	c := &CPUMeasured{Source: source, Classes: *b.Classes, Dim: *b.Dim, Batch: *b.Batch, Candidates: b.Candidates,
		FullMs: *b.FullMs, ScreenMs: *b.ScreenMs, Threads: b.Threads, Impl: b.Impl}
	if b.M != nil {
		c.M = *b.M
	}
	return c, c.validate()
}

// maxCPUBenchBytes bounds a CPU benchmark file (one small JSON object).
const maxCPUBenchBytes = 1 << 20

// ReadCPUBenchFile reads ReadCPUBench's format from path, a regular file
// of at most 1 MiB.
func ReadCPUBenchFile(path string) (*CPUMeasured, error) {
	f, _, err := budget.Open(path, maxCPUBenchBytes)
	if err != nil {
		return nil, fmt.Errorf("enmc: %w", err)
	}
	defer f.Close()
	return ReadCPUBench(f, path)
}

// Matches reports a measurement of another shape than task's.
func (c *CPUMeasured) Matches(t *Task) error {
	if c.Classes != t.Classes || c.Dim != t.Dim || c.Batch != t.Batch {
		return fmt.Errorf("enmc: the CPU measurement %s is of %d×%d batch %d, the task is %d×%d batch %d",
			c.Source, c.Classes, c.Dim, c.Batch, t.Classes, t.Dim, t.Batch)
	}
	return nil
}

// CPUComparison relates a simulated time to the CPUs. The model
// (CPUModel; a bandwidth bound, not a measured CPU): its full
// classification and screening times and the speed-up over its full
// classification; CPUCacheResident: the classifier fits its L3, where the
// bound does not hold. The measured CPU (this machine, the same shape):
// SpeedupVsCPU is its full classification's time over the simulated one,
// SpeedupVsCPUScreen its screening's; null without a measurement.
type CPUComparison struct {
	CPUModel           string       `json:"cpu_model"`
	CPUFullUS          float64      `json:"cpu_model_full_us"`
	CPUScreenUS        float64      `json:"cpu_model_screen_us"`
	SpeedupVsCPUModel  float64      `json:"speedup_vs_cpu_model"`
	CPUCacheResident   bool         `json:"cpu_cache_resident"`
	CPU                *CPUMeasured `json:"cpu_measured,omitempty"`
	SpeedupVsCPU       *float64     `json:"speedup_vs_cpu"`
	SpeedupVsCPUScreen *float64     `json:"speedup_vs_cpu_screen"`
}

// Compare fills c for a run of task that took timeUS, against the model
// and, when m is not nil, the measurement m (of task's shape).
func (c *CPUComparison) Compare(task *Task, timeUS float64, model *CPUModel, m *CPUMeasured) error {
	c.CPUModel = model.Name
	c.CPUFullUS = model.Seconds(CPUFullBytes(task)) * 1e6
	c.CPUScreenUS = model.Seconds(CPUScreenBytes(task)) * 1e6
	c.SpeedupVsCPUModel = c.CPUFullUS / timeUS
	c.CPUCacheResident = CPUFullBytes(task) <= model.L3Bytes
	if m == nil {
		return nil
	}
	if err := m.Matches(task); err != nil {
		return err
	}
	c.CPU = m
	full := m.FullMs * 1e3 / timeUS
	c.SpeedupVsCPU = &full
	if m.ScreenMs > 0 {
		scr := m.ScreenMs * 1e3 / timeUS
		c.SpeedupVsCPUScreen = &scr
	}
	return nil
}
