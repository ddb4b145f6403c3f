package dsg

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/elasticml/elastic/report"
)

// label names a bench run in a legend.
func (r *BenchResult) label() string {
	s := fmt.Sprintf("%s, %s masks, batch %d", r.Impl, r.DSG.Granularity, r.Batch)
	if f := r.DSG.SearchFraction; f > 0 && f < 1 {
		s += fmt.Sprintf(", search 1/%.0f", 1/f)
	}
	if !r.DSG.ZVC {
		s += ", no ZVC"
	}
	return s
}

// PlotBenchFiles reads `elastic bench dsg --json` outputs and writes two
// PNGs: speedPath, the training step's paired dense/DSG speedup against
// the sparsity, one curve per run (Fig. 4.8a analogue); stashPath, the
// measured compression of the backward stash (Fig. 4.6 analogue).
func PlotBenchFiles(speedPath, stashPath string, files ...string) error {
	if len(files) == 0 {
		return fmt.Errorf("%w: no bench files", ErrConfig)
	}
	speed := report.Plot{Title: "DSG training step vs dense (VGG-8-like, Fashion-MNIST)", XLabel: "sparsity γ", YLabel: "step speedup over dense (paired)"}
	stash := report.Plot{Title: "Backward stash, zero-value compressed (measured)", XLabel: "sparsity γ", YLabel: "compression (float32 bytes / held bytes)"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("dsg: bench plot: %w", err)
		}
		var r BenchResult
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("dsg: bench plot: %s: %w", f, err)
		}
		var sp, st report.Series
		sp.Name, st.Name = r.label(), r.label()
		for _, p := range r.Points {
			sp.X, sp.Y = append(sp.X, p.Sparsity), append(sp.Y, p.StepSpeedup)
			if r.DSG.ZVC {
				st.X, st.Y = append(st.X, p.Sparsity), append(st.Y, p.StashCompression)
			}
		}
		speed.Series = append(speed.Series, sp)
		if len(st.X) > 0 {
			stash.Series = append(stash.Series, st)
		}
	}
	if err := speed.SavePNG(speedPath, 7, 4.5); err != nil {
		return err
	}
	return stash.SavePNG(stashPath, 7, 4.5)
}
