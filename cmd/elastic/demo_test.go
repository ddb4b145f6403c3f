package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--help"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	golden(t, "demo-help.golden", out.String())
}

func TestDemoJSONAndPlot(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "demo.png")
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--json", "--tokens", "30", "--cold-tokens", "3", "--threads", "1", "--plot", plot}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Model   map[string]any              `json:"model"`
		Tokens  int                         `json:"tokens"`
		Threads int                         `json:"threads"`
		Rows    []map[string]any            `json:"rows"`
		Parts   map[string][]map[string]any `json:"parts"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if res.Tokens != 30 || res.Threads != 1 || len(res.Rows) != 5 {
		t.Errorf("tokens %d, threads %d, %d rows; want 30, 1, 5", res.Tokens, res.Threads, len(res.Rows))
	}
	for _, key := range []string{"arch", "cell", "hidden", "layers", "epoch", "model_bytes", "little_bits", "little_precision", "little_kx", "recurrent_share"} {
		if _, ok := res.Model[key]; !ok {
			t.Errorf("model lacks %q: %v", key, res.Model)
		}
	}
	for _, row := range append(append(res.Rows, res.Parts["dmi"]...), res.Parts["screened"]...) {
		for _, key := range []string{"ratio", "m", "ppl_dense", "ppl", "dppl", "top1_agreement", "warm_speedup", "cold_speedup", "warm_ms", "cold_ms", "insensitive_ratio"} {
			if _, ok := row[key]; !ok {
				t.Errorf("row lacks %q: %v", key, row)
			}
		}
	}
	if len(res.Parts["dmi"]) != 5 || len(res.Parts["screened"]) != 5 {
		t.Errorf("parts: %d DMI rows, %d screened rows, want 5 each", len(res.Parts["dmi"]), len(res.Parts["screened"]))
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.DecodeConfig(f); err != nil {
		t.Errorf("plot is not a PNG: %v", err)
	}
}

func TestDemoTable(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--tokens", "20", "--cold-tokens", "2", "--plot", ""}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"model: lstm", "checkpoint 5.1 epochs, validation perplexity 44.21", "little modules: INT", "screened decoder: INT4", "elastic model", "dual-module layers only", "screened decoder only", "PPL dense", "cold ms", "    0.9  "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "plot:") {
		t.Errorf("--plot \"\" still reports a plot:\n%s", s)
	}
	if lines := strings.Count(s, "×\n"); lines != 15 {
		t.Errorf("%d table rows, want 3×5:\n%s", lines, s)
	}
}

func TestDemoBadFlags(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"demo", "--tokens", "1"}, "--tokens 1: want ≥ 2"},
		{[]string{"demo", "--tokens", "-3"}, "--tokens -3: want ≥ 2"},
		{[]string{"demo", "--threads", "-1"}, "--threads -1: want in [1, 32768]"},
		{[]string{"demo", "--tokens", "many"}, "--tokens many: not an integer"},
		{[]string{"demo", "--nosuchflag"}, "unknown flag"},
		{[]string{"demo", "extra"}, "unknown command"},
		{[]string{"demo", "--tokens", "20", "--cold-tokens", "2", "--plot", filepath.Join(t.TempDir(), "no", "dir.png")}, "dir.png"},
		{[]string{"demo", "--tokens", "100000"}, "the sample holds"},
		{[]string{"demo", "--m", "0"}, "--m 0: want ≥ 1"},
		{[]string{"demo", "--m", "9000"}, "the decoder has 8323 classes"},
		{[]string{"demo", "--prompt", "zzyzx qqq"}, "no word of the model's vocabulary"},
		{[]string{"demo", "--prompt", "and", "--ratio", "1"}, "--ratio 1: want in [0, 1)"},
		{[]string{"demo", "--prompt", "and", "--words", "0"}, "--words 0: want in [1, 1000]"},
	})
}

func TestDemoPrompt(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--prompt", "In the beginning", "--words", "5", "--threads", "1"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"prompt: in the beginning", "dense   (", "elastic (", "tokens/s", "insensitive ratio 0.50", "m=256"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
