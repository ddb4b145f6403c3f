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
		{[]string{"sim", "dram", "--requests", "0"}, "requests per channel"},
		{[]string{"sim", "dram", "--writes", "2"}, "write fraction"},
		{[]string{"sim", "dram", "extra"}, "unknown command"},
	})
}
