package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestSimDRAMJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"sim", "dram", "--pattern", "random", "--requests", "200", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"channels", "gbps", "gbps_per_channel", "row_hit_rate", "refresh_share", "pj_per_bit", "cycles"} {
		if _, ok := rep[key]; !ok {
			t.Errorf("JSON report lacks %q", key)
		}
	}
	if rep["channels"] != 8.0 || rep["requests"] != 1600.0 {
		t.Errorf("channels %v, requests %v; want 8 and 8 × 200", rep["channels"], rep["requests"])
	}
}

func TestSimDRAMTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.trace")
	if err := os.WriteFile(path, []byte("R 0x0\nW 0x40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"sim", "dram", "--trace", path}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.trace")
	if err := os.WriteFile(bad, []byte("R 0x0\nQ 12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkCLIErrors(t, []cliError{
		{[]string{"sim", "dram", "--trace", bad}, "trace line 2"},
		{[]string{"sim", "dram", "--preset", "DDR9"}, "unknown timing preset"},
		{[]string{"sim", "dram", "--mapping", "ro-ro-ba-co-ch-bg"}, "twice"},
		{[]string{"sim", "dram", "--pattern", "zigzag"}, "unknown pattern"},
		{[]string{"sim", "dram", "--requests", "0"}, "--requests 0: want ≥ 1"},
		{[]string{"sim", "dram", "--writes", "2"}, "--writes 2: want in [0, 1]"},
		{[]string{"sim", "dram", "extra"}, "unknown command"},
	})
}

func TestSimENMC(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"sim", "enmc", "--classes", "20000", "--dim", "128", "--batch", "2", "--m", "10", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"cycles", "time_us", "speedup_vs_cpu", "energy_uj", "dram_bytes", "candidates", "rank_cycles", "host_issue_cycles"} {
		if _, ok := rep[key]; !ok {
			t.Errorf("JSON report lacks %q", key)
		}
	}
	if rep["candidates"] != 20.0 || rep["k"] != 32.0 {
		t.Errorf("candidates %v, k %v; want 2 × 10 and 128/4", rep["candidates"], rep["k"])
	}
	path := filepath.Join(t.TempDir(), "c.trace")
	if err := run([]string{"sim", "trace", "--classes", "2048", "--dim", "64", "--m", "8", "--batch", "2", "--calib", "256", "--out", path}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run([]string{"sim", "enmc", "--trace", path}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.trace")
	if err := os.WriteFile(bad, []byte("# elastic enmc trace v1\ntask classes=10 dim=8 k=4 batch=1\nitem 0 1 12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkCLIErrors(t, []cliError{
		{[]string{"sim", "enmc", "--trace", bad}, "another classifier"},
		{[]string{"sim", "enmc", "--batch", "65", "--classes", "1000"}, "PSUM"},
		{[]string{"sim", "enmc", "--classes", "100", "--m", "101"}, "candidates of 100 classes"},
		{[]string{"sim", "enmc", "--buffer", "100"}, "bursts"},
		{[]string{"sim", "enmc", "--dim", "0"}, "--dim 0: want in [1, 1048576]"},
		{[]string{"sim", "trace", "--m", "8"}, "no output file"},
		{[]string{"sim", "trace", "--out", "x", "--batch", "0"}, "batch 0"},
	})
}

func TestSimENMCPartitionFlag(t *testing.T) {
	checkCLIErrors(t, []cliError{{[]string{"sim", "enmc", "--classes", "1000", "--partition", "striped"}, "unknown partition"}})
}

// A measured CPU from a bench screen JSON of the same shape gives
// speedup_vs_cpu; another shape is refused.
func TestSimMeasuredCPU(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "cpu.json")
	if err := os.WriteFile(good, []byte(`{"classes": 20000, "dim": 128, "batch": 1, "m": 10, "full_ms": 2, "screen_ms": 0.2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"enmc", "baseline"} {
		var out, errOut bytes.Buffer
		if err := run([]string{"sim", sub, "--classes", "20000", "--dim", "128", "--m", "10", "--cpu-json", good, "--json"}, &out, &errOut); err != nil {
			t.Fatal(err)
		}
		var rep map[string]any
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		sp, ok := rep["speedup_vs_cpu"].(float64)
		tu, _ := rep["time_us"].(float64)
		if !ok || tu <= 0 || sp < 0.999*2e3/tu || sp > 1.001*2e3/tu {
			t.Errorf("%s: speedup_vs_cpu %v for %v µs against 2 ms", sub, rep["speedup_vs_cpu"], tu)
		}
		for _, key := range []string{"cycles", "energy_uj", "dram_bytes", "candidates", "speedup_vs_cpu_model"} {
			if _, ok := rep[key]; !ok {
				t.Errorf("%s: JSON report lacks %q", sub, key)
			}
		}
	}
	checkCLIErrors(t, []cliError{
		{[]string{"sim", "enmc", "--classes", "30000", "--dim", "128", "--cpu-json", good}, "is of 20000×128"},
		{[]string{"sim", "baseline", "--classes", "20000", "--dim", "128", "--cpu-json", filepath.Join(dir, "none.json")}, "no such file"},
		{[]string{"sim", "enmc", "--classes", "20000", "--dim", "128", "--cpu-ms", "-1"}, "want > 0"},
		{[]string{"sim", "baseline", "--design", "tpu"}, "unknown design"},
	})
}

func TestSimTraceModelBadInput(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"sim", "trace-model", "--out", "x.trace"}, "exactly one source"},
		{[]string{"sim", "trace-model", "--lm"}, "--out is required"},
		{[]string{"sim", "trace-model", "--lm", "--classifier", "/nonexistent.safetensors", "--out", "x.trace"}, "nonexistent"},
		{[]string{"sim", "figures", "--cpu-dir", "/nonexistent"}, "no such file"},
		{[]string{"sim", "figures", "--from", "/nonexistent.json"}, "no such file"},
	})
}
