package demo

import (
	"errors"
	"github.com/elasticml/elastic/budget"
	"math"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/screen"
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
	if a.ModelBytes+a.LittleBytes+a.ScreenerBytes > 22_000_000 {
		t.Errorf("embedded model %d + little modules %d + screener %d bytes exceed 22 MB", a.ModelBytes, a.LittleBytes, a.ScreenerBytes)
	}
	info := a.Describe()
	if info.Hidden != cfg.Hidden || info.Layers != cfg.Layers || len(info.KX) != cfg.Layers || !(info.RecurrentShare > 0 && info.RecurrentShare < 1) {
		t.Errorf("Describe() = %+v for %v", info, cfg)
	}
}

func TestRunEmbedded(t *testing.T) {
	const tokens = 40
	res, err := Run(Config{Tokens: tokens, Threads: 1, M: 64, ColdTokens: 5, Evict: EvictRead, LLC: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 5 || len(res.Parts.DMI) != 5 || len(res.Parts.Screened) != 5 || res.Tokens != tokens || res.Threads != 1 || res.M != 64 {
		t.Fatalf("%d/%d/%d rows over %d tokens on %d threads at m=%d, want 5 each over %d on 1 at 64",
			len(res.Rows), len(res.Parts.DMI), len(res.Parts.Screened), res.Tokens, res.Threads, res.M, tokens)
	}
	// 39 predictions, one cold every 39/5 = 7: tokens 0, 7, …, 35.
	if res.ColdTokens != 6 || res.EvictBytes != 2<<20 || res.Evict != EvictRead || res.Copies != 0 {
		t.Errorf("%d cold tokens evicting %d bytes (%s, %d copies), want 6 and %d (read, none)", res.ColdTokens, res.EvictBytes, res.Evict, res.Copies, 2<<20)
	}
	want := Ratios()
	for i := range res.Rows {
		for name, r := range map[string]Row{"elastic": res.Rows[i], "dmi": res.Parts.DMI[i], "screened": res.Parts.Screened[i]} {
			if r.Ratio != want[i] {
				t.Errorf("%s row %d: ratio %v, want %v", name, i, r.Ratio, want[i])
			}
			for _, p := range []float64{r.DensePPL, r.PPL} {
				if !(p > 1) || math.IsInf(p, 0) {
					t.Errorf("%s ratio %v: perplexity %v, want finite and > 1", name, r.Ratio, p)
				}
			}
			// Every pass streams the same tokens through the same dense model.
			if r.DensePPL != res.Rows[0].DensePPL || relDiff(r.DeltaPPL, r.PPL-r.DensePPL) > 1e-12 {
				t.Errorf("%s ratio %v: dense perplexity %v (ratio 0: %v), Δ %v", name, r.Ratio, r.DensePPL, res.Rows[0].DensePPL, r.DeltaPPL)
			}
			if !(r.Top1 >= 0 && r.Top1 <= 1) {
				t.Errorf("%s ratio %v: top-1 agreement %v", name, r.Ratio, r.Top1)
			}
			for _, sp := range [][3]float64{{r.WarmDenseMs, r.WarmMs, r.WarmSpeedup}, {r.ColdDenseMs, r.ColdMs, r.ColdSpeedup}} {
				if !(sp[0] > 0 && sp[1] > 0) || relDiff(sp[2], sp[0]/sp[1]) > 1e-12 {
					t.Errorf("%s ratio %v: times %v", name, r.Ratio, sp)
				}
			}
		}
		// The screened decoder alone does not depend on the ratio; its
		// rows differ only in timing.
		if s, s0 := res.Parts.Screened[i], res.Parts.Screened[0]; s.PPL != s0.PPL || s.M != 64 || s.Insensitive != 0 {
			t.Errorf("screened ratio %v: perplexity %v (ratio 0: %v), m %d, insensitive %v", s.Ratio, s.PPL, s0.PPL, s.M, s.Insensitive)
		}
		// Top-K leaves round(ratio·H) rows of each gate to the little
		// module, so the measured ratio is within one row of the request;
		// the elastic and DMI-only models share the layers' counts.
		for _, r := range []Row{res.Rows[i], res.Parts.DMI[i]} {
			if d := math.Abs(r.Insensitive - r.Ratio); d > 1/float64(res.Model.Hidden) || len(r.ByGate) != 4 {
				t.Errorf("ratio %v: measured insensitive ratio %v, %d gates (want 4, LSTM)", r.Ratio, r.Insensitive, len(r.ByGate))
			}
		}
		if res.Parts.DMI[i].M != 0 || res.Rows[i].M != 64 {
			t.Errorf("ratio %v: m %d (DMI only), %d (elastic), want 0 and 64", want[i], res.Parts.DMI[i].M, res.Rows[i].M)
		}
	}
	// At ratio 0 every row is computed exactly: DMI alone is the dense
	// model, and the elastic model is the screened decoder alone.
	r0 := res.Rows[0]
	if d := res.Parts.DMI[0]; relDiff(d.PPL, d.DensePPL) > 1e-4 || d.Top1 < 0.99 {
		t.Errorf("ratio 0: DMI perplexity %v, dense %v, top-1 %v", d.PPL, d.DensePPL, d.Top1)
	}
	if s := res.Parts.Screened[0]; relDiff(r0.PPL, s.PPL) > 1e-4 {
		t.Errorf("ratio 0: elastic perplexity %v, screened decoder alone %v", r0.PPL, s.PPL)
	}
	// m = 64 of 8323 classes: the mixed logits move perplexity, but
	// little (the screener holds it within a few percent).
	if s := res.Parts.Screened[0]; relDiff(s.PPL, s.DensePPL) < 1e-4 || relDiff(s.PPL, s.DensePPL) > 0.1 {
		t.Errorf("screened decoder at m=64: perplexity %v vs dense %v", s.PPL, s.DensePPL)
	}
}

// pass's perplexities must be those of dmi.LM.Loss, its dense one that of
// the lm package's own batched evaluation, and its screened one that of
// screen's mixed logits.
func TestPassMatchesLibrary(t *testing.T) {
	a := loadAssets(t)
	e, err := a.newElastic(nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	stream := a.Sample[:60]
	if err := e.lm.SetRatio(0.5); err != nil {
		t.Fatal(err)
	}
	pool := kernels.NewPool(1)
	defer pool.Close()
	p := newPass(a, e, stream, pool, 8192)
	p.coldEvery = 7
	r, err := p.run()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.cold[dense]) + len(r.warm[dense]); n != len(stream)-1 || len(r.cold[both]) != 9 {
		t.Errorf("%d timed dense steps, %d cold elastic ones; want %d and 9", n, len(r.cold[both]), len(stream)-1)
	}
	ins := e.lm.InsensitiveRatio()
	for _, exact := range []bool{true, false} {
		k := map[bool]int{true: dense, false: dmiOnly}[exact]
		want, err := e.lm.Loss(stream, exact)
		if err != nil {
			t.Fatal(err)
		}
		if relDiff(r.loss[k], want) > 1e-9 {
			t.Errorf("exact=%v: loss %v, dmi.LM.Loss gives %v", exact, r.loss[k], want)
		}
	}
	// pass counted both dual-module models' rows; Loss one model's.
	if got := e.lm.InsensitiveRatio(); relDiff(got[0], ins[0]) > 1e-9 {
		t.Errorf("insensitive ratios %v, dmi.LM.Loss counts %v", ins, got)
	}
	want, err := a.Model.Evaluate(stream, 1, 35)
	if err != nil {
		t.Fatal(err)
	}
	if relDiff(r.loss[dense], want) > 1e-4 {
		t.Errorf("dense loss %v, lm.Model.Evaluate gives %v", r.loss[dense], want)
	}
	// The screened decoder's loss from its mixed logits, on the dense
	// model's hidden states.
	st := a.Model.NewState(1)
	logits, mixed := make([]float32, a.Model.Config().Vocab), make([]float32, a.Model.Config().Vocab)
	var loss float64
	for i := 0; i+1 < len(stream); i++ {
		e.lm.Step(st, stream[i], logits, true)
		if _, err := e.dec.Forward(mixed, st.H[len(st.H)-1]); err != nil {
			t.Fatal(err)
		}
		lp, err := screen.LogProb(mixed, int(stream[i+1]))
		if err != nil {
			t.Fatal(err)
		}
		loss -= lp
	}
	loss /= float64(len(stream) - 1)
	if relDiff(r.loss[screenOnly], loss) > 1e-6 {
		t.Errorf("screened loss %v, screen's mixed logits give %v", r.loss[screenOnly], loss)
	}
	// The little modules and the screener each move the loss by more than
	// rounding.
	for _, k := range []int{dmiOnly, screenOnly, both} {
		if relDiff(r.loss[k], r.loss[dense]) <= 1e-4 {
			t.Errorf("model %d: loss %v within rounding of the dense loss %v", k, r.loss[k], r.loss[dense])
		}
	}
}

func TestGenerate(t *testing.T) {
	c, err := Generate(GenerateConfig{Prompt: "In the beginning, God zzyzx!", Words: 8, Ratio: 0.5, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Prompt, []string{"in", "the", "beginning", "god", "zzyzx"}) || !slices.Equal(c.Unknown, []string{"zzyzx"}) {
		t.Errorf("prompt read as %q, unknown %q", c.Prompt, c.Unknown)
	}
	if len(c.Dense) != 8 || len(c.Elastic) != 8 || !(c.DenseTokensPerSec > 0 && c.ElasticTokensPerSec > 0) {
		t.Fatalf("continuations %q / %q at %v / %v tokens/s", c.Dense, c.Elastic, c.DenseTokensPerSec, c.ElasticTokensPerSec)
	}
	for _, w := range append(slices.Clone(c.Dense), c.Elastic...) {
		if w == "<unk>" {
			t.Errorf("generated <unk>: %q / %q", c.Dense, c.Elastic)
		}
	}
	// At ratio 0 with every class a candidate, the elastic model is the
	// dense one: the same words, barring a near-tie flipped by rounding.
	c, err = Generate(GenerateConfig{Prompt: "and the lord said", Words: 8, Ratio: 0, M: 8323, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.Same < 7 {
		t.Errorf("ratio 0, m = vocabulary: %q vs %q", c.Dense, c.Elastic)
	}
	for _, g := range []GenerateConfig{
		{Prompt: "zzyzx qqq"}, {Prompt: ""}, {Prompt: "and", Words: -1}, {Prompt: "and", Ratio: 1}, {Prompt: "and", M: 100000},
	} {
		if _, err := Generate(g); !errors.Is(err, ErrConfig) {
			t.Errorf("Generate(%+v): %v, want ErrConfig", g, err)
		}
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
		{M: -1},
		{M: 100000}, // beyond the vocabulary
		{ColdTokens: -1},
		{LLC: -1},
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
		{ModelInfo{Epoch: 6, Epochs: 5.135, ValPPL: 44.2099}, "5.1 epochs, validation perplexity 44.21"},
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

// The embedded model states the validation perplexity its own weights
// give (lm eval --split valid on demo/assets/model.safetensors: 44.21), not
// the training run's best (45.13), and its fractional epochs.
func TestEmbeddedTrainingRecord(t *testing.T) {
	info := loadAssets(t).Describe()
	if math.Abs(info.ValPPL-44.21) > 0.01 || math.Abs(info.Epochs-5.14) > 0.01 {
		t.Errorf("validation perplexity %v after %v epochs, want 44.21 after 5.14", info.ValPPL, info.Epochs)
	}
}

// The three ways of emptying the caches run the same models on the same
// tokens, so every perplexity agrees; they differ only in what the cold
// steps find in cache, and they say which they used.
func TestEvictModes(t *testing.T) {
	var ppl []float64
	modes := []string{EvictRead, EvictCopies}
	if kernels.CanFlush() {
		modes = append(modes, EvictFlush)
	}
	for _, ev := range modes {
		res, err := Run(Config{Tokens: 20, Threads: 1, M: 64, ColdTokens: 3, Ratios: []float64{0.5}, Evict: ev, LLC: 1 << 20})
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		want := 0
		if ev == EvictCopies {
			want = copiesFor(1<<20, loadAssets(t).denseBytes())
		}
		if res.Impl != kernels.Impl() {
			t.Errorf("%s: impl %q, want %q", ev, res.Impl, kernels.Impl())
		}
		if res.Evict != ev || res.Copies != want || (res.EvictBytes != 0) != (ev == EvictRead) {
			t.Errorf("%s: result says %s, %d copies, %d bytes read; want %d copies", ev, res.Evict, res.Copies, res.EvictBytes, want)
		}
		for _, r := range []Row{res.Rows[0], res.Parts.DMI[0], res.Parts.Screened[0]} {
			ppl = append(ppl, r.DensePPL, r.PPL)
		}
	}
	for i := 6; i < len(ppl); i++ {
		if relDiff(ppl[i], ppl[i%6]) > 1e-6 {
			t.Errorf("perplexity %d of mode %d: %v, first mode %v", i%6, i/6, ppl[i], ppl[i%6])
		}
	}
	if _, err := Run(Config{Tokens: 20, Evict: "sometimes"}); !errors.Is(err, ErrConfig) {
		t.Errorf("eviction \"sometimes\": %v, want ErrConfig", err)
	}
	if !kernels.CanFlush() {
		if _, err := Run(Config{Tokens: 20, Evict: EvictFlush}); !errors.Is(err, ErrConfig) {
			t.Errorf("flush without CanFlush: %v, want ErrConfig", err)
		}
	}
}

// copiesFor: a copy comes back only after the other cold tokens have
// streamed at least twice the cache.
func TestCopiesFor(t *testing.T) {
	for _, tc := range []struct{ llc, dense, want int }{
		{1 << 20, 32 << 20, 8},
		{32 << 20, 32 << 20, 8},
		{33 << 20, 32 << 20, 12},
		{480 << 20, 34 << 20, 64},
	} {
		n := copiesFor(tc.llc, tc.dense)
		if n != tc.want || (n/4-1)*2*tc.dense < 2*tc.llc {
			t.Errorf("copiesFor(%d, %d) = %d, want %d streaming ≥ 2·LLC", tc.llc, tc.dense, n, tc.want)
		}
	}
}

// --evict copies refuses, before loading any, more copies than memory
// holds (a huge last-level cache asks for many).
func TestEvictCopiesBudget(t *testing.T) {
	old := debug.SetMemoryLimit(1 << 30)
	defer debug.SetMemoryLimit(old)
	_, err := Run(Config{Tokens: 20, Threads: 1, Evict: EvictCopies, LLC: 1 << 30})
	if !errors.Is(err, budget.ErrMemory) || !errors.Is(err, ErrConfig) {
		t.Errorf("copies for a 1 GiB cache under a 1 GiB limit: %v, want ErrConfig and budget.ErrMemory", err)
	}
}
