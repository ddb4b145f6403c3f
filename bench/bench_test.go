package bench

import (
	"errors"
	"math"
	"testing"
)

func TestParseCacheSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"266240K", 266240 << 10, true},
		{"2M", 2 << 20, true},
		{"1G", 1 << 30, true},
		{"512", 512, true},
		{"", 0, false},
		{"12X", 0, false},
		{"-4K", 0, false},
	} {
		got, err := parseCacheSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseCacheSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCopiesSpanTwiceTheCache(t *testing.T) {
	for _, tc := range []struct{ operand, llc int }{
		{72 << 20, 260 << 20}, {200 << 20, 260 << 20}, {9 << 20, 260 << 20}, {1 << 30, 32 << 20}, {1, 1 << 20},
	} {
		c := Copies(tc.operand, tc.llc)
		if c < 2 || c*tc.operand < 2*tc.llc {
			t.Errorf("Copies(%d, %d) = %d: spans %d bytes, want ≥ %d", tc.operand, tc.llc, c, c*tc.operand, 2*tc.llc)
		}
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in            []float64
		med, min, max float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{7}, 7, 7, 7},
	} {
		got := summarize(tc.in)
		if got.Median != tc.med || got.Min != tc.min || got.Max != tc.max || got.Reps != len(tc.in) {
			t.Errorf("summarize(%v) = %+v", tc.in, got)
		}
	}
}

func TestRunGemvSmall(t *testing.T) {
	res, err := RunGemv(GemvConfig{Rows: 257, Cols: 131, Keep: 0.3, Reps: 3, Threads: 2, Seed: 7, LLC: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]float64{
		"copy_gbps": res.CopyGBps, "dense_ms": res.DenseMs, "gather_ms": res.GatherMs,
		"int8_ms": res.Int8Ms, "int4_ms": res.Int4Ms, "dense_gbps": res.DenseGBps,
		"half_ms": res.HalfMs, "half_gather_ms": res.HalfGthMs, "half_gather_gbps_over_gather": res.HalfGthRel,
	} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %g, want finite and positive", name, v)
		}
	}
	if res.Rows != 257 || res.Cols != 131 || res.Threads != 2 {
		t.Errorf("result echoes wrong config: %+v", res)
	}
}

func TestRunGemvRejectsBadConfig(t *testing.T) {
	for _, cfg := range []GemvConfig{
		{Rows: 0, Cols: 3, Keep: 0.5, Reps: 1},
		{Rows: 3, Cols: 3, Keep: 0, Reps: 1},
		{Rows: 3, Cols: 3, Keep: 1.5, Reps: 1},
		{Rows: 3, Cols: 3, Keep: math.NaN(), Reps: 1},
		{Rows: 3, Cols: 3, Keep: 0.5, Reps: 0},
	} {
		if _, err := RunGemv(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("RunGemv(%+v) error = %v, want ErrConfig", cfg, err)
		}
	}
}

func TestRunFitSmall(t *testing.T) {
	res, err := RunFit(FitConfig{N: 40, D: 64, K: 16, Samples: 500, Chunk: 128, Held: 50, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	// A random map restricted to a 16-dim projection of a 64-dim isotropic
	// input can explain only about K/D of the target energy: the fit's MSE
	// must be well below the energy but far from zero.
	rel := res.HeldMSE / res.TargetEnergy
	if !(rel > 0.5 && rel < 0.9) {
		t.Errorf("held-out MSE / energy = %.3f, want about 1 − K/D = 0.75", rel)
	}
	if res.HeldMSEInt8 < res.HeldMSE*0.99 {
		t.Errorf("INT8 MSE %.4g below FP32 MSE %.4g", res.HeldMSEInt8, res.HeldMSE)
	}
	if _, err := RunFit(FitConfig{N: 4, D: 8, K: 9, Samples: 100}); !errors.Is(err, ErrConfig) {
		t.Errorf("k > d: error %v, want ErrConfig", err)
	}
}

// TestRunAttention checks the attention benchmark's bookkeeping on a tiny
// shape (no timing claims): one row per sparsity with its exact kept
// count, DSA time at least the predictor's, finite positive ratios, at
// sparsity 0 a decode recall of exactly 1, and bad configurations refused.
func TestRunAttention(t *testing.T) {
	cfg := AttentionConfig{Seq: 64, Heads: 2, Dim: 16, Sparsities: []float64{0, 0.9}, Block: 1, Sigma: 0.25,
		Decode: true, DecodeLens: []int{100}, SoftmaxSweep: []float64{0.5, 0.75}, Reps: 2, Threads: 2, Seed: 3}
	r, err := RunAttention(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || r.Rows[0].TopK != 64 || r.Rows[1].TopK != 6 || r.PredCols != 4 || r.Impl == "" {
		t.Fatalf("rows %+v, predictor columns %d, impl %q", r.Rows, r.PredCols, r.Impl)
	}
	for _, row := range r.Rows {
		if !(row.Speedup > 0) || math.IsInf(row.Speedup, 0) || !(row.DSAMs >= row.PredictorMs) || !(row.PredictorShare > 0) {
			t.Errorf("row %+v", row)
		}
	}
	if len(r.Decode) != 1 || r.Decode[0].TopK != 100 || r.Decode[0].Recall != 1 || !(r.Decode[0].Speedup > 0) {
		t.Errorf("decode %+v", r.Decode)
	}
	if len(r.Softmax) != 2 || r.Softmax[0].TopK != 32 || r.Softmax[1].TopK != 16 || !(r.Softmax[1].Speedup > 0) {
		t.Errorf("softmax sweep %+v", r.Softmax)
	}
	if !(r.PeakGFLOPS > 0) || !(r.DenseGFLOPS > 0) {
		t.Errorf("peak %g, dense %g GFLOPS", r.PeakGFLOPS, r.DenseGFLOPS)
	}
	for _, bad := range []func(*AttentionConfig){
		func(c *AttentionConfig) { c.Seq = 0 },
		func(c *AttentionConfig) { c.Block = 3 },
		func(c *AttentionConfig) { c.Sigma = 0 },
		func(c *AttentionConfig) { c.Sparsities = []float64{1} },
		func(c *AttentionConfig) { c.Sparsities = []float64{math.NaN()} },
		func(c *AttentionConfig) { c.Sparsities = nil },
		func(c *AttentionConfig) { c.DecodeLens = []int{0} },
		func(c *AttentionConfig) { c.Reps = 0 },
		func(c *AttentionConfig) { c.SoftmaxSweep = []float64{-0.1} },
	} {
		c := cfg
		bad(&c)
		if _, err := RunAttention(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", c, err)
		}
	}
}
