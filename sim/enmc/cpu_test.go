package enmc

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/elasticml/elastic/screen"
)

func benchJSON(t *testing.T, r screen.BenchResult) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadCPUBench(t *testing.T) {
	good := screen.BenchResult{Classes: 19200, Dim: 128, Batch: 2, M: 40, FullMs: 2.5, ScreenMs: 0.25, Threads: 2, Impl: "avx2", Candidates: 77}
	c, err := ReadCPUBench(strings.NewReader(benchJSON(t, good)), "good.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Classes != 19200 || c.Dim != 128 || c.Batch != 2 || c.M != 40 || c.FullMs != 2.5 || c.ScreenMs != 0.25 || c.Candidates != 77 {
		t.Errorf("parsed %+v", c)
	}
	if err := c.Matches(smallTask(t, 2, 40)); err != nil {
		t.Error(err)
	}
	if err := c.Matches(smallTask(t, 1, 40)); err == nil {
		t.Error("a batch-2 measurement matched a batch-1 task")
	}
	for name, in := range map[string]string{
		"empty":     "",
		"truncated": benchJSON(t, good)[:40],
		"not json":  "classes 19200",
		"no times":  `{"classes": 10, "dim": 4, "batch": 1}`,
		"no shape":  `{"full_ms": 1, "screen_ms": 1}`,
		"zero":      benchJSON(t, screen.BenchResult{Classes: 10, Dim: 4, Batch: 1, FullMs: 0, ScreenMs: 1}),
		"negative":  benchJSON(t, screen.BenchResult{Classes: 10, Dim: 4, Batch: 1, FullMs: 1, ScreenMs: -1}),
		"bad shape": benchJSON(t, screen.BenchResult{Classes: 0, Dim: 4, Batch: 1, FullMs: 1, ScreenMs: 1}),
		"huge":      `{"classes": 10, "dim": 4, "batch": 1, "full_ms": 1e999, "screen_ms": 1}`,
	} {
		if _, err := ReadCPUBench(strings.NewReader(in), name); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// speedup_vs_cpu is the measured full classification's time over the
// simulated time; the modelled Xeon stays a separate field.
func TestSimulateMeasuredCPU(t *testing.T) {
	opts := Options{Classes: 64 * 300, Dim: 128, K: 32, Batch: 1, M: 20, Seed: 3}
	rep, err := Simulate(opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SpeedupVsCPU != nil || rep.CPU != nil {
		t.Error("a speed-up over a CPU that was not measured")
	}
	opts.CPUFullMs, opts.CPUScreenMs = 3, 0.5
	rep, err = Simulate(opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SpeedupVsCPU == nil || math.Abs(*rep.SpeedupVsCPU-3e3/rep.TimeUS) > 1e-9**rep.SpeedupVsCPU ||
		rep.SpeedupVsCPUScreen == nil || math.Abs(*rep.SpeedupVsCPUScreen-0.5e3/rep.TimeUS) > 1e-9**rep.SpeedupVsCPUScreen {
		t.Errorf("speed-ups %v %v for %v µs", rep.SpeedupVsCPU, rep.SpeedupVsCPUScreen, rep.TimeUS)
	}
	if rep.SpeedupVsCPUModel == *rep.SpeedupVsCPU {
		t.Error("the modelled CPU and the measured one gave the same speed-up")
	}
	opts.CPUJSON = "x.json"
	if _, err := Simulate(opts); err == nil {
		t.Error("two CPU measurements accepted")
	}
	opts.CPUFullMs, opts.CPUScreenMs = 0, 0
	if _, err := Simulate(opts); err == nil {
		t.Error("a missing CPU benchmark file accepted")
	}
}

func FuzzReadCPUBench(f *testing.F) {
	f.Add(`{"classes": 10, "dim": 4, "batch": 1, "m": 3, "full_ms": 1.5, "screen_ms": 0.1}`)
	f.Add(`{"classes": -1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ReadCPUBench(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		if c.Classes <= 0 || c.Dim <= 0 || c.Batch <= 0 || !(c.FullMs > 0) || math.IsInf(c.FullMs, 0) || c.ScreenMs < 0 {
			t.Fatalf("accepted %+v", c)
		}
	})
}
