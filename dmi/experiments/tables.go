package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/report"
)

// NoiseResult is Table 3.1.
type NoiseResult struct {
	Model    string     `json:"model"`
	Gates    []string   `json:"gates"`
	CleanPPL float64    `json:"clean_ppl"`
	Rows     []NoiseRow `json:"rows"`
}

// NoiseRow is one noisy run.
type NoiseRow struct {
	Region string    `json:"region"`
	Sigma  float64   `json:"sigma_rms"`
	Before []float64 `json:"cosine_before"`
	After  []float64 `json:"cosine_after"`
	PPL    float64   `json:"ppl"`
}

// gateLabels names the gates as the thesis's Table 3.1 does.
func gateLabels(c nn.Cell) []string {
	if c == nn.GRUCell {
		return []string{"reset", "update", "new"}
	}
	return []string{"input", "forget", "cell", "output"}
}

func (r *Runner) noise() (*Result, error) {
	m := &r.cfg.Main
	var specs []NoiseSpec
	for _, s := range r.cfg.Noise {
		specs = append(specs, NoiseSpec{Sensitive, s}, NoiseSpec{Insensitive, s})
	}
	r.say("noise runs on %s: %d tokens × %d runs…", m.Path, len(r.cfg.Eval), len(specs)+1)
	clean, stats, err := NoiseRun(m.LM, r.cfg.Eval, specs, r.cfg.Seed, r.cfg.Pool)
	if err != nil {
		return nil, err
	}
	cell := m.LM.Config().Cell
	names := gateLabels(cell)
	d := &NoiseResult{Model: m.Describe(), Gates: names, CleanPPL: lm.Perplexity(clean)}
	t := report.Table{
		Title:  fmt.Sprintf("Table 3.1 (ours): Gaussian noise on the sensitive or insensitive half of each %v gate's pre-activations", cell),
		Header: []string{"Case"},
	}
	for _, when := range []string{"before", "after"} {
		for _, n := range names {
			t.Header = append(t.Header, fmt.Sprintf("cos %s gates: %s", when, n))
		}
	}
	t.Header = append(t.Header, "PPL")
	row := []any{"Baseline (no noise)"}
	for range 2 * len(names) {
		row = append(row, "1.000")
	}
	t.AddRow(append(row, report.Cell{Format: "%.2f", Value: d.CleanPPL})...)
	for _, s := range stats {
		nr := NoiseRow{Region: s.Spec.Region.String(), Sigma: s.Spec.Sigma, Before: s.Before, After: s.After, PPL: lm.Perplexity(s.Loss)}
		d.Rows = append(d.Rows, nr)
		row := []any{fmt.Sprintf("%s (σ = %g·RMS)", nr.Region, nr.Sigma)}
		for _, v := range append(append([]float64(nil), s.Before...), s.After...) {
			row = append(row, report.Cell{Format: "%.3f", Value: v})
		}
		t.AddRow(append(row, report.Cell{Format: "%.2f", Value: nr.PPL})...)
	}
	t.Notes = []string{
		"Model: " + d.Model + ".",
		r.qualityNote(),
		"Noise: at every step and for every gate of every layer, the pre-activations are ranked by magnitude (sel.TopK at ratio 0.5); the sensitive half is the one with the smallest |x|, where sigmoid and tanh are steep (§3.2, eq. 3.4), the insensitive half the saturated rest. Gaussian noise of σ times the RMS of that gate's pre-activations at that step goes to one half. The thesis gives no σ; its cosines before the gates (≈0.95) correspond to σ ≈ 0.5·RMS on half the entries. Cosines compare the noisy run with a clean run in lockstep (each with its own state), averaged over steps and layers. A GRU's new gate gets its noise on W_in x + b_in + r⊙(W_hn h + b_hn) with the noisy r.",
	}
	return &Result{Table: t, Data: d}, nil
}

// RatioResult is Table 3.2, B.1, B.2 or B.3: column groups of quality
// and timing against the insensitive ratio.
type RatioResult struct {
	Groups []RatioGroup `json:"groups"`
}

// RatioGroup is one column group. Quality and Timing describe where the
// numbers come from; HasQuality and Timed say whether they were run.
type RatioGroup struct {
	Label      string       `json:"label"`
	Quality    string       `json:"quality,omitempty"`
	HasQuality bool         `json:"has_quality"`
	Model      string       `json:"model,omitempty"` // short name of the quality model
	BasePPL    float64      `json:"base_ppl,omitempty"`
	Timing     string       `json:"timing,omitempty"`
	Timed      bool         `json:"timed"`
	DenseMs    float64      `json:"dense_ms,omitempty"`
	Points     []RatioPoint `json:"points"`
}

// RatioPoint is one insensitive ratio. Diff is the thesis's: baseline
// minus PPL, negative when quality drops.
type RatioPoint struct {
	Ratio   float64 `json:"ratio"`
	PPL     float64 `json:"ppl,omitempty"`
	Diff    float64 `json:"diff,omitempty"`
	Ms      float64 `json:"dmi_ms,omitempty"`
	Speedup float64 `json:"speedup,omitempty"`
}

// groupSpec lays out one column group.
type groupSpec struct {
	label   string
	metric  string // "PPL" or "BLEU"; "" for no quality columns
	model   *Model // nil: quality cells say why
	why     string // the quality cells' text without a model
	cell    nn.Cell
	shape   *Shape // nil: no timing columns
	comment string // note on the group
}

func (r *Runner) ratioSpecs(id string) (title string, specs []groupSpec) {
	t := r.cfg.Timing
	big, small := Shape{Hidden: t.Hidden}, Shape{Hidden: t.Small}
	mainCell := r.cfg.Main.LM.Config().Cell
	smallOf := func(c nn.Cell) (*Model, string) {
		switch {
		case c != mainCell:
			return nil, notRun
		case r.cfg.Small == nil:
			return nil, notRun
		}
		return r.cfg.Small, ""
	}
	lmGroup := func(label string, c nn.Cell, s Shape, m *Model, why string) groupSpec {
		if m == nil && why == "" {
			why = notRun
		}
		return groupSpec{label: label, metric: "PPL", model: m, why: why, cell: c, shape: &s}
	}
	nmt := "n/a (no NMT model)"
	switch id {
	case "3.2":
		return "Table 3.2 (ours): RNN quality and execution time (ms) against the insensitive ratio", []groupSpec{
			lmGroup(fmt.Sprintf("LM, L%d", t.Hidden), nn.LSTMCell, big, r.byCell(nn.LSTMCell), ""),
			lmGroup(fmt.Sprintf("LM, G%d", t.Hidden), nn.GRUCell, big, r.byCell(nn.GRUCell), ""),
			{label: fmt.Sprintf("GNMT, L%d", t.GNMT[0].Hidden), metric: "BLEU", why: nmt, cell: nn.LSTMCell, shape: &t.GNMT[0]},
		}
	case "B.1", "B.2":
		c, name := nn.LSTMCell, "LSTM"
		if id == "B.2" {
			c, name = nn.GRUCell, "GRU"
		}
		sm, why := smallOf(c)
		return fmt.Sprintf("Table %s (ours): %s perplexity and execution time (ms)", id, name), []groupSpec{
			lmGroup(fmt.Sprintf("hidden %d", t.Hidden), c, big, r.byCell(c), ""),
			lmGroup(fmt.Sprintf("hidden %d", t.Small), c, small, sm, why),
		}
	}
	return "Table B.3 (ours): GNMT-shaped LSTM execution time (ms); (h, i) is hidden and input size", []groupSpec{
		{label: "Quality", metric: "BLEU", why: nmt},
		{label: t.GNMT[0].String(), cell: nn.LSTMCell, shape: &t.GNMT[0]},
		{label: t.GNMT[1].String(), cell: nn.LSTMCell, shape: &t.GNMT[1]},
	}
}

func (r *Runner) ratio(id string) (*Result, error) {
	title, specs := r.ratioSpecs(id)
	d := &RatioResult{}
	t := report.Table{Title: title, Header: []string{"Insensitive Ratio"}}
	var lastBench *dmi.BenchResult
	for _, g := range specs {
		label := g.label
		rg := RatioGroup{Label: label}
		if g.metric != "" {
			t.Header = append(t.Header, label+" "+g.metric, label+" Diff.")
		}
		if g.shape != nil {
			t.Header = append(t.Header, label+" Time", label+" Speedup")
		}
		if g.model != nil {
			c := g.model.LM.Config()
			rg.Quality, rg.HasQuality = g.model.Describe(), true
			rg.Model = fmt.Sprintf("%v %d×%d", c.Cell, c.Layers, c.Hidden)
			base, err := r.ppl(g.model, -1)
			if err != nil {
				return nil, err
			}
			rg.BasePPL = base
		} else if g.metric != "" {
			rg.Quality = g.why
		}
		var b *dmi.BenchResult
		if g.shape != nil {
			rg.Timing = fmt.Sprintf("%v %v, random weights", g.cell, g.shape)
			if !r.cfg.Timing.Off {
				var err error
				if b, err = r.bench(g.cell, *g.shape, dmi.DefaultEps); err != nil {
					return nil, err
				}
				rg.Timed, rg.DenseMs, lastBench = true, b.DenseMs, b
			}
		}
		for _, ratio := range r.cfg.Ratios {
			p := RatioPoint{Ratio: ratio}
			if rg.HasQuality {
				v, err := r.ppl(g.model, ratio)
				if err != nil {
					return nil, err
				}
				p.PPL, p.Diff = v, rg.BasePPL-v
			}
			if b != nil {
				bp, _ := point(b, ratio)
				p.Ms, p.Speedup = bp.DMIMs, bp.Speedup
			}
			rg.Points = append(rg.Points, p)
		}
		d.Groups = append(d.Groups, rg)
	}
	for i := -1; i < len(r.cfg.Ratios); i++ {
		row := []string{"Baseline"}
		if id != "3.2" {
			row[0] = "Base"
		}
		if i >= 0 {
			row[0] = fmt.Sprintf("%.0f%%", 100*r.cfg.Ratios[i])
		}
		for gi, g := range specs {
			rg := d.Groups[gi]
			if g.metric != "" {
				switch {
				case !rg.HasQuality:
					row = append(row, g.why, g.why)
				case i < 0:
					row = append(row, fmt.Sprintf("%.2f", rg.BasePPL), "n/a")
				default:
					row = append(row, fmt.Sprintf("%.2f", rg.Points[i].PPL), fmt.Sprintf("%+.2f", rg.Points[i].Diff))
				}
			}
			if g.shape != nil {
				switch {
				case !rg.Timed:
					row = append(row, notRun, notRun)
				case i < 0:
					row = append(row, ms(rg.DenseMs), x(1))
				default:
					row = append(row, ms(rg.Points[i].Ms), x(rg.Points[i].Speedup))
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	for i, g := range d.Groups {
		if g.Quality != "" {
			t.Notes = append(t.Notes, fmt.Sprintf("%s %s: %s.", g.Label, specs[i].metric, g.Quality))
		}
		if g.Timing != "" {
			t.Notes = append(t.Notes, fmt.Sprintf("%s Time: %s.", g.Label, g.Timing))
		}
	}
	t.Notes = append(t.Notes, r.qualityNote()+" Diff. is baseline − PPL as in the thesis (negative: worse). Little modules INT8, ε = 0.5.",
		r.timingNote(lastBench)+" Baseline time is the dense step, the others the dual-module step (speculate + select + gather GEMVs + update).")
	return &Result{Table: t, Data: d, Plots: ratioPlots(id, d)}, nil
}

// ratioPlots draws PPL and speedup against the insensitive ratio.
func ratioPlots(id string, d *RatioResult) []NamedPlot {
	base := "dmi_table_" + strings.ReplaceAll(id, ".", "_")
	pp := report.Plot{Title: "Table " + id + ": perplexity vs insensitive ratio", XLabel: "insensitive ratio", YLabel: "PPL"}
	sp := report.Plot{Title: "Table " + id + ": speedup vs insensitive ratio (random weights)", XLabel: "insensitive ratio", YLabel: "speedup over dense"}
	for _, g := range d.Groups {
		if g.HasQuality {
			s := report.Series{Name: g.Model, X: []float64{0}, Y: []float64{g.BasePPL}}
			for _, p := range g.Points {
				s.X, s.Y = append(s.X, p.Ratio), append(s.Y, p.PPL)
			}
			pp.Series = append(pp.Series, s)
		}
		if g.Timed {
			s := report.Series{Name: g.Label, X: []float64{0}, Y: []float64{1}}
			for _, p := range g.Points {
				s.X, s.Y = append(s.X, p.Ratio), append(s.Y, p.Speedup)
			}
			sp.Series = append(sp.Series, s)
		}
	}
	var out []NamedPlot
	if len(pp.Series) > 0 {
		out = append(out, NamedPlot{base + "_ppl.png", pp})
	}
	if len(sp.Series) > 0 {
		out = append(out, NamedPlot{base + "_speedup.png", sp})
	}
	return out
}

// DimResult is Table 3.4.
type DimResult struct {
	Model string   `json:"model"`
	Rows  []DimRow `json:"rows"`
}

// DimRow is one ε (0 for the dense baseline). KX and KH are the first
// layer's projected dimensions on the model, KTimed the timed layer's.
type DimRow struct {
	Eps     float64 `json:"eps"`
	KX      int     `json:"k_x"`
	KH      int     `json:"k_h"`
	KTimed  int     `json:"k_timed,omitempty"`
	PPL     float64 `json:"ppl"`
	Timed   bool    `json:"timed"`
	Speedup float64 `json:"speedup,omitempty"`
	Little  float64 `json:"little_share,omitempty"`
	Big     float64 `json:"big_share,omitempty"`
}

func (r *Runner) dimension() (*Result, error) {
	m := &r.cfg.Main
	cfg := m.LM.Config()
	ratio := r.cfg.Ratio
	timed := Shape{Hidden: r.cfg.Timing.Hidden}
	d := &DimResult{Model: m.Describe()}
	t := report.Table{
		Title:  fmt.Sprintf("Table 3.4 (ours): sensitivity to dimension reduction, insensitive ratio %.0f%%", 100*ratio),
		Header: []string{"Dimension", "PPL", "Speedup", "little", "big"},
	}
	base, err := r.ppl(m, -1)
	if err != nil {
		return nil, err
	}
	d.Rows = append(d.Rows, DimRow{KX: cfg.Emb, KH: cfg.Hidden, PPL: base, Timed: !r.cfg.Timing.Off, Speedup: 1, Big: 1})
	t.AddRow(fmt.Sprintf("%d (baseline); timed %d", cfg.Hidden, timed.Hidden), fmt.Sprintf("%.2f", base), x(1), pct(0), pct(1))
	var lastBench *dmi.BenchResult
	for _, eps := range r.cfg.Eps {
		s, err := r.set(m, eps, quant.Int8)
		if err != nil {
			return nil, err
		}
		loss, err := r.loss(m, eps, quant.Int8, ratio)
		if err != nil {
			return nil, err
		}
		row := DimRow{Eps: eps, KX: s.Layers[0].X.K, KH: s.Layers[0].H.K, PPL: lm.Perplexity(loss)}
		speed, little, big := notRun, notRun, notRun
		if !r.cfg.Timing.Off {
			b, err := r.bench(cfg.Cell, timed, eps)
			if err != nil {
				return nil, err
			}
			lastBench = b
			p, _ := point(b, ratio)
			row.Timed, row.KTimed = true, b.KH
			row.Speedup, row.Little, row.Big = p.Speedup, p.LittleMs/p.DenseMs, p.BigMs/p.DenseMs
			speed, little, big = x(row.Speedup), pct(row.Little), pct(row.Big)
		}
		d.Rows = append(d.Rows, row)
		dim := fmt.Sprintf("k_x %d, k_h %d (ε = %g)", row.KX, row.KH, eps)
		if row.Timed {
			dim += fmt.Sprintf("; timed k %d", row.KTimed)
		}
		t.AddRow(dim, fmt.Sprintf("%.2f", row.PPL), speed, little, big)
	}
	t.Notes = []string{
		"Model: " + d.Model + ".",
		r.qualityNote() + fmt.Sprintf(" Little modules INT8; k from eq. 3.9 for the layer's %d gate rows, capped at each input's width.", cfg.Cell.Gates()*cfg.Hidden),
		r.timingNote(lastBench) + fmt.Sprintf(" Timed layer: %v %d. little and big are the little module's (projection, INT8 GEMV, selection) and the big module's (gather GEMVs, assembly, update) median times as shares of the dense step.", cfg.Cell, timed.Hidden),
	}
	return &Result{Table: t, Data: d}, nil
}

// PrecisionResult is Table 3.5.
type PrecisionResult struct {
	Model string          `json:"model"`
	Cols  []PrecisionCell `json:"columns"`
}

// PrecisionCell is one precision; MSE is the mean squared error per gate
// pre-activation on calibration samples (0 for the base model), MiB the
// little module's W̃ and b̃ (the recurrent weights for the base).
type PrecisionCell struct {
	Name string  `json:"precision"`
	PPL  float64 `json:"ppl"`
	MSE  float64 `json:"mse"`
	MiB  float64 `json:"mib"`
}

func bitsName(b quant.Bits) string {
	if b == dmi.FP32 {
		return "FP32"
	}
	return fmt.Sprintf("INT%d", int(b))
}

func (r *Runner) precision() (*Result, error) {
	m := &r.cfg.Main
	ratio := r.cfg.Ratio
	d := &PrecisionResult{Model: m.Describe()}
	base, err := r.ppl(m, -1)
	if err != nil {
		return nil, err
	}
	d.Cols = append(d.Cols, PrecisionCell{Name: "Base", PPL: base, MiB: float64(recurrentBytes(m.LM)) / (1 << 20)})
	for _, b := range r.cfg.Bits {
		s, err := r.set(m, dmi.DefaultEps, b)
		if err != nil {
			return nil, err
		}
		loss, err := r.loss(m, dmi.DefaultEps, b, ratio)
		if err != nil {
			return nil, err
		}
		d.Cols = append(d.Cols, PrecisionCell{Name: bitsName(b), PPL: lm.Perplexity(loss), MSE: meanMSE(s), MiB: float64(s.Bytes()) / (1 << 20)})
	}
	t := report.Table{
		Title:  fmt.Sprintf("Table 3.5 (ours): quality and size of the little module by precision, insensitive ratio %.0f%%", 100*ratio),
		Header: []string{"Precision"},
	}
	ppl, mse, size := []any{"PPL"}, []any{"MSE"}, []any{"Params. (MiB)"}
	for i, c := range d.Cols {
		t.Header = append(t.Header, c.Name)
		ppl = append(ppl, fmt.Sprintf("%.2f", c.PPL))
		if i == 0 {
			mse = append(mse, "n/a")
		} else {
			mse = append(mse, fmt.Sprintf("%.4g", c.MSE))
		}
		size = append(size, fmt.Sprintf("%.3f", c.MiB))
	}
	t.AddRow(ppl...)
	t.AddRow(mse...)
	t.AddRow(size...)
	t.Notes = []string{
		"Model: " + d.Model + ".",
		r.qualityNote() + " ε = 0.5, one fit per precision with the same projections.",
		"MSE: mean squared error per gate pre-activation of the quantized little module against the exact layer, on up to 256 calibration samples per layer, averaged over layers. Params.: W̃ codes, row scales and b̃ of all layers (Base: the recurrent layers' float32 weights and biases); the projections' index lists are not counted.",
	}
	return &Result{Table: t, Data: d}, nil
}

func meanMSE(s *dmi.Set) float64 {
	var v float64
	for _, l := range s.Layers {
		v += l.MSE / float64(l.Rows())
	}
	return v / float64(len(s.Layers))
}

// PruneResult is Table B.4.
type PruneResult struct {
	Ratio float64    `json:"ratio"`
	Rows  []PruneRow `json:"rows"`
}

// PruneRow is one method; bytes are what one step of the recurrent
// layers reads.
type PruneRow struct {
	Method   string  `json:"method"`
	Model    string  `json:"model"`
	Ran      bool    `json:"ran"`
	PPL      float64 `json:"ppl,omitempty"`
	PPLDMI   float64 `json:"ppl_dmi,omitempty"`
	Bytes    int     `json:"bytes,omitempty"`
	BytesDMI int     `json:"bytes_dmi,omitempty"`
}

// dmiBytes returns what a dual-module step at ratio reads: the exact
// rows' share of dense (the rows of every gate the top-K keeps) plus the
// little modules and their projections.
func dmiBytes(m *lm.Model, s *dmi.Set, ratio float64, dense int) int {
	cfg := m.Config()
	H := cfg.Hidden
	keep := H - int(math.Round(ratio*float64(H))) // as sel.TopK
	n := float64(dense) * float64(keep) / float64(H)
	for _, l := range s.Layers {
		n += float64(l.Bytes() + l.ProjectionBytes())
	}
	return int(n)
}

func (r *Runner) prunedModel(frac float64) (*Model, error) {
	if m, ok := r.pruned[frac]; ok {
		return m, nil
	}
	main := &r.cfg.Main
	p, err := Prune(main.LM, frac)
	if err != nil {
		return nil, err
	}
	m := &Model{Path: fmt.Sprintf("%s, %.0f%% pruned", main.Path, 100*frac), LM: p, State: main.State}
	r.pruned[frac] = m
	return m, nil
}

func (r *Runner) pruning() (*Result, error) {
	ratio := r.cfg.Ratio
	main := &r.cfg.Main
	d := &PruneResult{Ratio: ratio}
	t := report.Table{
		Title:  fmt.Sprintf("Table B.4 (ours): dual-module inference (insensitive ratio %.0f%%) against weight pruning and a half-width dense model", 100*ratio),
		Header: []string{"Method", "PPL w/o DMI", "PPL w/ DMI", "read/step w/o DMI", "read/step w/ DMI"},
	}
	eval := func(method string, m *Model, bytes func(*lm.Model) int) error {
		row := PruneRow{Method: method, Model: m.Describe(), Ran: true}
		var err error
		if row.PPL, err = r.ppl(m, -1); err != nil {
			return err
		}
		if row.PPLDMI, err = r.ppl(m, ratio); err != nil {
			return err
		}
		s, err := r.set(m, dmi.DefaultEps, quant.Int8)
		if err != nil {
			return err
		}
		row.Bytes = bytes(m.LM)
		row.BytesDMI = dmiBytes(m.LM, s, ratio, row.Bytes)
		d.Rows = append(d.Rows, row)
		t.AddRow(method, fmt.Sprintf("%.2f", row.PPL), fmt.Sprintf("%.2f", row.PPLDMI), human(row.Bytes), "≈"+human(row.BytesDMI))
		return nil
	}
	if err := eval(fmt.Sprintf("Dense (hidden %d)", main.LM.Config().Hidden), main, recurrentBytes); err != nil {
		return nil, err
	}
	for _, f := range r.cfg.Prune {
		pm, err := r.prunedModel(f)
		if err != nil {
			return nil, err
		}
		if err := eval(fmt.Sprintf("%.0f%% weight sparsity", 100*f), pm, sparseBytes); err != nil {
			return nil, err
		}
	}
	if r.cfg.Small != nil {
		if err := eval(fmt.Sprintf("Dense (hidden %d)", r.cfg.Small.LM.Config().Hidden), r.cfg.Small, recurrentBytes); err != nil {
			return nil, err
		}
	} else {
		d.Rows = append(d.Rows, PruneRow{Method: "Dense (half hidden)"})
		t.AddRow("Dense (half hidden)", notRun, notRun, notRun, notRun)
	}
	t.Notes = []string{
		"Model: " + main.Describe() + ".",
		r.qualityNote() + " Little modules INT8, ε = 0.5, fitted to each model (pruned ones included).",
		"Pruning: one-shot magnitude pruning of each recurrent weight matrix (W_ih, W_hh of every layer) on a copy of the model, no fine-tuning (the thesis used gradual pruning with training).",
		"read/step: bytes one step of the recurrent layers reads (embedding and decoder excluded). Dense: float32 weights and biases. Pruned: CSR storage, a float32 value and an int32 column per nonzero plus row pointers — our kernels read pruned matrices dense, so pruning alone gives no speedup on a CPU here. w/ DMI: the exact rows' share of that (the top-K keeps " +
			fmt.Sprintf("%.0f%%", 100*(1-ratio)) + " of each gate) plus the little modules' W̃, b̃ and projection indices.",
	}
	if r.cfg.Small != nil {
		t.Notes = append(t.Notes, "Half-width model: "+r.cfg.Small.Describe()+".")
	} else {
		t.Notes = append(t.Notes, "Half-width model: not run (no --small model given).")
	}
	return &Result{Table: t, Data: d}, nil
}

// human writes a byte count in KiB or MiB.
func human(n int) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}
