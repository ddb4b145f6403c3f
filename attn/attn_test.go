package attn

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/internal/fuzzseed"
	"github.com/elasticml/elastic/lra"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/sparse"
	"github.com/elasticml/elastic/train"
)

// tinyListOps is a ListOps run small enough for a unit test: short
// expressions from the real generator, a one-layer model of width 16.
func tinyListOps(t *testing.T) Config {
	t.Helper()
	return Config{Task: "listops", Layers: 1, Heads: 2, Dim: 16, FFN: 32, Hidden: 16, Length: 40, MinLength: 5,
		Examples: [3]int{192, 48, 48}, Steps: 30, Batch: 12, LR: 3e-3, Warmup: 5, Decay: 0.1, Dropout: 0.1,
		Seed: 3, DataSeed: 2, ValidEvery: 10, ValidLimit: 48, Threads: 1}
}

// synthetic is a single-sequence task a tiny model can learn: sequences
// of 3–12 tokens over 6, labelled 1 when token 1 occurs more often than
// token 2 (ties count as 0), which mean-pooled embeddings can separate.
func synthetic(n [3]int, seed uint64) *Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := &lra.Task{Name: "synthetic", Vocab: 6, Classes: 2, MaxLen: 12}
	for s, dst := range []*[]lra.Example{&t.Train, &t.Valid, &t.Test} {
		for range n[s] {
			toks := make([]int32, 3+rng.IntN(10))
			c := 0
			for i := range toks {
				toks[i] = int32(rng.IntN(6))
				c += map[int32]int{1: 1, 2: -1}[toks[i]]
			}
			*dst = append(*dst, lra.Example{Tokens: toks, Label: int32(map[bool]int{true: 1}[c > 0])})
		}
	}
	return &Data{Single: t}
}

// syntheticPairs is a pair task: each sequence draws its tokens from one
// of two disjoint halves of an 8-token vocabulary (its topic), and a pair
// is positive when both sides share the topic, half the pairs of each
// split.
func syntheticPairs(n [3]int, seed uint64) *Data {
	rng := rand.New(rand.NewPCG(seed, 2))
	seq := func(topic int) []int32 {
		s := make([]int32, 4+rng.IntN(8))
		for i := range s {
			s[i] = int32(4*topic + rng.IntN(4))
		}
		return s
	}
	t := &lra.PairTask{Name: "pairs", Vocab: 8, Classes: 2, MaxLen: 12}
	for s, dst := range []*[]lra.Pair{&t.Train, &t.Valid, &t.Test} {
		for i := range n[s] {
			a, same := rng.IntN(2), i%2
			b := a
			if same == 0 {
				b = 1 - a
			}
			*dst = append(*dst, lra.Pair{A: seq(a), B: seq(b), Label: int32(same)})
		}
	}
	return &Data{Pairs: t}
}

func TestTrainLearns(t *testing.T) {
	for _, tc := range []struct {
		name string
		task string
		data *Data
	}{
		{"single", "text", synthetic([3]int{512, 128, 128}, 1)},
		{"pairs", "retrieval", syntheticPairs([3]int{512, 128, 128}, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Task: tc.task, Layers: 1, Heads: 2, Dim: 16, FFN: 32, Hidden: 16, Length: 12,
				Steps: 120, Batch: 16, LR: 1e-2, Warmup: 10, Decay: 0.01, Seed: 1, ValidEvery: 20, ValidLimit: 128, Threads: 1}
			res, err := TrainOn(context.Background(), c, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rounds) != 6 || res.Steps != 120 {
				t.Fatalf("%d rounds, %d steps; want 6 and 120", len(res.Rounds), res.Steps)
			}
			first, last := res.Rounds[0], res.Rounds[len(res.Rounds)-1]
			t.Logf("loss %.3f → %.3f, valid accuracy %.3f → %.3f (best %.3f)", first.Loss, last.Loss, first.Valid, last.Valid, res.Best)
			if !(last.Loss < 0.6*first.Loss) {
				t.Errorf("training loss %.3f → %.3f: did not fall by 40%%", first.Loss, last.Loss)
			}
			// Chance is about 1/2; both rules are learnable exactly.
			if res.Best < 0.85 {
				t.Errorf("best validation accuracy %.3f, want ≥ 0.85", res.Best)
			}
		})
	}
}

func weights(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w := map[string][]float32{}
	for _, n := range f.Names() {
		tn, _ := f.Tensor(n)
		w[n], err = tn.Float32s()
		if err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func sameWeights(t *testing.T, a, b map[string][]float32) bool {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d and %d tensors", len(a), len(b))
	}
	for n, v := range a {
		if !slices.Equal(v, b[n]) {
			return false
		}
	}
	return true
}

func TestSameSeedSameRun(t *testing.T) {
	dir := t.TempDir()
	run := func(name string, seed uint64) (*Result, map[string][]float32) {
		c := tinyListOps(t)
		c.Seed, c.Out, c.CheckpointEvery = seed, filepath.Join(dir, name), -1
		res, err := Train(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return res, weights(t, c.Out)
	}
	r1, w1 := run("a", 3)
	r2, w2 := run("b", 3)
	_, w3 := run("c", 4)
	if !slices.Equal(r1.Rounds, r2.Rounds) || !sameWeights(t, w1, w2) {
		t.Errorf("same seed, different runs: %+v vs %+v", r1.Rounds, r2.Rounds)
	}
	if sameWeights(t, w1, w3) {
		t.Error("seeds 3 and 4 gave the same weights")
	}
}

// TestResumeRepeatsUninterruptedRun checks resuming for a dense run and
// for a DSA run with the joint loss, whose checkpoint holds the predictors
// and their AdamW moments.
func TestResumeRepeatsUninterruptedRun(t *testing.T) {
	for _, sparse := range []*nn.DSA{nil, {Mode: nn.DSAPredicted, Keep: 0.3, Sigma: 0.5, Lambda: 0.5, Seed: 2}} {
		t.Run(map[bool]string{false: "dense", true: "dsa"}[sparse != nil], func(t *testing.T) {
			dir := t.TempDir()
			full := tinyListOps(t)
			full.Sparse = sparse
			full.Out, full.CheckpointEvery = filepath.Join(dir, "full.safetensors"), -1
			want, err := Train(context.Background(), full)
			if err != nil {
				t.Fatal(err)
			}

			// Stop in the middle of the first round, by cancelling the context
			// from the report after its third step; the loop then writes a
			// Stopped checkpoint at step 3 of round 1.
			part := tinyListOps(t)
			part.Sparse = sparse
			part.Out, part.CheckpointEvery, part.LogEvery = filepath.Join(dir, "part.safetensors"), -1, 3
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			part.Progress = func(p Progress) {
				if p.Done == 3 {
					cancel()
				}
			}
			got1, err := Train(ctx, part)
			if err != nil {
				t.Fatal(err)
			}
			if !got1.Stopped || got1.Steps != 3 || len(got1.Rounds) != 0 {
				t.Fatalf("interrupted run: stopped %v after %d steps and %d rounds, want true after 3 and 0", got1.Stopped, got1.Steps, len(got1.Rounds))
			}
			if sameWeights(t, weights(t, part.Out), weights(t, full.Out)) {
				t.Fatal("the interrupted run already has the final weights")
			}
			// Resume with nothing but the file and the run control.
			res := Config{Resume: part.Out, Threads: 1, Control: part.Control}
			res.Out = part.Out
			got2, err := Train(context.Background(), res)
			if err != nil {
				t.Fatal(err)
			}
			if got2.Stopped || got2.Steps != want.Steps {
				t.Fatalf("resumed run: stopped %v, %d steps; want false, %d", got2.Stopped, got2.Steps, want.Steps)
			}
			if !sameWeights(t, weights(t, part.Out), weights(t, full.Out)) {
				t.Error("resumed run's final weights (and AdamW moments) differ from the uninterrupted run's")
			}
			rounds := append(got1.Rounds, got2.Rounds...)
			for i := range want.Rounds {
				if i >= len(rounds) || rounds[i].Valid != want.Rounds[i].Valid || rounds[i].Step != want.Rounds[i].Step {
					t.Fatalf("rounds %+v, want %+v", rounds, want.Rounds)
				}
			}
			if got2.Best != want.Best {
				t.Errorf("best %v, want %v", got2.Best, want.Best)
			}
		})
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := tinyListOps(t)
	c.Steps, c.Out, c.CheckpointEvery = 10, filepath.Join(dir, "m.safetensors"), -1
	c.BestOut = filepath.Join(dir, "best.safetensors")
	c, err := c.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadData(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TrainOn(context.Background(), c, d); err != nil {
		t.Fatal(err)
	}
	m, err := Load(c.Out)
	if err != nil {
		t.Fatal(err)
	}
	if cj, wj := jsonOf(t, m.Cfg), jsonOf(t, c.saved()); cj != wj || m.Vocab != lra.ListOpsVocab || m.Classes != lra.ListOpsClasses {
		t.Errorf("loaded config %+v (%d tokens, %d classes), want %+v", m.Cfg, m.Vocab, m.Classes, c.saved())
	}
	w := weights(t, c.Out)
	for _, p := range m.Params() {
		if !slices.Equal(p.Data, w[p.Name]) {
			t.Errorf("%s differs after loading", p.Name)
		}
		for _, s := range []string{".exp_avg", ".exp_avg_sq"} {
			if _, ok := w[p.Name+s]; !ok {
				t.Errorf("no %s%s in the checkpoint", p.Name, s)
			}
		}
	}
	// Evaluate rebuilds the data from the file's config alone; it must
	// agree with the loaded model on the data built here, and the best
	// file is a model too.
	e, err := Evaluate(c.Out, EvalOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := EvaluateOn(m, d, EvalOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e.Split != "test" || e.Examples != 48 || e.Accuracy != e2.Accuracy || e.Accuracy < 0 || e.Accuracy > 1 {
		t.Errorf("Evaluate %+v, EvaluateOn %+v", e, e2)
	}
	if _, err := Evaluate(c.BestOut, EvalOptions{Split: "valid", Threads: 1}); err != nil {
		t.Error(err)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := tinyListOps(t)
	good.Steps, good.Out, good.CheckpointEvery = 10, filepath.Join(dir, "m.safetensors"), -1
	if _, err := Train(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.safetensors")
	if err := safetensors.WriteFile(foreign, []safetensors.Tensor{safetensors.FromFloat32("x", []int{1}, []float32{1})}, map[string]string{"format": "other"}); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*Config)) Config {
		c := tinyListOps(t)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		c    Config
		want error
	}{
		{"unknown task", mod(func(c *Config) { c.Task = "sudoku" }), ErrConfig},
		{"heads do not divide", mod(func(c *Config) { c.Heads = 3 }), ErrConfig},
		{"image length", Config{Task: "image", Length: 1024}, ErrConfig},
		{"dropout", mod(func(c *Config) { c.Dropout = 1 }), ErrConfig},
		{"lengths", mod(func(c *Config) { c.MinLength = 50 }), ErrConfig},
		{"missing KJV", Config{Task: "text", Data: DataPaths{KJV: filepath.Join(dir, "no-bible.data")}}, corpus.ErrMissing},
		{"garbage resume", Config{Resume: garbage}, nil},
		{"foreign resume", Config{Resume: foreign}, ErrMismatch},
		{"missing resume", Config{Resume: filepath.Join(dir, "none")}, os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(context.Background(), tc.c)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
	// A checkpoint used with data of another shape.
	c := Config{Resume: good.Out, Threads: 1}
	if _, err := TrainOn(context.Background(), c, synthetic([3]int{8, 8, 8}, 1)); err == nil {
		t.Error("resumed a ListOps model on another task's data")
	}
	m, err := Load(good.Out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EvaluateOn(m, synthetic([3]int{8, 8, 8}, 1), EvalOptions{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("evaluating on other data: %v", err)
	}
	if _, err := EvaluateOn(m, &Data{Single: &lra.Task{Vocab: 15, Classes: 10, MaxLen: 41}}, EvalOptions{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("sequences longer than the positions: %v", err)
	}
	if _, err := Evaluate(good.Out, EvalOptions{Split: "dev"}); !errors.Is(err, ErrConfig) {
		t.Errorf("split dev: %v", err)
	}
	for _, p := range []string{garbage, foreign} {
		if _, err := Evaluate(p, EvalOptions{}); err == nil {
			t.Errorf("evaluated %s", p)
		}
	}
}

// TestDivergedStops: a learning rate that blows the weights up ends the
// run with train.ErrDiverged rather than a NaN model.
func TestDivergedStops(t *testing.T) {
	c := tinyListOps(t)
	c.LR, c.Warmup, c.Decay = 1e30, 0, 0
	c.Length, c.MinLength = 12, 1
	c.Task = "text"
	_, err := TrainOn(context.Background(), c, synthetic([3]int{64, 16, 16}, 1))
	if !errors.Is(err, train.ErrDiverged) {
		t.Fatalf("err %v, want train.ErrDiverged", err)
	}
}

func jsonOf(t *testing.T, c Config) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzCheckpoint feeds mutated checkpoints to the parser attn eval and
// --resume use, then runs what loaded on one short sequence.
func FuzzCheckpoint(f *testing.F) {
	dir := f.TempDir()
	for _, task := range []string{"listops", "retrieval"} {
		c := Config{Task: task, Layers: 1, Heads: 1, Dim: 4, FFN: 4, Hidden: 4, Length: 8, MinLength: 1, Seed: 1}
		c, _ = c.WithDefaults()
		m, err := NewModel(c, 15, 10)
		if err != nil {
			f.Fatal(err)
		}
		p := filepath.Join(dir, task)
		if err := m.save(p, nn.NewAdamW(m.Params(), 0.1), state{epoch: 1}, nil); err != nil {
			f.Fatal(err)
		}
		fuzzseed.AddFile(f, p)
	}
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, ok := fuzzseed.Parse(b)
		if !ok {
			return
		}
		ck, err := fromFile(sf)
		if err != nil {
			return
		}
		n := min(3, ck.m.Cfg.Length)
		seq := make([]int32, n)
		bt := &batch{ids: seq, lens: []int{n}, ids2: seq, lens2: []int{n}, labels: []int32{0}}
		if _, err := ck.m.correct(bt); err != nil {
			t.Fatalf("a loaded model refused a valid sequence: %v", err)
		}
	})
}

// TestEvaluateSparse scores a dense checkpoint with DSA masks (Table 7.1's
// oracle evaluation): all keys kept gives the dense accuracy and sparsity
// 0, top-k the exact count of kept entries, and the model is dense again
// afterwards.
func TestEvaluateSparse(t *testing.T) {
	c := tinyListOps(t)
	path := filepath.Join(t.TempDir(), "dense.safetensors")
	c.Steps, c.Out, c.BestOut, c.CheckpointEvery = 10, path, path+".best", -1
	c, err := c.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadData(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TrainOn(context.Background(), c, d); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dense, err := Evaluate(path, EvalOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if dense.Sparse != nil {
		t.Errorf("dense evaluation reports DSA %+v", dense.Sparse)
	}
	all, err := Evaluate(path, EvalOptions{Threads: 1, Sparse: &nn.DSA{Mode: nn.DSAOracle, Keep: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// One example in 48 may flip on rounding between the two kernels.
	if s := all.Sparse; s == nil || s.Sparsity != 0 || s.Kept != s.Total || s.Mode != "oracle" || all.Accuracy < dense.Accuracy-1.0/48 || all.Accuracy > dense.Accuracy+1.0/48 {
		t.Errorf("all keys: %+v %+v, dense accuracy %v", all, all.Sparse, dense.Accuracy)
	}

	// The masks of the first three test examples go to a mask file: one
	// pattern per example, layer and head, each a row per token keeping
	// min(2, l) keys, as the evaluation selected them.
	mpath := filepath.Join(t.TempDir(), "masks.safetensors")
	ev, err := Evaluate(path, EvalOptions{Threads: 1, Sparse: &nn.DSA{Mode: nn.DSAOracle, TopK: 2}, Masks: mpath, MaskExamples: 3})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sparse.ReadMasks(mpath)
	if err != nil {
		t.Fatal(err)
	}
	if ev.MaskExamples != 3 || len(ms.Patterns) != 3*c.Layers*c.Heads || ms.Names[1] != "ex0/layer0/seq0/head1" || ms.Meta["mode"] != "oracle" || ms.Meta["task"] != "listops" {
		t.Fatalf("mask file: %d patterns, names %v, meta %v (eval %+v)", len(ms.Patterns), ms.Names, ms.Meta, ev)
	}
	for i, p := range ms.Patterns {
		l := len(d.Single.Test[i/(c.Layers*c.Heads)].Tokens)
		if p.Rows != l || len(p.Idx) != l*min(2, l) {
			t.Errorf("mask %s: %d rows keeping %d, want %d rows of %d", ms.Names[i], p.Rows, len(p.Idx), l, min(2, l))
		}
	}
	if _, err := Evaluate(path, EvalOptions{Threads: 1, Masks: mpath}); !errors.Is(err, ErrConfig) {
		t.Errorf("masks of a dense evaluation: %v, want ErrConfig", err)
	}

	const k = 2
	var kept, total int64
	for _, ex := range d.Single.Test {
		l := int64(len(ex.Tokens))
		kept += int64(c.Layers*c.Heads) * l * min(k, l)
		total += int64(c.Layers*c.Heads) * l * l
	}
	top, err := Evaluate(path, EvalOptions{Threads: 1, Sparse: &nn.DSA{Mode: nn.DSAOracle, TopK: k}})
	if err != nil {
		t.Fatal(err)
	}
	if s := top.Sparse; s == nil || s.Kept != kept || s.Total != total || s.Sparsity <= 0.5 {
		t.Errorf("top-%d: %+v, want %d of %d kept", k, top.Sparse, kept, total)
	}
	th, err := Evaluate(path, EvalOptions{Threads: 1, Sparse: &nn.DSA{Mode: nn.DSAOracle, Threshold: 0.01, Block: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if s := th.Sparse; s == nil || !(s.Sparsity >= 0 && s.Sparsity < 1) || s.Block != 4 {
		t.Errorf("threshold: %+v", th.Sparse)
	}
	nParams := len(m.Params())
	pred, err := EvaluateOn(m, d, EvalOptions{Threads: 1, Sparse: &nn.DSA{Mode: nn.DSAPredicted, Keep: 0.2, Sigma: 0.5, Bits: 8, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if s := pred.Sparse; s == nil || s.Bits != 8 || s.Sparsity <= 0 {
		t.Errorf("predicted: %+v", pred.Sparse)
	}
	if len(m.Params()) != nParams {
		t.Errorf("the model keeps %d params after a predicted evaluation, %d before", len(m.Params()), nParams)
	}
	for _, bad := range []nn.DSA{{Mode: nn.DSAOracle, TopK: 2, Block: 3}, {Mode: nn.DSAPredicted, TopK: 2, Sigma: 0.5, Lambda: 0.1}} {
		if _, err := EvaluateOn(m, d, EvalOptions{Threads: 1, Sparse: &bad}); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", bad, err)
		}
	}
}

// TestSparseFineTune adapts a trained dense model with predicted DSA and
// the joint loss (Config.Init, Config.Sparse): the run starts from the
// dense weights, its checkpoint holds the trained predictor and records
// the configuration, loads back as a DSA model, and is evaluated with its
// own masks; the same run twice gives the same weights.
func TestSparseFineTune(t *testing.T) {
	dir := t.TempDir()
	c := tinyListOps(t)
	dense := filepath.Join(dir, "dense.safetensors")
	c.Steps, c.Out, c.BestOut, c.CheckpointEvery = 10, dense, dense+".best", -1
	if _, err := Train(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	dsa := &nn.DSA{Mode: nn.DSAPredicted, Keep: 0.3, Sigma: 0.5, Lambda: 1, Seed: 7}
	run := func(name string) (*Result, *Model) {
		f := c
		f.Out, f.BestOut, f.Init, f.Sparse = filepath.Join(dir, name), filepath.Join(dir, name+".best"), dense, dsa
		res, err := Train(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(f.Out)
		if err != nil {
			t.Fatal(err)
		}
		return res, m
	}
	res, m := run("a.safetensors")
	if m.Cfg.Sparse == nil || *m.Cfg.Sparse != *dsa {
		t.Fatalf("checkpoint config DSA %+v, want %+v", m.Cfg.Sparse, dsa)
	}
	if res.Rounds[0].Loss <= 0 || len(res.Rounds) != 1 {
		t.Errorf("rounds %+v", res.Rounds)
	}
	w, dw := weights(t, filepath.Join(dir, "a.safetensors")), weights(t, dense)
	if _, ok := w["layers.0.attn.dsa.wq"]; !ok {
		var names []string
		for n := range w {
			names = append(names, n)
		}
		t.Fatalf("no predictor in the checkpoint: %v", names)
	}
	// The predictor trained: its weights left their seeded start.
	seeded, err := NewModel(m.Cfg, m.Vocab, m.Classes)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range seeded.Params() {
		if _, inDense := dw[p.Name]; !inDense && slices.Equal(p.Data, w[p.Name]) {
			t.Errorf("%s did not train", p.Name)
		}
	}
	e, err := Evaluate(filepath.Join(dir, "a.safetensors"), EvalOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e.Sparse == nil || e.Sparse.Mode != "predicted" || e.Sparse.Sparsity < 0.5 {
		t.Errorf("evaluation of the DSA model: %+v", e.Sparse)
	}
	d, err := LoadData(m.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EvaluateOn(m, d, EvalOptions{Threads: 1, Sparse: &nn.DSA{Mode: nn.DSAOracle, TopK: 2}}); !errors.Is(err, ErrConfig) {
		t.Errorf("a DSA model scored with other masks: %v, want ErrConfig", err)
	}
	wide := c
	wide.Dim, wide.Hidden, wide.Init, wide.Out, wide.BestOut = 32, 32, dense, filepath.Join(dir, "w"), filepath.Join(dir, "w.best")
	if _, err := Train(context.Background(), wide); !errors.Is(err, ErrMismatch) {
		t.Errorf("init from a narrower model: %v, want ErrMismatch", err)
	}
	both := c
	both.Init, both.Resume = dense, dense
	if _, err := Train(context.Background(), both); !errors.Is(err, ErrConfig) {
		t.Errorf("init and resume: %v, want ErrConfig", err)
	}
	_, m2 := run("b.safetensors")
	for i, p := range m.Params() {
		if !slices.Equal(p.Data, m2.Params()[i].Data) {
			t.Fatalf("%s differs between two identical runs", p.Name)
		}
	}
}

// TestCountMACs checks the MAC split against the formulas worked by hand
// for a small model, the DSA predictor's terms, Retrieval's two passages
// and the refusals.
func TestCountMACs(t *testing.T) {
	c := Config{Task: "text", Layers: 2, Heads: 2, Dim: 8, FFN: 16, Hidden: 4, Length: 10}
	m, err := CountMACs(c, 3, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	// linear 2·(4·10·64 + 2·10·8·16) = 10240; attention 2·2·100·8 = 3200; head 8·4 + 4·3 = 44.
	if m != (MACs{Linear: 10240, Attention: 3200, Other: 44}) || m.Total() != 13484 {
		t.Errorf("dense %+v", m)
	}
	// keep 0.25: attention 800; σ 0.5 of d_head 4 → k_p 2: 2·(10·8·2 + 2·(2·10·4 + 100·2)) = 2·(160 + 560) = 1440.
	m, err = CountMACs(c, 3, 0.25, 0.5)
	if err != nil || m.Attention != 800 || m.Predictor != 1440 {
		t.Errorf("DSA %+v, %v", m, err)
	}
	c.Task = "retrieval"
	m, _ = CountMACs(c, 2, 1, 0)
	if m.Linear != 20480 || m.Attention != 6400 || m.Other != 32*4+4*2 {
		t.Errorf("retrieval %+v", m)
	}
	for _, bad := range []struct {
		keep, sigma float64
		classes     int
	}{{0, 0.5, 3}, {1.5, 0.5, 3}, {0.5, 0, 3}, {0.5, math.NaN(), 3}, {1, 0, 1}} {
		if _, err := CountMACs(c, bad.classes, bad.keep, bad.sigma); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v", bad, err)
		}
	}
}
