package wordnet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
)

// checkGrad compares analytic gradients with central differences of loss,
// element by element, at tolerances that float32 arithmetic allows (see
// package nn's gradient checks): a wrong formula gives errors of order one.
func checkGrad(t *testing.T, name string, data, analytic []float32, loss func() float64) {
	t.Helper()
	const eps, atol, rtol = 1e-2, 1e-3, 1e-2
	var bad int
	for i := range data {
		v := data[i]
		data[i] = v + eps
		lp := loss()
		data[i] = v - eps
		lm := loss()
		data[i] = v
		num := (lp - lm) / (2 * eps)
		a := float64(analytic[i])
		if math.Abs(a-num) > atol+rtol*max(math.Abs(a), math.Abs(num)) {
			if bad < 3 {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", name, i, a, num)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d gradient elements wrong", name, bad, len(data))
	}
}

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((2*rng.Float64() - 1) * scale)
	}
	return v
}

// The model's backward pass (tanh hidden layer and embedding bag) against
// finite differences of a loss that weights each hidden output.
func TestModelGradient(t *testing.T) {
	cfg := Config{Vocab: 9, Dim: 5, Classes: 3}
	m, err := New(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	m.Encoder.Weight.Uniform(rng, 1)
	start := []int32{0, 3, 4, 4, 7} // the third bag is empty
	words := []int32{1, 8, 1, 0, 2, 5, 8}
	r := randVec(rng, 4*cfg.Dim, 1)
	loss := func() float64 {
		h := m.Forward(start, words)
		var s float64
		for i, v := range h {
			s += float64(r[i]) * float64(v)
		}
		return s
	}
	loss()
	dh := slices.Clone(r)
	touched := slices.Clone(m.Backward(dh))
	slices.Sort(touched)
	if !slices.Equal(touched, []int32{0, 1, 2, 5, 8}) {
		t.Errorf("touched rows %v, want [0 1 2 5 8]", touched)
	}
	for _, p := range []struct {
		name       string
		data, grad []float32
	}{
		{"encoder", m.Encoder.Weight.Data, slices.Clone(m.Encoder.Weight.Grad)},
		{"hidden.weight", m.Hidden.Weight.Data, slices.Clone(m.Hidden.Weight.Grad)},
		{"hidden.bias", m.Hidden.Bias.Data, slices.Clone(m.Hidden.Bias.Grad)},
	} {
		checkGrad(t, p.name, p.data, p.grad, loss)
	}
}

// A synthetic task: each class owns two marker words and its bags hold
// one of them among shared noise words; training must learn it.
func syntheticSplit(name string, classes, perClass int, rng *rand.Rand) *Split {
	sp := newSplit(name)
	for c := range classes {
		for range perClass {
			bag := []int32{int32(2*c + rng.IntN(2))}
			for range 3 {
				bag = append(bag, int32(2*classes+rng.IntN(5)))
			}
			sp.add(bag, int32(c), Example)
		}
	}
	return sp
}

func TestTrainLearnsSynthetic(t *testing.T) {
	const classes = 200
	rng := rand.New(rand.NewPCG(1, 1))
	train := syntheticSplit("train", classes, 4, rng)
	valid := syntheticSplit("valid", classes, 1, rng)
	m, err := New(Config{Vocab: 2*classes + 5, Dim: 16, Classes: classes}, 1)
	if err != nil {
		t.Fatal(err)
	}
	before, err := m.Evaluate(valid)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(context.Background(), m, train, valid, TrainConfig{Epochs: 8, Batch: 32, Negatives: 20, LR: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.Epochs[0], res.Epochs[len(res.Epochs)-1]
	t.Logf("valid before %+v, after %+v; sampled loss %.3f → %.3f", before, last.Valid, first.TrainLoss, last.TrainLoss)
	if !(last.TrainLoss < first.TrainLoss/2) || !(last.Valid.Loss < before.Loss/2) || last.Valid.Top1 < 0.9 {
		t.Errorf("training did not learn the synthetic task: %+v", last)
	}
	// Same seed, same weights.
	m2, _ := New(Config{Vocab: 2*classes + 5, Dim: 16, Classes: classes}, 1)
	if _, err := Train(context.Background(), m2, train, valid, TrainConfig{Epochs: 8, Batch: 32, Negatives: 20, LR: 0.2}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Decoder.Data, m2.Decoder.Data) {
		t.Error("two runs with the same seed differ")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := Config{Vocab: 11, Dim: 4, Classes: 7}
	m, _ := New(cfg, 3)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path, map[string]string{KeyVocab: "abc", "epoch": "2"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config() != cfg || meta[KeyVocab] != "abc" || meta["epoch"] != "2" {
		t.Errorf("loaded %v %v", got.Config(), meta)
	}
	for i, p := range m.Params() {
		if q := got.Params()[i]; q.Name != p.Name || !slices.Equal(q.Data, p.Data) {
			t.Errorf("%s differs after the round trip", p.Name)
		}
	}
	f, _ := safetensors.ReadFile(path)
	names := f.Names()
	slices.Sort(names)
	if want := []string{"decoder.bias", "decoder.weight", "encoder.weight", "hidden.bias", "hidden.weight"}; !slices.Equal(names, want) {
		t.Errorf("tensors %v, want %v", names, want)
	}
}

func TestLoadMismatch(t *testing.T) {
	dir := t.TempDir()
	m, _ := New(Config{Vocab: 11, Dim: 4, Classes: 7}, 3)
	write := func(name string, ts []safetensors.Tensor, meta map[string]string) string {
		p := filepath.Join(dir, name)
		if err := safetensors.WriteFile(p, ts, meta); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := map[string]string{"format": formatName, "vocab": "11", "dim": "4", "classes": "7", "fingerprint": m.Config().Fingerprint()}
	var ts []safetensors.Tensor
	for _, p := range m.Params() {
		ts = append(ts, safetensors.FromFloat32(p.Name, p.Shape, p.Data))
	}
	badMeta := func(k, v string) map[string]string {
		mm := map[string]string{}
		for a, b := range good {
			mm[a] = b
		}
		mm[k] = v
		return mm
	}
	for _, tc := range []struct {
		name string
		ts   []safetensors.Tensor
		meta map[string]string
		want string
	}{
		{"format", ts, badMeta("format", "elastic-lm/1"), "format"},
		{"fingerprint", ts, badMeta("classes", "8"), "fingerprint"},
		{"missing", ts[:4], good, "decoder.bias"},
		{"shape", append(slices.Clone(ts[:4]), safetensors.FromFloat32("decoder.bias", []int{8}, make([]float32, 8))), good, "shape"},
	} {
		_, _, err := LoadModel(write(tc.name, tc.ts, tc.meta))
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want ErrMismatch mentioning %q", tc.name, err, tc.want)
		}
	}

	// A model and a data set that do not belong together.
	d := &Dataset{Synsets: make([]Synset, 7), Vocab: make([]string, 11), Options: Options{Seed: 1}}
	if err := d.Check(m, map[string]string{KeyVocab: "0000"}); !errors.Is(err, ErrMismatch) {
		t.Errorf("vocabulary fingerprint: err %v, want ErrMismatch", err)
	}
	if err := d.Check(m, d.Meta()); err != nil {
		t.Errorf("matching data set: %v", err)
	}
	d.Synsets = d.Synsets[:6]
	if err := d.Check(m, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("class count: err %v, want ErrMismatch", err)
	}
	bad := syntheticSplit("bad", 8, 1, rand.New(rand.NewPCG(1, 1)))
	if _, err := m.Evaluate(bad); !errors.Is(err, ErrMismatch) {
		t.Errorf("Evaluate on labels beyond the classes: err %v, want ErrMismatch", err)
	}
}

func TestHiddenVectors(t *testing.T) {
	m, _ := New(Config{Vocab: 30, Dim: 8, Classes: 10}, 1)
	sp := syntheticSplit("s", 10, 15, rand.New(rand.NewPCG(2, 2))) // 150 > evalBatch samples
	h, n, d := m.HiddenVectors(sp)
	if n != 150 || d != 8 || len(h) != n*d {
		t.Fatalf("HiddenVectors: %d×%d, len %d", n, d, len(h))
	}
	one := m.Forward([]int32{0, int32(len(sp.Bag(149)))}, sp.Bag(149))
	if err := sameHidden(m, sp.Bag(149), h[149*d:], one); err != nil {
		t.Errorf("row 149 against Forward of that bag alone: %v", err)
	}
}

// sameHidden checks two hidden vectors of one bag computed in batches of
// different shapes, where the hidden layer's GEMM is free to sum each
// pre-activation differently: each is within γ(Dim+1)·(|bᵢ| + Σⱼ|Wᵢⱼxⱼ|)
// of the exact one (γ(n) = nu/(1-nu), u = 2⁻²⁴; the mean embedding x is
// the same per-bag code in any batch), tanh does not widen the gap, and
// each result rounds to float32 once more.
func sameHidden(m *Model, bag []int32, a, b []float32) error {
	d := m.cfg.Dim
	x := make([]float32, d)
	m.Encoder.Forward(x, []int32{0, int32(len(bag))}, bag)
	const u = 0x1p-24
	g := float64(d+1) * u / (1 - float64(d+1)*u)
	w, bias := m.Hidden.Weight.Data, m.Hidden.Bias.Data
	for i := range d {
		mag := math.Abs(float64(bias[i]))
		for j, v := range x {
			mag += math.Abs(float64(w[i*d+j]) * float64(v))
		}
		tol := 2*g*mag + u*(math.Abs(float64(a[i]))+math.Abs(float64(b[i])))
		if e := math.Abs(float64(a[i]) - float64(b[i])); !(e <= tol) {
			return fmt.Errorf("unit %d: %v vs %v, more than %.3g apart", i, a[i], b[i], tol)
		}
	}
	return nil
}

func TestSenses(t *testing.T) {
	d := &Dataset{Synsets: []Synset{
		{Lemmas: []string{"bank", "depository"}},
		{Lemmas: []string{"Bank"}},
		{Lemmas: []string{"river"}},
		{Lemmas: []string{"depository", "bank"}},
	}}
	got := d.Senses(0)
	want := [][]int32{{1, 3}, {0, 3}, nil, {0, 1}}
	for c := range want {
		if !slices.Equal(got[c], want[c]) {
			t.Errorf("Senses()[%d] = %v, want %v", c, got[c], want[c])
		}
	}
	if got := d.Senses(1); !slices.Equal(got[0], []int32{1}) {
		t.Errorf("Senses(1)[0] = %v, want [1]", got[0])
	}
}

// Issue 11: a decoder bias of 3e38 gave top-1 0 with loss 0.
func TestEvaluateOverflowingLogits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	valid := syntheticSplit("valid", 20, 1, rng)
	m, err := New(Config{Vocab: 45, Dim: 8, Classes: 20}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Bias.Data {
		m.Bias.Data[i] = 3e38
	}
	if met, err := m.Evaluate(valid); !errors.Is(err, nn.ErrLoss) {
		t.Fatalf("Evaluate = %+v, %v; want nn.ErrLoss", met, err)
	}
}
