package dmi

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
)

func testModel(t testing.TB, cell nn.Cell, seed uint64) *lm.Model {
	t.Helper()
	m, err := lm.New(lm.Config{Cell: cell, Vocab: 30, Emb: 12, Hidden: 10, Layers: 2}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testStream returns tokens with some structure (a noisy cycle), so the
// states visit a realistic region.
func testStream(n int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i % 7)
		if rng.IntN(3) == 0 {
			s[i] = int32(rng.IntN(30))
		}
	}
	return s
}

func fitTestSet(t testing.TB, m *lm.Model, o Options) *Set {
	t.Helper()
	s, err := Fit(m, testStream(800, 1), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLMDenseMatchesEvaluate(t *testing.T) {
	for _, cell := range cells {
		m := testModel(t, cell, 1)
		d, err := NewLM(m, fitTestSet(t, m, Options{K: 6}), nil)
		if err != nil {
			t.Fatal(err)
		}
		stream := testStream(120, 9)
		want, err := m.Evaluate(stream, 1, 35)
		if err != nil {
			t.Fatal(err)
		}
		dense, err := d.Loss(stream, true)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(dense-want) > 1e-5 {
			t.Errorf("%v: streaming dense loss %v, lm.Evaluate %v", cell, dense, want)
		}
		if err := d.SetRatio(0); err != nil {
			t.Fatal(err)
		}
		if r0, err := d.Loss(stream, false); err != nil || math.Abs(r0-want) > 1e-5 {
			t.Errorf("%v: ratio-0 loss %v (%v), dense %v", cell, r0, err, want)
		}
		if err := d.SetRatio(0.5); err != nil {
			t.Fatal(err)
		}
		half, err := d.Loss(stream, false)
		if err != nil {
			t.Fatal(err)
		}
		// The dense paths above agree to ~1e-10 here (float32 activations,
		// whose ~6e-8 relative rounding averages down over the stream), so
		// a loss within 1e-7 relative of the dense one is rounding, not the
		// little modules: at ratio 0.5 they move it by ~1e-5.
		if math.Abs(half-want) <= 1e-7*want {
			t.Errorf("%v: ratio 0.5 loss %v within rounding of the dense loss %v", cell, half, want)
		}
		for g, r := range d.InsensitiveRatio() {
			if r != 0.5 {
				t.Errorf("%v gate %s: measured insensitive ratio %v, want 0.5", cell, GateNames(cell)[g], r)
			}
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := testModel(t, nn.GRUCell, 2)
	stream := testStream(60, 4)
	for _, bits := range []quant.Bits{quant.Int2, quant.Int4, quant.Int8, quant.Int16, FP32} {
		s := fitTestSet(t, m, Options{K: 6, Bits: bits, Seed: 5})
		path := filepath.Join(t.TempDir(), "little.safetensors")
		if err := s.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil {
			t.Fatalf("%v: %v", bits, err)
		}
		if got.Bits != bits || got.Seed != 5 || got.Eps != DefaultEps || got.Fingerprint != s.Fingerprint || len(got.Layers) != 2 {
			t.Fatalf("%v: loaded %+v", bits, got)
		}
		for l, lt := range s.Layers {
			g := got.Layers[l]
			if !slices.Equal(g.X.W, lt.X.W) || !slices.Equal(g.H.W, lt.H.W) || !slices.Equal(g.X.B, lt.X.B) {
				t.Errorf("%v layer %d: weights differ after the round trip", bits, l)
			}
			if lt.X.Q != nil && (!slices.Equal(g.X.Q.I8, lt.X.Q.I8) || !slices.Equal(g.X.Q.Packed, lt.X.Q.Packed) ||
				!slices.Equal(g.X.Q.I16, lt.X.Q.I16) || !slices.Equal(g.X.Q.Scales, lt.X.Q.Scales)) {
				t.Errorf("%v layer %d: codes differ after the round trip", bits, l)
			}
			if !slices.Equal(g.X.P.(interface{ Dense() []float32 }).Dense(), lt.X.P.(interface{ Dense() []float32 }).Dense()) {
				t.Errorf("%v layer %d: P_x differs", bits, l)
			}
			for i, v := range lt.Delta {
				if float64(float32(v)) != g.Delta[i] {
					t.Errorf("%v layer %d: |δ| %v, loaded %v", bits, l, v, g.Delta[i])
				}
			}
		}
		a, err1 := NewLM(m, s, nil)
		b, err2 := NewLM(m, got, nil)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for _, d := range []*LM{a, b} {
			if err := d.SetRatio(0.5); err != nil {
				t.Fatal(err)
			}
		}
		la, err1 := a.Loss(stream, false)
		lb, err2 := b.Loss(stream, false)
		if err1 != nil || err2 != nil || la != lb {
			t.Errorf("%v: loss %v (%v) before saving, %v (%v) after", bits, la, err1, lb, err2)
		}
	}
}

func TestMismatch(t *testing.T) {
	m := testModel(t, nn.LSTMCell, 1)
	s := fitTestSet(t, m, Options{K: 6})
	// Same architecture, other weights.
	if _, err := NewLM(testModel(t, nn.LSTMCell, 2), s, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("other weights: %v, want ErrMismatch", err)
	}
	if _, err := NewLM(testModel(t, nn.GRUCell, 1), s, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("other cell: %v, want ErrMismatch", err)
	}
	// A model file is not a little-module file.
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.Save(path, lm.TrainState{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); !errors.Is(err, ErrFormat) {
		t.Errorf("loading a model as little modules: %v, want ErrFormat", err)
	}
	// A little-module file whose projection seed was altered.
	path = filepath.Join(t.TempDir(), "little.safetensors")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	meta := f.Metadata()
	meta["seed"] = "99"
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := safetensors.WriteFile(bad, f.Tensors(), meta); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); !errors.Is(err, ErrMismatch) {
		t.Errorf("altered seed: %v, want ErrMismatch", err)
	}
}

func TestFitErrors(t *testing.T) {
	m := testModel(t, nn.LSTMCell, 1)
	need, err := MinCalibTokens(m, Options{K: 6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fit(m, testStream(need-1, 1), Options{K: 6}); !errors.Is(err, ErrCalib) {
		t.Errorf("%d tokens: %v, want ErrCalib", need-1, err)
	}
	if _, err := Fit(m, testStream(need, 1), Options{K: 6}); err != nil {
		t.Errorf("%d tokens: %v", need, err)
	}
	if _, err := Fit(m, []int32{0, 1, 99}, Options{K: 1}); err == nil {
		t.Error("token outside the vocabulary accepted")
	}
	d, err := NewLM(m, fitTestSet(t, m, Options{K: 6}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetRatio(1); err == nil {
		t.Error("ratio 1 accepted")
	}
	m.Decoder.Bias.Data[3] = float32(math.NaN())
	if _, err := d.Loss(testStream(20, 2), true); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN decoder: %v, want ErrNotFinite", err)
	}
}

func TestRunBench(t *testing.T) {
	r, err := RunBench(BenchConfig{Cell: nn.GRUCell, Hidden: 24, Input: 16, Ratios: []float64{0.5, 0.9}, Reps: 5, LLC: 1 << 16, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Points) != 2 || r.Points[1].Exact != 3*(24-int(math.Round(0.9*24))) || !(r.DenseMs > 0) || !(r.CopyGBps > 0) {
		t.Errorf("result %+v", r)
	}
	if _, err := RunBench(BenchConfig{Cell: nn.LSTMCell, Hidden: 8, Ratios: []float64{1}, Reps: 1}); err == nil {
		t.Error("ratio 1 accepted")
	}
}
