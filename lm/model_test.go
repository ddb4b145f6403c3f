package lm

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/train"
)

func tinyModel(t *testing.T, cfg Config, seed uint64) *Model {
	t.Helper()
	m, err := New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randTokens(rng *rand.Rand, n, vocab int) []int32 {
	ts := make([]int32, n)
	for i := range ts {
		ts[i] = int32(rng.IntN(vocab))
	}
	return ts
}

// TestGradModel checks the whole model's gradient — embedding, two
// recurrent layers over several steps, decoder and cross-entropy, tied or
// not — against central differences of its loss.
func TestGradModel(t *testing.T) {
	for _, cfg := range []Config{
		{Cell: nn.LSTMCell, Vocab: 7, Emb: 5, Hidden: 4, Layers: 2},
		{Cell: nn.GRUCell, Vocab: 7, Emb: 5, Hidden: 4, Layers: 2},
		{Cell: nn.LSTMCell, Vocab: 6, Hidden: 4, Layers: 1, Tied: true},
		{Cell: nn.GRUCell, Vocab: 6, Hidden: 4, Layers: 2, Tied: true},
	} {
		t.Run(cfg.String(), func(t *testing.T) {
			m := tinyModel(t, cfg, 3)
			rng := rand.New(rand.NewPCG(5, 6))
			for _, p := range m.Params() {
				p.Uniform(rng, 0.8)
			}
			const steps, batch = 4, 2
			in := randTokens(rng, steps*batch, cfg.Vocab)
			tgt := randTokens(rng, steps*batch, cfg.Vocab)
			st := m.NewState(batch)
			loss := func() float64 {
				st.Zero()
				return m.Loss(in, tgt, steps, batch, st, false, false)
			}
			nn.ZeroGrad(m.Params())
			st.Zero()
			m.Loss(in, tgt, steps, batch, st, false, true)
			m.Backward()

			const eps, atol, rtol = 1e-2, 1e-4, 1e-2
			var worst float64
			for _, p := range m.Params() {
				for i := range p.Data {
					v := p.Data[i]
					p.Data[i] = v + eps
					lp := loss()
					p.Data[i] = v - eps
					lm := loss()
					p.Data[i] = v
					num, a := (lp-lm)/(2*eps), float64(p.Grad[i])
					tol := atol + rtol*max(math.Abs(a), math.Abs(num))
					worst = max(worst, math.Abs(a-num)/tol)
					if math.Abs(a-num) > tol {
						t.Fatalf("%s[%d]: analytic %.6g, numeric %.6g", p.Name, i, a, num)
					}
				}
			}
			t.Logf("worst error / tolerance %.3g", worst)
		})
	}
}

// TestStepMatchesForward checks the batch-1 inference path against the
// batched training path with dropout off.
func TestStepMatchesForward(t *testing.T) {
	for _, cell := range []nn.Cell{nn.LSTMCell, nn.GRUCell} {
		cfg := Config{Cell: cell, Vocab: 11, Emb: 6, Hidden: 5, Layers: 2, Dropout: 0.5}
		m := tinyModel(t, cfg, 7)
		rng := rand.New(rand.NewPCG(8, 9))
		const steps = 6
		in := randTokens(rng, steps, cfg.Vocab)
		want := slices.Clone(m.Forward(in, steps, 1, m.NewState(1), false))
		st := m.NewState(1)
		got := make([]float32, cfg.Vocab)
		for s, tok := range in {
			m.Step(st, tok, got)
			for k := range got {
				if d := math.Abs(float64(got[k] - want[s*cfg.Vocab+k])); d > 1e-5 {
					t.Fatalf("%v step %d logit %d: Step %v, Forward %v", cell, s, k, got[k], want[s*cfg.Vocab+k])
				}
			}
		}
	}
}

// TestEvaluateUniform checks Evaluate's bookkeeping: a model whose
// decoder outputs constant logits predicts uniformly, so its loss is
// exactly log(vocab) whatever the windows and batch.
func TestEvaluateUniform(t *testing.T) {
	const vocab = 13
	m := tinyModel(t, Config{Cell: nn.LSTMCell, Vocab: vocab, Hidden: 4, Layers: 1}, 1)
	clear(m.Decoder.Weight.Data)
	stream := randTokens(rand.New(rand.NewPCG(1, 1)), 1000, vocab)
	for _, tc := range []struct{ batch, bptt int }{{10, 35}, {1, 7}, {20, 1000}} {
		loss, err := m.Evaluate(stream, tc.batch, tc.bptt)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(loss-math.Log(vocab)) > 1e-5 {
			t.Errorf("batch %d bptt %d: loss %v, want log %d = %v", tc.batch, tc.bptt, loss, vocab, math.Log(vocab))
		}
	}
	if _, err := m.Evaluate([]int32{1, 2, 13}, 1, 5); err == nil {
		t.Error("Evaluate accepted token 13 with vocabulary 13")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Cell: nn.LSTMCell, Vocab: 10, Hidden: 8, Layers: 2}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"tied", func(c *Config) { c.Tied = true }, ""},
		{"hidden", func(c *Config) { c.Hidden = 0 }, "hidden"},
		{"vocab", func(c *Config) { c.Vocab = -1 }, "vocabulary"},
		{"layers", func(c *Config) { c.Layers = 0 }, "layers"},
		{"cell", func(c *Config) { c.Cell = 7 }, "cell"},
		{"dropout", func(c *Config) { c.Dropout = 1 }, "dropout"},
		{"tied sizes", func(c *Config) { c.Tied, c.Emb = true, 4 }, "tied"},
	} {
		c := ok
		tc.edit(&c)
		_, err := New(c, 1)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want ErrConfig mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestTrainLossDecreases trains a small model on a repetitive stream,
// which an LSTM can learn to predict almost perfectly, and checks that
// the validation loss falls well below chance.
func TestTrainLossDecreases(t *testing.T) {
	for _, cell := range []nn.Cell{nn.LSTMCell, nn.GRUCell} {
		t.Run(cell.String(), func(t *testing.T) {
			const vocab = 8
			pattern := []int32{0, 1, 2, 3, 4, 5, 6, 7, 3, 2}
			var stream []int32
			for len(stream) < 4000 {
				stream = append(stream, pattern...)
			}
			m := tinyModel(t, Config{Cell: cell, Vocab: vocab, Hidden: 16, Layers: 1}, 2)
			before, err := m.Evaluate(stream[:400], 4, 20)
			if err != nil {
				t.Fatal(err)
			}
			var reports int
			tr, err := NewTrainer(m, TrainConfig{
				Epochs: 3, LR: 1, BPTT: 10, Batch: 8, EvalBatch: 4, Control: train.Control{LogEvery: 10},
				Progress: func(Progress) { reports++ },
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tr.Run(context.Background(), stream, stream[:400])
			if err != nil {
				t.Fatal(err)
			}
			after := res.Epochs[len(res.Epochs)-1].ValLoss
			t.Logf("loss %.3f → %.3f (chance %.3f)", before, after, math.Log(vocab))
			if before < 0.8*math.Log(vocab) || after > 0.3 {
				t.Errorf("validation loss %.3f → %.3f, want from about log %d = %.3f to below 0.3", before, after, vocab, math.Log(vocab))
			}
			if reports == 0 || len(res.Epochs) != 3 || res.Stopped {
				t.Errorf("%d progress reports, %d epochs, stopped %v", reports, len(res.Epochs), res.Stopped)
			}
		})
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, cfg := range []Config{
		{Cell: nn.LSTMCell, Vocab: 9, Emb: 3, Hidden: 4, Layers: 2, Dropout: 0.2},
		{Cell: nn.GRUCell, Vocab: 9, Hidden: 4, Layers: 1, Tied: true},
	} {
		t.Run(cfg.String(), func(t *testing.T) {
			m := tinyModel(t, cfg, 4)
			path := filepath.Join(t.TempDir(), "m.safetensors")
			ts := TrainState{Epoch: 3, Batch: 17, LR: 5, BestVal: 4.25, Extra: map[string]string{"corpus": "kjv"}}
			if err := m.Save(path, ts); err != nil {
				t.Fatal(err)
			}
			got, gotTS, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.Config() != m.Config() {
				t.Errorf("config %+v, want %+v", got.Config(), m.Config())
			}
			if gotTS.Epoch != 3 || gotTS.Batch != 17 || gotTS.LR != 5 || gotTS.BestVal != 4.25 || gotTS.Extra["corpus"] != "kjv" {
				t.Errorf("state %+v, want %+v", gotTS, ts)
			}
			for i, p := range m.Params() {
				q := got.Params()[i]
				if p.Name != q.Name || !slices.Equal(p.Data, q.Data) {
					t.Errorf("parameter %s differs after the round trip", p.Name)
				}
			}
			// The dropout generator resumes where it was saved.
			in := []int32{1, 2, 3, 4}
			a := slices.Clone(m.Forward(in, 2, 2, m.NewState(2), true))
			b := got.Forward(in, 2, 2, got.NewState(2), true)
			if !slices.Equal(a, b) {
				t.Error("training forward differs after the round trip")
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	m := tinyModel(t, Config{Cell: nn.LSTMCell, Vocab: 9, Hidden: 4, Layers: 2}, 4)
	good := m.Tensors()
	write := func(name string, ts []safetensors.Tensor, meta map[string]string) string {
		path := filepath.Join(dir, name)
		if err := safetensors.WriteFile(path, ts, meta); err != nil {
			t.Fatal(err)
		}
		return path
	}
	edit := func(name string, f func(*safetensors.Tensor)) []safetensors.Tensor {
		var ts []safetensors.Tensor
		for _, tn := range good {
			if tn.Name == name {
				tn.Data = slices.Clone(tn.Data)
				if f == nil {
					continue
				}
				f(&tn)
			}
			ts = append(ts, tn)
		}
		return ts
	}
	nan := edit("rnn.weight_hh_l1", func(tn *safetensors.Tensor) {
		copy(tn.Data[8:], []byte{0, 0, 0xc0, 0x7f}) // a float32 NaN
	})
	small := tinyModel(t, Config{Cell: nn.LSTMCell, Vocab: 9, Hidden: 3, Layers: 2}, 4)
	mixed := append(edit("rnn.weight_hh_l1", nil), safetensors.Tensor{})
	mixed = mixed[:len(mixed)-1]
	for _, tn := range small.Tensors() {
		if tn.Name == "rnn.weight_hh_l1" {
			mixed = append(mixed, tn)
		}
	}
	meta := map[string]string{"format": formatName, "cell": "gru", "vocab": "9", "emb": "4", "hidden": "4", "layers": "2"}
	for _, tc := range []struct {
		name, path string
		is         error
		want       string
	}{
		{"nan", write("nan.safetensors", nan, nil), safetensors.ErrNonFinite, "rnn.weight_hh_l1"},
		{"missing", write("missing.safetensors", edit("decoder.bias", nil), nil), ErrMismatch, "decoder.bias"},
		{"shape", write("shape.safetensors", mixed, nil), ErrMismatch, "rnn.weight_hh_l1"},
		{"metadata", write("meta.safetensors", good, meta), ErrMismatch, "cell=gru"},
		{"not a model", write("other.safetensors", edit("encoder.weight", nil), nil), ErrMismatch, "encoder.weight"},
	} {
		_, _, err := Load(tc.path)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %v naming %q", tc.name, err, tc.is, tc.want)
		}
	}

	// Loading into a model of another size is an error, not a panic.
	f, err := safetensors.ReadFile(write("good.safetensors", good, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := small.LoadTensors(f); !errors.Is(err, ErrMismatch) {
		t.Errorf("LoadTensors into a smaller model: %v, want ErrMismatch", err)
	}
}

// TestMaxDurationResume stops a run at once, then resumes it from the
// checkpoint and finishes.
func TestMaxDurationResume(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	stream := randTokens(rng, 2000, 10)
	cfg := Config{Cell: nn.GRUCell, Vocab: 10, Hidden: 6, Layers: 1}
	m := tinyModel(t, cfg, 5)
	out := filepath.Join(t.TempDir(), "ck.safetensors")
	tc := TrainConfig{Epochs: 2, LR: 1, BPTT: 5, Batch: 4, EvalBatch: 2, Control: train.Control{Out: out, MaxDuration: 1}}
	tr, err := NewTrainer(m, tc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), stream, stream[:200])
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.State.Epoch != 1 || res.State.Batch != 0 {
		t.Fatalf("stopped %v at %+v, want a stop before the first window", res.Stopped, res.State)
	}
	m2, ts, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	tc.MaxDuration = 0
	tr2, err := NewTrainer(m2, tc)
	if err != nil {
		t.Fatal(err)
	}
	tr2.Resume(ts)
	res, err = tr2.Run(context.Background(), stream, stream[:200])
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped || len(res.Epochs) != 2 || res.State.Epoch != 3 {
		t.Errorf("resumed run: stopped %v, %d epochs, state %+v", res.Stopped, len(res.Epochs), res.State)
	}
	_, ts, err = Load(out)
	if err != nil || ts.Epoch != 3 {
		t.Errorf("final checkpoint epoch %d (err %v), want 3", ts.Epoch, err)
	}
}

// Issue 11: a decoder bias of 3e38 (finite) evaluated to loss 0,
// perplexity 1; now the evaluation fails.
func TestEvaluateOverflowingLogits(t *testing.T) {
	m := tinyModel(t, Config{Vocab: 12, Emb: 4, Hidden: 4, Layers: 1}, 1)
	for i := range m.Decoder.Bias.Data {
		m.Decoder.Bias.Data[i] = 3e38
	}
	stream := randTokens(rand.New(rand.NewPCG(1, 2)), 200, 12)
	if loss, err := m.Evaluate(stream, 2, 5); !errors.Is(err, nn.ErrLoss) {
		t.Fatalf("Evaluate = %v, %v; want nn.ErrLoss", loss, err)
	}
}

// ReadConfig gives Load's architecture from the header alone, and refuses
// from it what the shapes and metadata contradict.
func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []Config{
		{Cell: nn.LSTMCell, Vocab: 9, Emb: 5, Hidden: 4, Layers: 2},
		{Cell: nn.GRUCell, Vocab: 9, Hidden: 4, Layers: 1, Tied: true},
	} {
		m := tinyModel(t, cfg, 4)
		path := filepath.Join(dir, "m.safetensors")
		if err := m.Save(path, TrainState{}); err != nil {
			t.Fatal(err)
		}
		got, err := ReadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != m.Config() {
			t.Errorf("ReadConfig %+v, Load's model %+v", got, m.Config())
		}
	}
	m := tinyModel(t, Config{Cell: nn.LSTMCell, Vocab: 9, Hidden: 4, Layers: 2}, 4)
	meta := map[string]string{"format": formatName, "cell": "gru", "vocab": "9", "emb": "4", "hidden": "4", "layers": "2"}
	path := filepath.Join(dir, "meta.safetensors")
	if err := safetensors.WriteFile(path, m.Tensors(), meta); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadConfig(path); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "cell=gru") {
		t.Errorf("metadata against the shapes: %v, want ErrMismatch naming cell=gru", err)
	}
}
