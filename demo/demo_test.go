package demo

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/lm"
)

func loadAssets(t testing.TB) *Assets {
	t.Helper()
	a, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func relDiff(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }

func TestLoadEmbedded(t *testing.T) {
	a := loadAssets(t)
	cfg := a.Model.Config()
	if len(a.Words) != cfg.Vocab || a.Words[0] != "<eos>" || a.Words[1] != "<unk>" {
		t.Errorf("vocabulary of %d words starting %q, want %d starting <eos> <unk>", len(a.Words), a.Words[:2], cfg.Vocab)
	}
	if len(a.Sample) < DefaultTokens {
		t.Errorf("sample holds %d tokens, fewer than DefaultTokens = %d", len(a.Sample), DefaultTokens)
	}
	if _, ok := a.State.Extra[vocabKey]; !ok {
		t.Errorf("model metadata lacks %s: the vocabulary cannot be checked", vocabKey)
	}
	if a.Little.Fingerprint != dmi.Fingerprint(a.Model) {
		t.Error("little modules were fitted to another model")
	}
	if a.ModelBytes+a.LittleBytes > 20<<20 {
		t.Errorf("embedded model %d + little modules %d bytes exceed 20 MiB", a.ModelBytes, a.LittleBytes)
	}
	info := a.Describe()
	if info.Hidden != cfg.Hidden || info.Layers != cfg.Layers || len(info.KX) != cfg.Layers || !(info.RecurrentShare > 0 && info.RecurrentShare < 1) {
		t.Errorf("Describe() = %+v for %v", info, cfg)
	}
}

func TestRunEmbedded(t *testing.T) {
	const tokens = 40
	res, err := Run(Config{Tokens: tokens, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 10 || res.Tokens != tokens || res.Threads != 1 {
		t.Fatalf("%d rows over %d tokens on %d threads, want 10 over %d on 1", len(res.Rows), res.Tokens, res.Threads, tokens)
	}
	want := Ratios()
	for i, r := range res.Rows {
		if r.Ratio != want[i] {
			t.Errorf("row %d: ratio %v, want %v", i, r.Ratio, want[i])
		}
		for _, p := range []float64{r.DensePPL, r.DMIPPL} {
			if !(p > 1) || math.IsInf(p, 0) {
				t.Errorf("ratio %v: perplexity %v, want finite and > 1", r.Ratio, p)
			}
		}
		// Every row streams the same tokens through the same dense model.
		if r.DensePPL != res.Rows[0].DensePPL {
			t.Errorf("ratio %v: dense perplexity %v differs from ratio 0's %v", r.Ratio, r.DensePPL, res.Rows[0].DensePPL)
		}
		if !(r.DenseMs > 0 && r.DMIMs > 0) || relDiff(r.Speedup, r.DenseMs/r.DMIMs) > 1e-12 {
			t.Errorf("ratio %v: times %v, %v ms, speedup %v", r.Ratio, r.DenseMs, r.DMIMs, r.Speedup)
		}
		// Top-K leaves round(ratio·H) rows of each gate to the little
		// module, so the measured ratio is within one row of the request.
		if d := math.Abs(r.Insensitive - r.Ratio); d > 1/float64(res.Model.Hidden) {
			t.Errorf("ratio %v: measured insensitive ratio %v", r.Ratio, r.Insensitive)
		}
		if len(r.ByGate) != 4 {
			t.Errorf("ratio %v: %d gates, want 4 (LSTM)", r.Ratio, len(r.ByGate))
		}
	}
	// At ratio 0 every row is computed exactly.
	if r := res.Rows[0]; relDiff(r.DMIPPL, r.DensePPL) > 1e-4 || r.Insensitive != 0 {
		t.Errorf("ratio 0: DMI perplexity %v, dense %v, insensitive %v", r.DMIPPL, r.DensePPL, r.Insensitive)
	}
}

// measure's perplexities must be those of dmi.LM.Loss, and its dense one
// that of the lm package's own batched evaluation.
func TestMeasureMatchesLibrary(t *testing.T) {
	a := loadAssets(t)
	d, err := dmi.NewLM(a.Model, a.Little, nil)
	if err != nil {
		t.Fatal(err)
	}
	stream := a.Sample[:60]
	if err := d.SetRatio(0.5); err != nil {
		t.Fatal(err)
	}
	dense, err := a.measure(d, stream, true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.measure(d, stream, false)
	if err != nil {
		t.Fatal(err)
	}
	if !(dense.ms > 0 && m.ms > 0 && m.denseMs > 0) {
		t.Errorf("times: dense pass %v ms, dual-module %v ms with dense aside %v ms", dense.ms, m.ms, m.denseMs)
	}
	ins := d.InsensitiveRatio()
	// The dual-module Loss goes last: only it counts rows.
	for _, exact := range []bool{true, false} {
		got := map[bool]float64{true: dense.loss, false: m.loss}[exact]
		want, err := d.Loss(stream, exact)
		if err != nil {
			t.Fatal(err)
		}
		if relDiff(got, want) > 1e-9 {
			t.Errorf("exact=%v: loss %v, dmi.LM.Loss gives %v", exact, got, want)
		}
	}
	if got := d.InsensitiveRatio(); !slices.Equal(got, ins) {
		t.Errorf("insensitive ratios %v, dmi.LM.Loss counts %v", ins, got)
	}
	want, err := a.Model.Evaluate(stream, 1, 35)
	if err != nil {
		t.Fatal(err)
	}
	if relDiff(dense.loss, want) > 1e-4 {
		t.Errorf("dense loss %v, lm.Model.Evaluate gives %v", dense.loss, want)
	}
	// Any two dense paths may differ by rounding (the 1e-4 allowed above);
	// the little modules at ratio 0.5 move the loss by ~1e-2.
	if relDiff(m.loss, dense.loss) <= 1e-4 {
		t.Errorf("ratio 0.5 loss %v within rounding of the dense loss %v: the little modules were not used", m.loss, dense.loss)
	}
}

func TestEncode(t *testing.T) {
	words := []string{"<eos>", "<unk>", "and", "god", "said"}
	for _, tc := range []struct {
		text string
		want []int32
	}{
		{"and god said\n", []int32{2, 3, 4, 0}},
		{"and  god\n\nsaid", []int32{2, 3, 0, 0, 4}},
		{"<unk> said\n", []int32{1, 4, 0}},
		{"", nil},
	} {
		got, err := encode(tc.text, words)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("encode(%q) = %v, %v; want %v", tc.text, got, err, tc.want)
		}
	}
	if _, err := encode("and light\n", words); !errors.Is(err, ErrAssets) {
		t.Errorf("unknown word: %v, want ErrAssets", err)
	}
	if _, err := encode("and\n", words[1:]); !errors.Is(err, ErrAssets) {
		t.Errorf("vocabulary without <eos>: %v, want ErrAssets", err)
	}
}

func TestCheckVocab(t *testing.T) {
	a := loadAssets(t)
	a.Words[2], a.Words[3] = a.Words[3], a.Words[2]
	if err := a.checkVocab(); !errors.Is(err, ErrAssets) {
		t.Errorf("permuted vocabulary: %v, want ErrAssets", err)
	}
	a.Words = a.Words[:10]
	if err := a.checkVocab(); !errors.Is(err, ErrAssets) {
		t.Errorf("short vocabulary: %v, want ErrAssets", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Tokens: 1},
		{Tokens: -5},
		{Tokens: 100_000_000}, // beyond the sample: refused, not clamped
		{Threads: -1},
		{Ratios: []float64{}},
		{Ratios: []float64{0.5, 1}},
		{Ratios: []float64{-0.1}},
		{Ratios: []float64{math.NaN()}},
	} {
		if _, err := Run(c); !errors.Is(err, ErrConfig) {
			t.Errorf("Run(%+v): %v, want ErrConfig", c, err)
		}
	}
}

func TestTrained(t *testing.T) {
	for _, tc := range []struct {
		m    ModelInfo
		want string
	}{
		{ModelInfo{Epoch: 12, ValPPL: 95.123}, "epoch 12, validation perplexity 95.12"},
		{ModelInfo{Epoch: 1}, "epoch 1 (no completed validation)"},
	} {
		if got := tc.m.Trained(); got != tc.want {
			t.Errorf("%+v.Trained() = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		v := slices.Clone(tc.v)
		if got := median(v); got != tc.want || !slices.Equal(v, tc.v) {
			t.Errorf("median(%v) = %v, want %v (input unchanged)", tc.v, got, tc.want)
		}
	}
}

var sink float64

// BenchmarkStep times one dense and one dual-module token step at
// insensitive ratio 0.5 on the embedded model.
func BenchmarkStep(b *testing.B) {
	a := loadAssets(b)
	d, err := dmi.NewLM(a.Model, a.Little, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := d.SetRatio(0.5); err != nil {
		b.Fatal(err)
	}
	logits := make([]float32, a.Model.Config().Vocab)
	for _, exact := range []bool{true, false} {
		name := map[bool]string{true: "dense", false: "dmi"}[exact]
		b.Run(name, func(b *testing.B) {
			st := a.Model.NewState(1)
			i := 0
			for b.Loop() {
				d.Step(st, a.Sample[i%len(a.Sample)], logits, exact)
				i++
			}
			sink += float64(logits[0])
		})
	}
	_ = lm.Perplexity(sink)
}
