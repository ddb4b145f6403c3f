package nmp

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticml/elastic/sim/enmc"
)

func writeCPU(t *testing.T, dir string, classes, batch int, full, scr float64) {
	t.Helper()
	s := fmt.Sprintf(`{"classes": %d, "dim": 64, "batch": %d, "m": 8, "full_ms": %g, "screen_ms": %g}`, classes, batch, full, scr)
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("screen_%d_b%d.json", classes, batch)), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCPUBaseline(t *testing.T) {
	dir := t.TempDir()
	writeCPU(t, dir, 100, 1, 2, 0.5)
	writeCPU(t, dir, 100, 2, 10, 0.6) // the batch GEMM is slower than two GEMVs
	m, err := cpuBaseline(dir, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m.FullMs != 4 || m.ScreenMs != 0.6 || !strings.Contains(m.Note, "2 × batch-1 GEMV") {
		t.Errorf("batch 2: full %v, screening %v (%s); want 4 = 2 × 2 and the measured 0.6", m.FullMs, m.ScreenMs, m.Note)
	}
	m, err = cpuBaseline(dir, 100, 4) // not measured: four batch-1 calls
	if err != nil {
		t.Fatal(err)
	}
	if m.Batch != 4 || m.FullMs != 8 || m.ScreenMs != 2 || m.Note == "" {
		t.Errorf("batch 4 from batch 1: %+v", m)
	}
	if _, err := cpuBaseline(dir, 300, 1); err == nil {
		t.Error("a missing measurement accepted")
	}
}

// A small Figures run: every design at every point, the headline ratios
// consistent with the points, the PNGs written, results.json read back.
func TestFigures(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []int{1, 2} {
		writeCPU(t, dir, 64*40, b, 3*float64(b), 0.3)
	}
	tr, err := enmc.SyntheticTask(64*40, 64, 16, 2, 8, 9)
	if err != nil {
		t.Fatal(err)
	}
	if err := enmc.WriteTraceFile(filepath.Join(dir, "w_b2.trace"), tr); err != nil {
		t.Fatal(err)
	}
	o := FigureOptions{CPUDir: dir, Out: dir, Dim: 64, Seed: 1, Batches: []int{1, 2},
		Workloads: []Workload{{Name: "tiny", Classes: 64 * 40}}, Scaling: []int{64 * 40, 64 * 80}, ScalingFrom: 64 * 40}
	res, err := Figures(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 2*(1+len(figureDesigns())) || len(res.CPU) != 2 || len(res.Scaling) != 2*3 {
		t.Fatalf("%d points, %d CPU rows, %d scaling points", len(res.Points), len(res.CPU), len(res.Scaling))
	}
	for _, p := range res.Points {
		if want := res.CPU[p.Batch-1].FullMs * 1e3 / p.TimeUS; p.SpeedupVsCPU == nil || math.Abs(*p.SpeedupVsCPU-want) > 1e-9*want {
			t.Errorf("%s batch %d: speed-up %v, want %v", p.Design, p.Batch, p.SpeedupVsCPU, want)
		}
	}
	var td []float64
	for _, b := range []int{1, 2} {
		e, _ := find(res.Points, "tiny", b, enmcName)
		d, _ := find(res.Points, "tiny", b, "TensorDIMM")
		td = append(td, d.TimeUS/e.TimeUS)
	}
	for _, h := range res.Headlines() {
		if h.What == "ENMC over TensorDIMM" && math.Abs(h.Mean-(td[0]+td[1])/2) > 1e-9*h.Mean {
			t.Errorf("mean ENMC over TensorDIMM %v, points %v", h.Mean, td)
		}
		if !(h.Min*(1-1e-12) <= h.GeoMean && h.GeoMean <= h.Mean*(1+1e-12) && h.Mean <= h.Max*(1+1e-12)) {
			t.Errorf("%s: min %v geo %v mean %v max %v", h.What, h.Min, h.GeoMean, h.Mean, h.Max)
		}
	}
	for _, f := range []string{"fig6_12_speedup.png", "fig6_13_energy.png", "fig6_14_scaling.png", "results.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	back, err := LoadResults(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var a, b strings.Builder
	if err := res.Tables(&a); err != nil {
		t.Fatal(err)
	}
	if err := back.Tables(&b); err != nil || a.String() != b.String() || !strings.Contains(a.String(), "Headline ratios") {
		t.Errorf("tables from results.json differ (%v)", err)
	}
	// Scaling points reused from a results file are the ones simulated.
	o.Scaling, o.ReuseScaling = nil, filepath.Join(dir, "results.json")
	o.Results = filepath.Join(dir, "again.json")
	again, err := Figures(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Scaling) != len(res.Scaling) || again.Scaling[5].TimeUS != res.Scaling[5].TimeUS {
		t.Errorf("reused scaling %+v", again.Scaling)
	}
	o.ReuseScaling = ""
	// A trace workload replays its file at batch 2 only.
	o.Workloads = []Workload{{Name: "traced", Classes: 64 * 40, Trace: filepath.Join(dir, "w_b%d.trace")}}
	o.Batches, o.Scaling = []int{2}, nil
	res, err = Figures(o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Points[0].M != 8 || res.Points[0].Batch != 2 {
		t.Errorf("traced point %+v", res.Points[0])
	}
	o.Workloads[0].Classes = 99
	if _, err := Figures(o); err == nil {
		t.Error("a trace of another classifier accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"points": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadResults(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("empty results accepted")
	}
}
