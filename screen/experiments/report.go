package experiments

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/report"
)

// Markdown writes the result as a markdown table with notes on the
// workload, the timing and what was fitted or built.
func (r *Result) Markdown(w io.Writer) error {
	t := report.Table{
		Title: fmt.Sprintf("Quality vs speed-up: %s workload, %d×%d classifier, %d test inputs, %d threads, %s caches",
			r.Workload, r.Classes, r.Dim, r.Tests, r.Threads, r.Timing),
		Command: r.Command,
		Header:  []string{"method", "budget", "ms/query", "speed-up", "top-1 agree", "top-5 recall"},
	}
	if r.Labels != "" {
		t.Header = append(t.Header, "accuracy")
	}
	t.Header = append(t.Header, "screen / select / exact ms")
	for _, row := range r.Rows {
		cells := []any{row.Label(), row.Budget, report.Cell{Format: "%.3f", Value: row.MsPerQuery},
			report.Cell{Format: "%.2f×", Value: row.Speedup},
			report.Cell{Format: "%.4f", Value: row.Top1}, report.Cell{Format: "%.4f", Value: row.Top5Recall}}
		if r.Labels != "" {
			cells = append(cells, report.Cell{Format: "%.4f", Value: *row.Accuracy})
		}
		if s := row.Screen; s != nil {
			cells = append(cells, fmt.Sprintf("%.3f / %.3f / %.3f", s.ScreenMs, s.SelectMs, s.ExactMs))
		} else {
			cells = append(cells, "")
		}
		t.AddRow(cells...)
	}
	t.Notes = append(t.Notes, fmt.Sprintf("Source: %s; %d calibration vectors; kernels %s; %d timed rounds per row, "+
		"each one query of the method and one of the full classification (dense GEMV + top-5) on the same pool; "+
		"speed-up is the median of the per-round ratios (1 for full by definition).", r.Source, r.Calibration, r.Impl, r.Reps))
	if r.Timing == "cold" {
		t.Notes = append(t.Notes, fmt.Sprintf("Timing: cold. Before every timed call, untimed, a %d MiB buffer (twice the last-level cache) was written through "+
			"on the pool, evicting the classifier and every method's structures from all caches.", r.EvictBytes>>20))
	} else {
		t.Notes = append(t.Notes, fmt.Sprintf("Timing: warm. Structures stay in the caches between queries "+
			"(the float32 classifier is %.1f MiB, the last-level cache %d MiB); --cold evicts them before every timed call.",
			float64(4*r.Classes*(r.Dim+1))/(1<<20), r.LLCBytes>>20))
	}
	if r.Labels != "" {
		t.Notes = append(t.Notes, "Accuracy: top-1 against "+r.Labels+".")
	}
	t.Notes = append(t.Notes, "An INT4 screener selects its top m inside the screening GEMV (kernels.Pool.GemvInt4TopK), "+
		"as Classifier.Forward does; its select time is part of the screen time and shows as 0.")
	for _, s := range r.Screeners {
		t.Notes = append(t.Notes, fmt.Sprintf("%s: %s k=%d, %.2f%% of the classifier's bytes, fitted in %.1f s, eq. 6.4 MSE %.4g (%.4g for zero).",
			s.Method, BitsName(s.Bits), s.K, 100*s.BytesRatio, s.FitSeconds, s.MSE, s.ZeroMSE))
	}
	if r.SVDSeconds > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("SVD-softmax factorization: %.1f s.", r.SVDSeconds))
	}
	for _, g := range r.HNSW {
		t.Notes = append(t.Notes, fmt.Sprintf("HNSW %s graph (%s): built in %.1f s on %d threads, %d links.",
			g.Space, spaceMeaning(g.Space), g.BuildSeconds, r.Threads, g.Links))
	}
	if r.PlotFile != "" {
		t.Notes = append(t.Notes, "Plot: "+r.PlotFile+".")
	}
	return t.Markdown(w)
}

func spaceMeaning(space string) string {
	if space == SpaceIPPT {
		return "Euclidean distances after the inner-product preserving transformation"
	}
	return "inner products"
}

// SavePlot draws top-1 agreement against speed-up to a PNG file, one line
// per method (per preview window for SVD-softmax, per space for HNSW) in
// order of first appearance, each sorted by speed-up.
func (r *Result) SavePlot(path string) error {
	p := report.Plot{
		Title:  fmt.Sprintf("%s workload, %d×%d", r.Workload, r.Classes, r.Dim),
		XLabel: "speed-up over full classification (×)",
		YLabel: "top-1 agreement with the full classifier",
	}
	byMethod := map[string][]clsmetrics.SweepRow{}
	var order []string
	for _, row := range r.Rows {
		key := cmp.Or(row.series, row.Label())
		if _, ok := byMethod[key]; !ok {
			order = append(order, key)
		}
		byMethod[key] = append(byMethod[key], row.SweepRow)
	}
	for _, name := range order {
		rows := byMethod[name]
		slices.SortStableFunc(rows, func(a, b clsmetrics.SweepRow) int { return cmp.Compare(a.Speedup, b.Speedup) })
		s := report.Series{Name: name}
		for _, row := range rows {
			s.X = append(s.X, row.Speedup)
			s.Y = append(s.Y, row.Top1)
		}
		p.Series = append(p.Series, s)
	}
	return p.SavePNG(path, 7, 4.5)
}
