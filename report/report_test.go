package report

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	tb := Table{Title: "T", Command: "elastic x", Header: []string{"ratio", "PPL"}}
	tb.AddRow(Cell{"%.1f", 0.5}, Cell{"%.2f", 123.456})
	tb.AddRow("a|b", 7)
	var b bytes.Buffer
	if err := tb.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	want := "**T**\n\n    elastic x\n\n| ratio | PPL |\n| --- | --- |\n| 0.5 | 123.46 |\n| a\\|b | 7 |\n\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	tb.Rows = append(tb.Rows, []string{"only one"})
	if err := tb.Markdown(&b); err == nil {
		t.Error("ragged table: no error")
	}
}

func TestSavePNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.png")
	p := Plot{Title: "t", XLabel: "x", YLabel: "y", Series: []Series{
		{Name: "a", X: []float64{0, 1, 2}, Y: []float64{1, 2, 4}},
		{Name: "b", X: []float64{0, 1, 2}, Y: []float64{2, 3, 5}},
	}}
	if err := p.SavePNG(path, 4, 3); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if cfg.Width < 200 || cfg.Height < 150 {
		t.Errorf("PNG is %d×%d, want about 4×3 inches", cfg.Width, cfg.Height)
	}
	for _, bad := range []Plot{
		{},
		{Series: []Series{{X: []float64{1}, Y: []float64{math.NaN()}}}},
		{Series: []Series{{X: []float64{1, 2}, Y: []float64{1}}}},
		{LogY: true, Series: []Series{{X: []float64{1}, Y: []float64{0}}}},
	} {
		if err := bad.SavePNG(filepath.Join(dir, "bad.png"), 0, 0); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if err := (&Plot{}).SavePNG(filepath.Join(dir, "e.png"), 0, 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty plot: %v, want ErrEmpty", err)
	}
}

func TestNiceTicksLabelsMatchValues(t *testing.T) {
	for _, r := range [][2]float64{{0.72, 1.06}, {0, 100}, {44.5, 53.3}, {1e-3, 2e-3}, {-5, 5}, {-0.03, 0.93}} {
		ticks := niceTicks{}.Ticks(r[0], r[1])
		if len(ticks) < 3 || len(ticks) > 11 {
			t.Errorf("%v: %d ticks", r, len(ticks))
		}
		for _, tk := range ticks {
			v, err := strconv.ParseFloat(tk.Label, 64)
			if err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Errorf("%v: tick at %g labelled %q", r, tk.Value, tk.Label)
			}
			if strings.HasPrefix(tk.Label, "-") && tk.Value == 0 {
				t.Errorf("%v: negative zero label %q", r, tk.Label)
			}
			if tk.Value < r[0]-1e-9 || tk.Value > r[1]+1e-9 {
				t.Errorf("%v: tick %g outside the range", r, tk.Value)
			}
		}
	}
}

func TestBars(t *testing.T) {
	dir := t.TempDir()
	for i, b := range []Bars{
		{Title: "grouped", YLabel: "×", Labels: []string{"a", "b"}, LogY: true,
			Series: []BarSeries{{"x", []float64{1.5, 300}}, {"y", []float64{20, 7}}}},
		{Title: "stacked", Labels: []string{"a", "b", "c"}, Stacked: true,
			Series: []BarSeries{{"p", []float64{1, 2, 0}}, {"q", []float64{0.5, 0, 3}}}},
	} {
		path := filepath.Join(dir, strconv.Itoa(i)+".png")
		if err := b.SavePNG(path, 0, 0); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.DecodeConfig(f); err != nil {
			t.Errorf("%s: not a PNG: %v", b.Title, err)
		}
		f.Close()
	}
	// Stacked bars end at the running sum; the range covers the tallest.
	p := &barPlot{b: &Bars{Labels: []string{"a"}, Stacked: true, Series: []BarSeries{{"p", []float64{2}}, {"q", []float64{3}}}}}
	if y0, y1 := p.span(0, 1); y0 != 2 || y1 != 5 {
		t.Errorf("second stacked bar spans %v–%v, want 2–5", y0, y1)
	}
	if _, _, lo, hi := p.DataRange(); lo != 0 || math.Abs(hi-6) > 1e-12 {
		t.Errorf("range %v–%v, want 0–6 (5 and a fifth for the legend)", lo, hi)
	}
	g := &barPlot{b: &Bars{Labels: []string{"a", "b"}, Series: []BarSeries{{"p", []float64{1, 1}}, {"q", []float64{1, 1}}}}}
	if lo, hi := g.slot(1, 1); math.Abs(lo-1) > 1e-12 || math.Abs(hi-1.4) > 1e-12 {
		t.Errorf("second series at label 1 spans %v–%v, want 1–1.4", lo, hi)
	}
	for _, bad := range []Bars{
		{},
		{Labels: []string{"a"}, Series: []BarSeries{{"x", []float64{1, 2}}}},
		{Labels: []string{"a"}, Series: []BarSeries{{"x", []float64{math.NaN()}}}},
		{Labels: []string{"a"}, Series: []BarSeries{{"x", []float64{-1}}}},
		{Labels: []string{"a"}, LogY: true, Series: []BarSeries{{"x", []float64{0}}}},
		{Labels: []string{"a"}, LogY: true, Stacked: true, Series: []BarSeries{{"x", []float64{1}}}},
	} {
		if err := bad.SavePNG(filepath.Join(dir, "bad.png"), 0, 0); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
