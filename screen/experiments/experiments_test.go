package experiments

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

// small is a Config of every method on a 1500×32 synthetic workload.
func small(t *testing.T) Config {
	t.Helper()
	sc := SynthConfig{Classes: 1500, Dim: 32, Seed: 1, Calib: 600, Tests: 30}
	if err := sc.Check(); err != nil {
		t.Fatal(err)
	}
	return Config{
		Workload: "synth", Command: "test", Load: sc.Load, Threads: 2, Seed: 1, Reps: 2,
		Methods: Methods(), Ms: []int{4, 1500}, Bits: 4, KRatio: 0.25,
		SVDWindows: []int{8}, SVDCands: []int{64},
		HNSWEf: []int{4, 1500}, HNSWM: 8, HNSWEfConstruction: 40, HNSWSpaces: Spaces(),
	}
}

func TestConfigCheck(t *testing.T) {
	base := small(t)
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"llc warm", func(c *Config) { c.LLCMiB = 4 }, "without --cold"},
		{"no methods", func(c *Config) { c.Methods = nil }, "--methods: none given"},
		{"no loader", func(c *Config) { c.Load = nil }, "Load is nil"},
		{"unknown method", func(c *Config) { c.Methods = []string{"full", "exact"} }, `unknown method "exact"`},
		{"no m", func(c *Config) { c.Ms = nil }, "--m: none given"},
		{"no svd", func(c *Config) { c.SVDCands = nil }, "--svd-windows and --svd-cands"},
		{"no ef", func(c *Config) { c.HNSWEf = nil }, "--hnsw-ef: none given"},
		{"no space", func(c *Config) { c.HNSWSpaces = nil }, "--hnsw-space: none given"},
		{"bad space", func(c *Config) { c.HNSWSpaces = []string{"l2"} }, `unknown HNSW space "l2"`},
	} {
		c := base
		tc.edit(&c)
		err := c.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
		// Compare refuses it before loading anything.
		c.Load = func(*kernels.Pool, func(string, ...any)) (*Workload, error) {
			t.Errorf("%s: loaded", tc.name)
			return nil, errors.New("loaded")
		}
		if tc.name == "no loader" {
			continue
		}
		if _, err := Compare(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Compare err %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := base.Check(); err != nil {
		t.Errorf("sound config: %v", err)
	}
	// Budgets beyond the classifier are refused once it is loaded.
	for _, tc := range []struct {
		edit func(c *Config)
		want string
	}{
		{func(c *Config) { c.Ms = []int{1501} }, "--m 1501 exceeds the 1500 classes"},
		{func(c *Config) { c.SVDWindows = []int{33} }, "--svd-windows 33 exceeds the hidden width 32"},
		{func(c *Config) { c.SVDCands = []int{1501} }, "--svd-cands 1501 exceeds"},
	} {
		c := base
		tc.edit(&c)
		if _, err := Compare(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want %q", err, tc.want)
		}
	}
}

func TestSplitVectors(t *testing.T) {
	hs := make([]float32, 5*2)
	for i := range hs {
		hs[i] = float32(i)
	}
	w, err := SplitVectors("f", nil, nil, 7, 2, hs, []int32{0, 1, 2, 3, 4}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Calib, hs[:6]) || !slices.Equal(w.Test, hs[6:]) || !slices.Equal(w.Labels, []int32{3, 4}) {
		t.Errorf("calib %v test %v labels %v", w.Calib, w.Test, w.Labels)
	}
	if _, err := SplitVectors("f", nil, nil, 7, 2, hs, nil, 5); err == nil || !strings.Contains(err.Error(), "need more than --tests 5") {
		t.Errorf("no calibration vector left: err %v", err)
	}
}

// Every method on a small workload: the rows come in order, full and
// screening at m = l reproduce the classifier, every HNSW row names its
// graph's space, and in the Euclidean space an ef covering the whole graph
// finds nearly every top-1.
func TestCompare(t *testing.T) {
	cfg := small(t)
	cfg.Plot = filepath.Join(t.TempDir(), "cmp.png")
	var progress bytes.Buffer
	cfg.Progress = &progress
	r, err := Compare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range r.Rows {
		got = append(got, row.Label()+" "+row.Budget)
		if row.Accuracy == nil || *row.Accuracy < 0 || *row.Accuracy > 1 || !(row.MsPerQuery > 0) || !(row.Speedup > 0) {
			t.Errorf("row %+v", row)
		}
	}
	want := []string{"full dense GEMV", "screen m=4", "screen m=1500", "svd-softmax window=8 n=64",
		"hnsw ip ef=4", "hnsw ip ef=1500", "hnsw ippt ef=4", "hnsw ippt ef=1500"}
	if !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	full, exact := r.Rows[0], r.Rows[2]
	if full.Top1 != 1 || full.Speedup != 1 || exact.Top1 != 1 || exact.Screen.Coverage != 1 || *exact.Accuracy != *full.Accuracy {
		t.Errorf("full %+v, screen m=l %+v %+v", full, exact.SweepRow, *exact.Screen)
	}
	// The Euclidean graph, searched with ef = l, finds nearly every top-1;
	// the inner-product graph may stall below (baseline/hnsw/doc.go), but
	// not below its own ef = 4.
	if ippt := r.Rows[7]; ippt.Top1 < 0.95 {
		t.Errorf("ippt ef=l: top-1 agreement %v, want ≥ 0.95", ippt.Top1)
	}
	if ip, ip4 := r.Rows[5], r.Rows[4]; ip.Top1 < ip4.Top1 {
		t.Errorf("ip: top-1 agreement %v at ef=l below %v at ef=4", ip.Top1, ip4.Top1)
	}
	if len(r.HNSW) != 2 || r.HNSW[0].Space != SpaceIP || r.HNSW[1].Space != SpaceIPPT || r.HNSWLinks != 0 || r.HNSWSeconds != 0 {
		t.Errorf("graphs %+v, single-graph fields %v %v", r.HNSW, r.HNSWSeconds, r.HNSWLinks)
	}
	if b, err := os.ReadFile(cfg.Plot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) || r.PlotFile != cfg.Plot {
		t.Errorf("plot: %v, %d bytes, %q", err, len(b), r.PlotFile)
	}
	for _, s := range []string{"generating a 1500×32 synthetic classifier", "building the HNSW graph (ippt space", "wrote " + cfg.Plot} {
		if !strings.Contains(progress.String(), s) {
			t.Errorf("progress lacks %q:\n%s", s, progress.String())
		}
	}
	var md bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| hnsw ippt | ef=4 |", "| hnsw ip | ef=1500 |", "HNSW ippt graph (Euclidean distances after the inner-product preserving transformation)",
		"Accuracy: top-1 against the class each input was drawn for."} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, md.String())
		}
	}

	// One space: one graph, reported in the single-graph fields too.
	cfg.Methods, cfg.HNSWSpaces, cfg.Plot = []string{MethodHNSW}, []string{SpaceIPPT}, ""
	r, err = Compare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || r.Rows[0].Space != SpaceIPPT || len(r.HNSW) != 1 || r.HNSWLinks != r.HNSW[0].Links || r.HNSWLinks == 0 {
		t.Errorf("ippt only: rows %+v graphs %+v links %d", r.Rows, r.HNSW, r.HNSWLinks)
	}
}

// With the labels the classifier's own predictions, full accuracy is 1.
func TestCompareAccuracyAgainstLabels(t *testing.T) {
	sc := SynthConfig{Classes: 300, Dim: 16, Seed: 3, Calib: 200, Tests: 20}
	cfg := Config{Workload: "own", Threads: 1, Reps: 1, Methods: []string{MethodFull},
		Load: func(p *kernels.Pool, say func(string, ...any)) (*Workload, error) {
			w, err := sc.Load(p, say)
			if err != nil {
				return nil, err
			}
			z := make([]float32, w.L)
			w.Labels = make([]int32, sc.Tests)
			for i := range w.Labels {
				kernels.Gemv(z, w.W, w.D, w.Test[i*w.D:(i+1)*w.D], w.B)
				w.Labels[i] = int32(slices.Index(z, slices.Max(z)))
			}
			w.LabelMeaning = "the full classifier's top-1"
			return w, nil
		}}
	r, err := Compare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Rows[0].Accuracy; a == nil || *a != 1 {
		t.Errorf("full accuracy %v, want 1", a)
	}
}
