package experiments

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
)

const testVocab = 40

func tinyModel(t testing.TB, cell nn.Cell, hidden, layers int, seed uint64) *lm.Model {
	t.Helper()
	m, err := lm.New(lm.Config{Cell: cell, Vocab: testVocab, Hidden: hidden, Layers: layers}, seed)
	if err != nil {
		t.Fatal(err)
	}
	// Spread the recurrent weights so that gates saturate, as a trained
	// model's do; PyTorch's ±1/√H keeps them all near zero.
	for _, p := range m.RNN.Params() {
		for i := range p.Data {
			p.Data[i] *= 4
		}
	}
	return m
}

// tokens returns a stream with some structure: a noisy walk over the
// vocabulary.
func tokens(n int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := make([]int32, n)
	v := int32(0)
	for i := range s {
		v = (v + int32(rng.IntN(5))) % testVocab
		s[i] = v
	}
	return s
}

// refLoss is the mean cross-entropy by lm.Model.Step, the package lm
// reference for a batch-1 stream.
func refLoss(m *lm.Model, stream []int32) float64 {
	st := m.NewState(1)
	logits := make([]float32, m.Config().Vocab)
	var total float64
	for i := 0; i+1 < len(stream); i++ {
		m.Step(st, stream[i], logits)
		total += nn.CrossEntropy(nil, nil, logits, stream[i+1:i+2], m.Config().Vocab)
	}
	return total / float64(len(stream)-1)
}

func TestNoiseZeroSigmaIsClean(t *testing.T) {
	for _, cell := range []nn.Cell{nn.LSTMCell, nn.GRUCell} {
		t.Run(cell.String(), func(t *testing.T) {
			m := tinyModel(t, cell, 12, 2, 3)
			stream := tokens(120, 1)
			clean, stats, err := NoiseRun(m, stream, []NoiseSpec{{Sensitive, 0}, {Insensitive, 0}}, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ref := refLoss(m, stream); math.Abs(clean-ref) > 1e-5*ref {
				t.Errorf("clean loss %v, lm.Model.Step gives %v", clean, ref)
			}
			for _, s := range stats {
				if s.Loss != clean {
					t.Errorf("%v σ=0: loss %v, clean %v", s.Spec.Region, s.Loss, clean)
				}
				for g := range s.Before {
					if math.Abs(s.Before[g]-1) > 1e-9 || math.Abs(s.After[g]-1) > 1e-9 {
						t.Errorf("%v σ=0 gate %d: cosines %v, %v, want 1", s.Spec.Region, g, s.Before[g], s.After[g])
					}
				}
			}
		})
	}
}

func TestNoiseLowersCosineAndIsDeterministic(t *testing.T) {
	m := tinyModel(t, nn.LSTMCell, 16, 1, 5)
	stream := tokens(150, 2)
	specs := []NoiseSpec{{Sensitive, 0.5}, {Insensitive, 0.5}, {Sensitive, 1}}
	_, a, err := NoiseRun(m, stream, specs, 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := NoiseRun(m, stream, specs, 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.Equal(a[i].Before, b[i].Before) || a[i].Loss != b[i].Loss {
			t.Errorf("spec %v: two runs with one seed differ", a[i].Spec)
		}
		for g, c := range a[i].Before {
			if !(c < 0.999 && c > 0) {
				t.Errorf("spec %v gate %d: cosine before %v, want in (0, 0.999)", a[i].Spec, g, c)
			}
		}
	}
	// More noise, lower similarity.
	for g := range a[0].Before {
		if a[2].Before[g] >= a[0].Before[g] {
			t.Errorf("gate %d: cosine at σ=1 %v not below σ=0.5 %v", g, a[2].Before[g], a[0].Before[g])
		}
	}
	if _, _, err := NoiseRun(m, stream, []NoiseSpec{{Sensitive, -1}}, 1, nil); err == nil {
		t.Error("negative σ: no error")
	}
	if _, _, err := NoiseRun(m, []int32{1, testVocab}, nil, 1, nil); err == nil {
		t.Error("token outside the vocabulary: no error")
	}
}

// The noise goes only to the chosen half: the smallest magnitudes for
// Sensitive, the largest for Insensitive.
func TestPerturbRegion(t *testing.T) {
	m := tinyModel(t, nn.LSTMCell, 8, 1, 1)
	seg := []float32{0.1, -5, 0.2, 3, -0.05, 4, -0.3, -6}
	sensitive := []bool{true, false, true, false, true, false, true, false}
	for _, r := range []Region{Sensitive, Insensitive} {
		s := newNoisyStepper(m, NoiseSpec{r, 1}, 4, nil)
		got := slices.Clone(seg)
		also := make([]float32, len(seg))
		s.perturb(got, also, 2)
		for i := range seg {
			moved := got[i] != seg[i]
			if moved != (sensitive[i] == (r == Sensitive)) {
				t.Errorf("%v: entry %d (%v) moved=%v", r, i, seg[i], moved)
			}
			if d := got[i] - seg[i] - also[i]; math.Abs(float64(d)) > 1e-6*(1+math.Abs(float64(seg[i]))) {
				t.Errorf("%v: entry %d: the mirrored noise %v differs from %v", r, i, also[i], got[i]-seg[i])
			}
		}
	}
}

func TestPrune(t *testing.T) {
	m := tinyModel(t, nn.GRUCell, 10, 2, 2)
	orig := Clone(m)
	p0, err := Prune(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range p0.Params() {
		if !slices.Equal(p.Data, m.Params()[i].Data) {
			t.Errorf("0%% pruning changed %s", p.Name)
		}
	}
	const frac = 0.9
	p9, err := Prune(m, frac)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Data, orig.Params()[i].Data) {
			t.Fatalf("Prune modified the original's %s", p.Name)
		}
	}
	for l, w := range p9.Layers() {
		ow := m.Layers()[l]
		for _, mat := range []struct {
			name      string
			got, orig []float32
		}{{"W_ih", w.WIH, ow.WIH}, {"W_hh", w.WHH, ow.WHH}} {
			zeros := 0
			maxZeroed, minKept := 0.0, math.Inf(1)
			for i, v := range mat.got {
				a := math.Abs(float64(mat.orig[i]))
				if v == 0 {
					zeros++
					maxZeroed = max(maxZeroed, a)
				} else {
					if v != mat.orig[i] {
						t.Errorf("layer %d %s[%d]: kept weight changed", l, mat.name, i)
					}
					minKept = min(minKept, a)
				}
			}
			want := frac * float64(len(mat.got))
			if math.Abs(float64(zeros)-want) > 1 {
				t.Errorf("layer %d %s: %d zeros of %d, want %.0f±1", l, mat.name, zeros, len(mat.got), want)
			}
			if maxZeroed > minKept {
				t.Errorf("layer %d %s: zeroed |w| up to %v but kept one of %v", l, mat.name, maxZeroed, minKept)
			}
		}
		if !slices.Equal(w.BIH, ow.BIH) || !slices.Equal(w.BHH, ow.BHH) {
			t.Errorf("layer %d: biases changed", l)
		}
	}
	// CSR: 8 bytes per nonzero, 4 per row pointer, dense biases.
	want := 0
	for _, w := range p9.Layers() {
		for _, mat := range [][2]int{{len(w.WIH), w.In}, {len(w.WHH), w.Hidden}} {
			nz := mat[0] - int(math.Round(frac*float64(mat[0])))
			want += 8*nz + 4*(mat[0]/mat[1]+1)
		}
		want += 4 * (len(w.BIH) + len(w.BHH))
	}
	if got := sparseBytes(p9); got != want {
		t.Errorf("90%% pruned: CSR %d bytes, want %d", got, want)
	}
	if d := recurrentBytes(p0); d != recurrentBytes(m) || sparseBytes(p0) <= d {
		t.Errorf("unpruned: dense %d bytes, CSR %d, want CSR above dense", d, sparseBytes(p0))
	}
	for _, bad := range []float64{-0.1, 1.1, math.NaN()} {
		if _, err := Prune(m, bad); err == nil {
			t.Errorf("fraction %v: no error", bad)
		}
	}
}

// testRunner builds a Runner on tiny in-process models with tiny timing
// shapes.
func testRunner(t *testing.T, small bool) *Runner {
	t.Helper()
	cfg := Config{
		Main:     Model{Path: "lstm.safetensors", LM: tinyModel(t, nn.LSTMCell, 12, 1, 1), State: lm.TrainState{Epoch: 3, LR: 5, BestVal: 4}},
		Other:    &Model{Path: "gru.safetensors", LM: tinyModel(t, nn.GRUCell, 12, 1, 2)},
		Eval:     tokens(80, 3),
		EvalName: "test tokens",
		Calib:    tokens(600, 4),
		Seed:     1,
		Ratios:   []float64{0.3, 0.7},
		Bits:     []quant.Bits{dmi.FP32, quant.Int8, quant.Int4, quant.Int2},
		Timing:   Timing{Reps: 3, Threads: 1, LLC: 1 << 15, Hidden: 12, Small: 6, GNMT: [2]Shape{{8, 8}, {8, 16}}},
		Command:  func(id string) string { return "elastic dmi table --which " + id },
	}
	if small {
		cfg.Small = &Model{Path: "small.safetensors", LM: tinyModel(t, nn.LSTMCell, 6, 1, 3)}
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTables(t *testing.T) {
	r := testRunner(t, true)
	gates := []string{"input", "forget", "cell", "output"}
	var t31 []string
	for _, w := range []string{"before", "after"} {
		for _, g := range gates {
			t31 = append(t31, "cos "+w+" gates: "+g)
		}
	}
	want := map[string]struct {
		header []string
		rows   int
	}{
		"3.1": {append(append([]string{"Case"}, t31...), "PPL"), 3},
		"3.2": {[]string{"Insensitive Ratio",
			"LM, L12 PPL", "LM, L12 Diff.", "LM, L12 Time", "LM, L12 Speedup",
			"LM, G12 PPL", "LM, G12 Diff.", "LM, G12 Time", "LM, G12 Speedup",
			"GNMT, L8 BLEU", "GNMT, L8 Diff.", "GNMT, L8 Time", "GNMT, L8 Speedup"}, 3},
		"B.1": {[]string{"Insensitive Ratio", "hidden 12 PPL", "hidden 12 Diff.", "hidden 12 Time", "hidden 12 Speedup",
			"hidden 6 PPL", "hidden 6 Diff.", "hidden 6 Time", "hidden 6 Speedup"}, 3},
		"B.3": {[]string{"Insensitive Ratio", "Quality BLEU", "Quality Diff.", "(8, 8) Time", "(8, 8) Speedup", "(8, 16) Time", "(8, 16) Speedup"}, 3},
		"3.4": {[]string{"Dimension", "PPL", "Speedup", "little", "big"}, 4},
		"3.5": {[]string{"Precision", "Base", "FP32", "INT8", "INT4", "INT2"}, 3},
		"B.4": {[]string{"Method", "PPL w/o DMI", "PPL w/ DMI", "read/step w/o DMI", "read/step w/ DMI"}, 4},
	}
	for _, id := range IDs() {
		res, err := r.Run(id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var md strings.Builder
		if err := res.Table.Markdown(&md); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !strings.Contains(md.String(), "elastic dmi table --which "+id) {
			t.Errorf("%s: no reproducing command in\n%s", id, md.String())
		}
		if _, err := json.Marshal(res); err != nil {
			t.Errorf("%s: JSON: %v", id, err)
		}
		w, ok := want[id]
		if !ok {
			continue
		}
		if !slices.Equal(res.Table.Header, w.header) {
			t.Errorf("%s header\n%q\nwant\n%q", id, res.Table.Header, w.header)
		}
		if len(res.Table.Rows) != w.rows {
			t.Errorf("%s: %d rows, want %d", id, len(res.Table.Rows), w.rows)
		}
		if id != "3.1" && id != "3.5" && id != "B.4" && !strings.Contains(md.String(), "RANDOM weights") {
			t.Errorf("%s does not say that timing used random weights", id)
		}
		if !strings.Contains(md.String(), "lstm.safetensors") && id != "B.3" {
			t.Errorf("%s does not name its model", id)
		}
	}
	// B.2: the GRU model has no half-width twin.
	res, err := r.Run("B.2")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Table.Rows[1][5]; got != notRun {
		t.Errorf("B.2 without a small GRU: %q, want %q", got, notRun)
	}
	// The same runner gives the same dense and DMI perplexities as a
	// direct dmi.LM evaluation.
	d := res.Data.(*RatioResult).Groups[0]
	s, err := r.set(r.cfg.Other, dmi.DefaultEps, quant.Int8)
	if err != nil {
		t.Fatal(err)
	}
	dl, _ := dmi.NewLM(r.cfg.Other.LM, s, nil)
	dl.SetRatio(0.7)
	if v, _ := dl.Loss(r.cfg.Eval, false); math.Abs(lm.Perplexity(v)-d.Points[1].PPL) > 1e-9*d.Points[1].PPL {
		t.Errorf("GRU at 0.7: table %v, dmi.LM %v", d.Points[1].PPL, lm.Perplexity(v))
	}
	if _, err := r.Run("3.3"); !errors.Is(err, ErrTable) {
		t.Errorf("table 3.3: %v, want ErrTable", err)
	}
}

func TestPrecisionMSEGrowsAsBitsShrink(t *testing.T) {
	r := testRunner(t, false)
	res, err := r.Run("3.5")
	if err != nil {
		t.Fatal(err)
	}
	cols := res.Data.(*PrecisionResult).Cols
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"Base", "FP32", "INT8", "INT4", "INT2"}) {
		t.Fatalf("columns %v", names)
	}
	// Each narrower width must cost clearly more, not merely not less (≥
	// passes on a tie, as when a width quantizes no coarser than the one
	// before). The MSEs move between kernels by up to 2.3% (INT8, pure Go
	// against assembly, measured), while each step coarsens the
	// weights' quantization step 18× (INT4) or 7× (INT2) and measures 20×
	// or more in MSE; so demand a factor of 2.
	for i := 2; i < len(cols); i++ {
		if !(cols[i].MSE > 2*cols[i-1].MSE) {
			t.Errorf("MSE %s = %v not above twice %s's %v", cols[i].Name, cols[i].MSE, cols[i-1].Name, cols[i-1].MSE)
		}
		if !(cols[i].MiB < cols[i-1].MiB) {
			t.Errorf("size %s = %v not below %s = %v", cols[i].Name, cols[i].MiB, cols[i-1].Name, cols[i-1].MiB)
		}
	}
}

func TestPruningWithoutSmall(t *testing.T) {
	r := testRunner(t, false)
	res, err := r.Run("B.4")
	if err != nil {
		t.Fatal(err)
	}
	last := res.Table.Rows[len(res.Table.Rows)-1]
	if last[1] != notRun {
		t.Errorf("no small model: last row %q", last)
	}
	rows := res.Data.(*PruneResult).Rows
	// Dense, 80 % and 90 %: each reads less than the one before, and
	// dual-module inference reads less than dense.
	for i := 1; i < 3; i++ {
		if !(rows[i].Bytes < rows[i-1].Bytes) {
			t.Errorf("%s reads %d bytes, %s %d", rows[i].Method, rows[i].Bytes, rows[i-1].Method, rows[i-1].Bytes)
		}
	}
	if !(rows[0].BytesDMI < rows[0].Bytes) {
		t.Errorf("DMI reads %d bytes, dense %d", rows[0].BytesDMI, rows[0].Bytes)
	}
}

func TestDescribe(t *testing.T) {
	m := tinyModel(t, nn.LSTMCell, 4, 1, 1)
	for _, tc := range []struct {
		st   lm.TrainState
		want string
	}{
		{lm.TrainState{BestVal: math.Inf(1)}, "no training metadata"},
		{lm.TrainState{Epoch: 1, Batch: 300, BestVal: math.Inf(1)}, "PARTIALLY trained: stopped 300 windows into epoch 1 after 0 complete epochs, not validated"},
		{lm.TrainState{Epoch: 41, LR: 0.02, BestVal: math.Log(80)}, "40 complete epochs, best valid PPL 80.00, lr now 0.02"},
		{lm.TrainState{Epoch: 1, BestVal: math.Inf(1)}, "UNTRAINED"},
	} {
		got := (&Model{Path: "m", LM: m, State: tc.st}).Describe()
		if !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q lacks %q", tc.st, got, tc.want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	lstm := Model{Path: "a", LM: tinyModel(t, nn.LSTMCell, 4, 1, 1)}
	gru := &Model{Path: "b", LM: tinyModel(t, nn.GRUCell, 4, 1, 1)}
	ev := tokens(10, 1)
	for name, cfg := range map[string]Config{
		"no model":        {Eval: ev},
		"short eval":      {Main: lstm, Eval: ev[:1]},
		"other same cell": {Main: lstm, Other: &lstm, Eval: ev},
		"small cell":      {Main: lstm, Small: gru, Eval: ev},
		"bad ratio":       {Main: lstm, Eval: ev, Ratios: []float64{1}},
		"bad sparsity":    {Main: lstm, Eval: ev, Prune: []float64{2}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func BenchmarkNoiseRun(b *testing.B) {
	m := tinyModel(b, nn.LSTMCell, 64, 1, 1)
	stream := tokens(65, 1)
	specs := []NoiseSpec{{Sensitive, 0.5}, {Insensitive, 0.5}}
	for b.Loop() {
		if _, _, err := NoiseRun(m, stream, specs, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrune(b *testing.B) {
	m := tinyModel(b, nn.LSTMCell, 128, 1, 1)
	for b.Loop() {
		if _, err := Prune(m, 0.9); err != nil {
			b.Fatal(err)
		}
	}
}
