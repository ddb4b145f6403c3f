package nmp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/elasticml/elastic/report"
	"github.com/elasticml/elastic/sim/enmc"
)

// A Workload is a classifier of Fig. 6.12: a synthetic shape (Classes ×
// FigureOptions.Dim, the measured screener's m uniform candidates per
// item), or, when Trace is set, a recorded trace per batch (Trace is a
// path pattern with %d for the batch; Classes must be the trace's).
type Workload struct {
	Name    string
	Classes int
	Trace   string
}

// FigureOptions configure Figures.
type FigureOptions struct {
	// CPUDir holds one `elastic bench screen --json` file per workload and
	// batch, named screen_<classes>_b<batch>.json: the measured CPU, and
	// the candidates per item (the screener's conformal m) the simulated
	// tasks use.
	CPUDir    string
	Out       string // directory for the PNGs
	Results   string // results.json path; "" means Out/results.json
	Workloads []Workload
	Batches   []int
	// Scaling lists the class counts of Fig. 6.14 (batch 1); their tasks
	// take m from the measurement of ScalingFrom classes at batch 1.
	Scaling     []int
	ScalingFrom int
	// ReuseScaling, when set, is a results.json whose scaling points are
	// taken instead of simulating Scaling again (runs are deterministic:
	// the same options give the same points).
	ReuseScaling string
	Dim          int
	Seed         uint64
	Progress     io.Writer
}

// DefaultFigureOptions are the runs docs/results/enmc-sim.md records:
// synthetic 268K, 670K and 1M × 512 at batch 1, 2, 4, and S1M → S100M.
func DefaultFigureOptions() FigureOptions {
	return FigureOptions{
		Workloads:   []Workload{{Name: "268K", Classes: 267744}, {Name: "670K", Classes: 670091}, {Name: "1M", Classes: 1_000_000}},
		Batches:     []int{1, 2, 4},
		Scaling:     []int{1_000_000, 10_000_000, 100_000_000},
		ScalingFrom: 1_000_000,
		Dim:         512, Seed: 1,
	}
}

// Point is one design's run of one workload and batch.
type Point struct {
	Workload          string             `json:"workload"`
	Classes           int                `json:"classes"`
	Batch             int                `json:"batch"`
	M                 int                `json:"m"`
	Design            string             `json:"design"`
	TimeUS            float64            `json:"time_us"`
	EnergyUJ          float64            `json:"energy_uj"`
	EnergyPartsUJ     map[string]float64 `json:"energy_parts_uj"`
	DRAMBytes         int64              `json:"dram_bytes"`
	SpeedupVsCPU      *float64           `json:"speedup_vs_cpu"`
	SpeedupVsCPUModel float64            `json:"speedup_vs_cpu_model"`
}

// Results are Figures' runs.
type Results struct {
	CPU     []*enmc.CPUMeasured `json:"cpu"`
	Points  []Point             `json:"points"`
	Scaling []Point             `json:"scaling"`
}

// The designs of the figures, ENMC first.
const enmcName = "ENMC"

func figureDesigns() []Design {
	return []Design{NDA(), Chameleon(), TensorDIMM(), TensorDIMMLarge(), TensorDIMMRank()}
}

// Figures runs ENMC (Table 6.3, as enmc.Table63Config) and every baseline
// on each workload and batch against the measured CPU, and ENMC,
// TensorDIMM and TensorDIMM-Large on the scaling sizes; it writes
// results.json and the PNGs of Fig. 6.12–6.14.
func Figures(o FigureOptions) (*Results, error) {
	say := func(format string, a ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", a...)
		}
	}
	xeon, err := enmc.Xeon8280()
	if err != nil {
		return nil, err
	}
	res := &Results{}
	run := func(name string, task *enmc.Task, m *enmc.CPUMeasured, designs []Design) ([]Point, error) {
		classes, batch := task.Classes, task.Batch
		var meas *enmc.CPUMeasured
		if m.Matches(task) == nil {
			meas = m
		}
		var pts []Point
		add := func(design string, timeUS, energy float64, parts map[string]float64, bytes int64) error {
			var c enmc.CPUComparison
			if err := c.Compare(task, timeUS, xeon, meas); err != nil {
				return err
			}
			pts = append(pts, Point{Workload: name, Classes: classes, Batch: batch, M: len(task.Candidates[0]), Design: design,
				TimeUS: timeUS, EnergyUJ: energy, EnergyPartsUJ: parts, DRAMBytes: bytes,
				SpeedupVsCPU: c.SpeedupVsCPU, SpeedupVsCPUModel: c.SpeedupVsCPUModel})
			return nil
		}
		say("%s batch %d (%d candidates): ENMC…", name, batch, task.NumCandidates())
		e, err := enmc.Run(task, enmc.Table63Config())
		if err != nil {
			return nil, err
		}
		parts := map[string]float64{}
		for _, k := range []string{"dram_static", "dram_access", "logic"} {
			parts[k] = e.EnergyPartsUJ[k]
		}
		if err := add(enmcName, e.TimeUS, e.EnergyUJ, parts, e.DRAMBytes); err != nil {
			return nil, err
		}
		for _, d := range designs {
			say("%s batch %d: %s…", name, batch, d.Name)
			r, err := Run(task, d)
			if err != nil {
				return nil, err
			}
			if err := add(d.Name, r.TimeUS, r.EnergyUJ, r.EnergyPartsUJ, r.DRAMBytes); err != nil {
				return nil, err
			}
		}
		return pts, nil
	}
	for _, w := range o.Workloads {
		for _, b := range o.Batches {
			m, err := cpuBaseline(o.CPUDir, w.Classes, b)
			if err != nil {
				return nil, err
			}
			res.CPU = append(res.CPU, m)
			task, err := o.task(w, b, m)
			if err != nil {
				return nil, err
			}
			pts, err := run(w.Name, task, m, figureDesigns())
			if err != nil {
				return nil, err
			}
			res.Points = append(res.Points, pts...)
		}
	}
	if o.ReuseScaling != "" {
		old, err := LoadResults(o.ReuseScaling)
		if err != nil {
			return nil, err
		}
		if len(old.Scaling) == 0 {
			return nil, fmt.Errorf("nmp: %s has no scaling points", o.ReuseScaling)
		}
		res.Scaling = old.Scaling
	} else if len(o.Scaling) > 0 {
		m, err := enmc.ReadCPUBenchFile(filepath.Join(o.CPUDir, fmt.Sprintf("screen_%d_b1.json", o.ScalingFrom)))
		if err != nil {
			return nil, err
		}
		for _, l := range o.Scaling {
			task, err := o.task(Workload{Classes: l}, 1, m)
			if err != nil {
				return nil, err
			}
			pts, err := run(scaleName(l), task, m, []Design{TensorDIMM(), TensorDIMMLarge()})
			if err != nil {
				return nil, err
			}
			res.Scaling = append(res.Scaling, pts...)
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("nmp: %w", err)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	path := o.Results
	if path == "" {
		path = filepath.Join(o.Out, "results.json")
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("nmp: %w", err)
	}
	return res, res.Plots(o.Out)
}

// task is workload w's task at batch b: its trace, or synthetic with m's
// candidates per item.
func (o FigureOptions) task(w Workload, b int, m *enmc.CPUMeasured) (*enmc.Task, error) {
	if w.Trace == "" {
		return enmc.SyntheticTask(w.Classes, o.Dim, o.Dim/4, b, m.M, o.Seed)
	}
	path := fmt.Sprintf(w.Trace, b)
	t, err := enmc.ReadTraceFile(path)
	if err != nil {
		return nil, err
	}
	if t.Classes != w.Classes || t.Batch != b {
		return nil, fmt.Errorf("nmp: %s holds %d classes at batch %d, the workload %s is %d classes at batch %d", path, t.Classes, t.Batch, w.Name, w.Classes, b)
	}
	return t, nil
}

// cpuBaseline reads the measurement of classes at batch b. Above batch 1
// the strongest dense CPU baseline is the faster of the batch's GEMM and
// b batch-1 GEMVs (both measured; likewise for screening), so it reads
// the batch-1 file too.
func cpuBaseline(dir string, classes, b int) (*enmc.CPUMeasured, error) {
	name := func(b int) string { return filepath.Join(dir, fmt.Sprintf("screen_%d_b%d.json", classes, b)) }
	if b == 1 {
		return enmc.ReadCPUBenchFile(name(1))
	}
	one, err := enmc.ReadCPUBenchFile(name(1))
	if err != nil {
		return nil, err
	}
	m, err := enmc.ReadCPUBenchFile(name(b))
	if errors.Is(err, fs.ErrNotExist) {
		// Not measured at this batch: b batch-1 calls are the baseline.
		c := *one
		c.Batch, c.FullMs, c.ScreenMs = b, float64(b)*one.FullMs, float64(b)*one.ScreenMs
		c.Note = fmt.Sprintf("%d × batch 1 (not measured at batch %d)", b, b)
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	if one.Classes != m.Classes || one.Dim != m.Dim || one.Batch != 1 {
		return nil, fmt.Errorf("nmp: %s is not the batch-1 run of %s's shape", one.Source, m.Source)
	}
	var how []string
	if g := float64(b) * one.FullMs; g < m.FullMs {
		m.FullMs = g
		how = append(how, fmt.Sprintf("full = %d × batch-1 GEMV", b))
	}
	if g := float64(b) * one.ScreenMs; g < m.ScreenMs {
		m.ScreenMs = g
		how = append(how, fmt.Sprintf("screening = %d × batch 1", b))
	}
	if len(how) > 0 {
		m.Note = strings.Join(how, ", ") + " (faster)"
	}
	return m, nil
}

func scaleName(l int) string {
	switch {
	case l >= 1e6 && l%1_000_000 == 0:
		return fmt.Sprintf("S%dM", l/1_000_000)
	case l >= 1e3 && l%1000 == 0:
		return fmt.Sprintf("S%dK", l/1000)
	}
	return fmt.Sprintf("S%d", l)
}

// find returns the point of design at workload and batch.
func find(pts []Point, workload string, batch int, design string) (Point, bool) {
	for _, p := range pts {
		if p.Workload == workload && p.Batch == batch && p.Design == design {
			return p, true
		}
	}
	return Point{}, false
}

// groups lists the (workload, batch) pairs of pts in order.
func groups(pts []Point) []Point {
	var out []Point
	for _, p := range pts {
		if p.Design == enmcName {
			out = append(out, p)
		}
	}
	return out
}

// Plots writes the PNGs of Fig. 6.12–6.14 from r to dir.
func (r *Results) Plots(dir string) error {
	g := groups(r.Points)
	var labels []string
	for _, p := range g {
		labels = append(labels, fmt.Sprintf("%s b%d", p.Workload, p.Batch))
	}
	// Fig. 6.12: speed-up over the measured CPU's full classification.
	fig12 := report.Bars{Title: "Fig. 6.12: speed-up over this machine's CPU, full classification (KJV decoder; synthetic 268K–1M)",
		YLabel: "speed-up (×)", Labels: labels, LogY: true}
	cpuScreen := report.BarSeries{Name: "CPU screening (measured)"}
	for _, c := range r.CPU {
		cpuScreen.Values = append(cpuScreen.Values, c.FullMs/c.ScreenMs)
	}
	fig12.Series = append(fig12.Series, cpuScreen)
	for _, d := range append(designNames(), enmcName) {
		s := report.BarSeries{Name: d}
		for _, p := range g {
			q, ok := find(r.Points, p.Workload, p.Batch, d)
			if !ok || q.SpeedupVsCPU == nil {
				return fmt.Errorf("nmp: no measured speed-up for %s at %s batch %d", d, p.Workload, p.Batch)
			}
			s.Values = append(s.Values, *q.SpeedupVsCPU)
		}
		fig12.Series = append(fig12.Series, s)
	}
	if err := fig12.SavePNG(filepath.Join(dir, "fig6_12_speedup.png"), 11, 4.5); err != nil {
		return err
	}
	// Fig. 6.13: energy by part, normalised to TensorDIMM.
	fig13 := report.Bars{Title: "Fig. 6.13: energy, normalised to TensorDIMM (KJV decoder; synthetic 268K–1M)",
		YLabel: "energy / TensorDIMM's", Stacked: true}
	parts := []string{"dram_static", "dram_access", "logic"}
	vals := make([][]float64, len(parts))
	for _, p := range g {
		td, _ := find(r.Points, p.Workload, p.Batch, "TensorDIMM")
		for _, d := range []string{"TensorDIMM", "TensorDIMM-Large", enmcName} {
			q, _ := find(r.Points, p.Workload, p.Batch, d)
			fig13.Labels = append(fig13.Labels, fmt.Sprintf("%s b%d %s", p.Workload, p.Batch, shortName(d)))
			for i, k := range parts {
				vals[i] = append(vals[i], q.EnergyPartsUJ[k]/td.EnergyUJ)
			}
		}
	}
	for i, k := range []string{"DRAM static", "DRAM access", "logic"} {
		fig13.Series = append(fig13.Series, report.BarSeries{Name: k, Values: vals[i]})
	}
	if err := fig13.SavePNG(filepath.Join(dir, "fig6_13_energy.png"), 12, 4.5); err != nil {
		return err
	}
	if len(r.Scaling) == 0 {
		return nil
	}
	// Fig. 6.14: scaling, speed-up over the modelled Xeon.
	fig14 := report.Plot{Title: "Fig. 6.14: scaling, batch 1 (synthetic); speed-up over the modelled Xeon 8280",
		XLabel: "log10 classes", YLabel: "speed-up over the Xeon model (×)", LogY: true}
	for _, d := range []string{"TensorDIMM", "TensorDIMM-Large", enmcName} {
		s := report.Series{Name: d}
		for _, p := range r.Scaling {
			if p.Design == d {
				s.X = append(s.X, math.Log10(float64(p.Classes)))
				s.Y = append(s.Y, p.SpeedupVsCPUModel)
			}
		}
		fig14.Series = append(fig14.Series, s)
	}
	return fig14.SavePNG(filepath.Join(dir, "fig6_14_scaling.png"), 6, 4)
}

func designNames() []string {
	var out []string
	for _, d := range figureDesigns() {
		out = append(out, d.Name)
	}
	return out
}

func shortName(d string) string {
	return strings.NewReplacer("TensorDIMM-Large", "TD-L", "TensorDIMM", "TD").Replace(d)
}

// LoadResults reads a results.json written by Figures.
func LoadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nmp: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("nmp: %s: %w", path, err)
	}
	g := groups(r.Points)
	if len(g) == 0 || len(r.CPU) != len(g) {
		return nil, fmt.Errorf("nmp: %s: %d workload points and %d CPU measurements", path, len(g), len(r.CPU))
	}
	for _, p := range r.Points {
		if !(p.TimeUS > 0) || !(p.EnergyUJ > 0) || p.SpeedupVsCPU == nil {
			return nil, fmt.Errorf("nmp: %s: point %s %s batch %d lacks a time, an energy or a measured speed-up", path, p.Design, p.Workload, p.Batch)
		}
	}
	return &r, nil
}

// Headline is a ratio of the thesis's §6.6.2 next to ours: the
// arithmetic mean over the workload points (as the thesis averages) and
// the geometric mean.
type Headline struct {
	What          string
	Thesis        string
	Mean, GeoMean float64
	Min, Max      float64
}

func summarise(what, thesis string, v []float64) Headline {
	h := Headline{What: what, Thesis: thesis, Min: math.Inf(1), Max: math.Inf(-1)}
	lg := 0.0
	for _, x := range v {
		h.Mean += x / float64(len(v))
		lg += math.Log(x) / float64(len(v))
		h.Min, h.Max = min(h.Min, x), max(h.Max, x)
	}
	h.GeoMean = math.Exp(lg)
	return h
}

// ratios returns, per workload point, f(ENMC's point, design's point).
func (r *Results) ratios(design string, f func(e, d Point) float64) []float64 {
	var out []float64
	for _, e := range groups(r.Points) {
		d, ok := find(r.Points, e.Workload, e.Batch, design)
		if ok {
			out = append(out, f(e, d))
		}
	}
	return out
}

// Headlines returns the §6.6.2 ratios from r.
func (r *Results) Headlines() []Headline {
	speed := func(e, d Point) float64 { return d.TimeUS / e.TimeUS }
	energy := func(e, d Point) float64 { return d.EnergyUJ / e.EnergyUJ }
	static := func(e, d Point) float64 { return d.EnergyPartsUJ["dram_static"] / e.EnergyPartsUJ["dram_static"] }
	var cpuScreen, enmcCPU, enmcB1 []float64
	for i, e := range groups(r.Points) {
		cpuScreen = append(cpuScreen, r.CPU[i].FullMs/r.CPU[i].ScreenMs)
		enmcCPU = append(enmcCPU, *e.SpeedupVsCPU)
		if e.Batch == 1 {
			enmcB1 = append(enmcB1, *e.SpeedupVsCPU)
		}
	}
	var baseCPU, enmcXeon, baseXeon, tdXeon []float64
	for _, p := range r.Points {
		switch p.Design {
		case "NDA", "Chameleon", "TensorDIMM":
			baseCPU = append(baseCPU, *p.SpeedupVsCPU)
		}
		switch p.Design {
		case enmcName:
			enmcXeon = append(enmcXeon, p.SpeedupVsCPUModel)
		case "NDA", "Chameleon", "TensorDIMM-Large":
			baseXeon = append(baseXeon, p.SpeedupVsCPUModel)
		case "TensorDIMM":
			tdXeon = append(tdXeon, p.SpeedupVsCPUModel)
		}
	}
	h := []Headline{
		summarise("CPU screening over CPU full classification (measured)", "7.3×", cpuScreen),
		summarise("ENMC over CPU full classification (measured)", "56.5×", enmcCPU),
		summarise("ENMC over CPU full classification, batch 1", "55.5–600.7×", enmcB1),
		summarise("NDA, Chameleon, TensorDIMM over CPU full classification", "10.2–20.7×", baseCPU),
		summarise("ENMC over the modelled Xeon 8280's full classification", "56.5× (its measured Xeon)", enmcXeon),
		summarise("NDA, Chameleon, TensorDIMM-Large over the modelled Xeon", "10.2–20.7× (NDA, Chameleon, TensorDIMM)", baseXeon),
		summarise("TensorDIMM over the modelled Xeon", "—", tdXeon),
		summarise("ENMC over NDA", "3.5×", r.ratios("NDA", speed)),
		summarise("ENMC over Chameleon", "5.6×", r.ratios("Chameleon", speed)),
		summarise("ENMC over TensorDIMM", "2.7×", r.ratios("TensorDIMM", speed)),
		summarise("ENMC over TensorDIMM-Large", "—", r.ratios("TensorDIMM-Large", speed)),
		summarise("ENMC over TensorDIMM@rank (variant)", "—", r.ratios("TensorDIMM@rank", speed)),
		summarise("energy: TensorDIMM / ENMC", "5.0×", r.ratios("TensorDIMM", energy)),
		summarise("energy: TensorDIMM-Large / ENMC", "8.4×", r.ratios("TensorDIMM-Large", energy)),
		summarise("DRAM static energy: TensorDIMM / ENMC", "9.3×", r.ratios("TensorDIMM", static)),
		summarise("DRAM static energy: TensorDIMM-Large / ENMC", "4.8×", r.ratios("TensorDIMM-Large", static)),
	}
	var td, tdl []float64
	for _, tr := range r.scalingTriples() {
		td = append(td, tr[1].TimeUS/tr[0].TimeUS)
		tdl = append(tdl, tr[2].TimeUS/tr[0].TimeUS)
	}
	if len(td) > 0 {
		h = append(h, summarise("scaling (Fig. 6.14): ENMC over TensorDIMM", "4.7×", td),
			summarise("scaling (Fig. 6.14): ENMC over TensorDIMM-Large", "2.9×", tdl))
	}
	return h
}

// Tables writes r as the Markdown tables of docs/results/enmc-sim.md.
func (r *Results) Tables(w io.Writer) error {
	g := groups(r.Points)
	cpu := report.Table{Title: "Measured CPU (this machine, elastic bench screen)",
		Header: []string{"workload", "batch", "m", "union", "full ms", "screening ms", "screening speed-up", "baseline"}}
	for i, e := range g {
		c := r.CPU[i]
		how := "measured at this batch"
		if c.Note != "" {
			how = c.Note
		}
		union := "—" // not in the measurement
		if c.Candidates > 0 {
			union = fmt.Sprintf("%.1f", c.Candidates)
		}
		cpu.AddRow(e.Workload, e.Batch, c.M, union, report.Cell{Format: "%.2f", Value: c.FullMs},
			report.Cell{Format: "%.3f", Value: c.ScreenMs}, report.Cell{Format: "%.1f×", Value: c.FullMs / c.ScreenMs}, how)
	}
	t12 := r.pointTable("Fig. 6.12: time (µs) and speed-up over the measured CPU's full classification",
		func(p Point) string { return fmt.Sprintf("%.1f µs, %.1f×", p.TimeUS, *p.SpeedupVsCPU) })
	t13 := r.pointTable("Fig. 6.13: energy (µJ): DRAM static / DRAM access / logic", func(p Point) string {
		return fmt.Sprintf("%.0f: %.0f / %.0f / %.0f", p.EnergyUJ,
			p.EnergyPartsUJ["dram_static"], p.EnergyPartsUJ["dram_access"], p.EnergyPartsUJ["logic"])
	})
	t14 := report.Table{Title: "Fig. 6.14: scaling at batch 1 (time µs; speed-up over the modelled Xeon)",
		Header: []string{"classes", "m", "ENMC", "TensorDIMM", "TensorDIMM-Large", "ENMC / TD", "ENMC / TD-L"}}
	for _, tr := range r.scalingTriples() {
		e, td, tdl := tr[0], tr[1], tr[2]
		cell := func(p Point) string { return fmt.Sprintf("%.1f µs, %.1f×", p.TimeUS, p.SpeedupVsCPUModel) }
		t14.AddRow(e.Workload, e.M, cell(e), cell(td), cell(tdl), report.Cell{Format: "%.1f×", Value: td.TimeUS / e.TimeUS},
			report.Cell{Format: "%.1f×", Value: tdl.TimeUS / e.TimeUS})
	}
	roll := Rollup()
	hl := report.Table{Title: "Headline ratios", Header: []string{"ratio", "thesis", "ours: mean", "geo-mean", "range"}}
	for _, h := range r.Headlines() {
		hl.AddRow(h.What, h.Thesis, report.Cell{Format: "%.1f×", Value: h.Mean}, report.Cell{Format: "%.1f×", Value: h.GeoMean},
			fmt.Sprintf("%.1f–%.1f×", h.Min, h.Max))
	}
	for _, t := range []*report.Table{&roll, &cpu, &t12, &t13, &t14, &hl} {
		if len(t.Rows) == 0 {
			continue
		}
		if err := t.Markdown(w); err != nil {
			return err
		}
	}
	return nil
}

// Rollup is a Table 6.5-style area and power roll-up: ENMC's blocks per
// rank (Table 6.5), then every design per unit and for the whole 8-channel
// system (Table 6.4 budgets × units), with where each number comes from.
func Rollup() report.Table {
	t := report.Table{Title: "Area and power (28 nm; per unit and for the 8-channel system)",
		Header: []string{"design / block", "units", "mm² per unit", "mW per unit", "system mm²", "system W", "source"}}
	sys := enmc.Table63Config()
	ranks := sys.Ranks()
	for _, r := range enmc.Table65() {
		t.AddRow("ENMC: "+r.Part, ranks, report.Cell{Format: "%.3f", Value: r.MM2}, report.Cell{Format: "%.1f", Value: r.MW},
			report.Cell{Format: "%.2f", Value: r.MM2 * float64(ranks)}, report.Cell{Format: "%.2f", Value: r.MW * float64(ranks) / 1e3}, "Table 6.5")
	}
	a, p := enmc.Table65Total()
	t.AddRow("**ENMC total**", ranks, report.Cell{Format: "%.3f", Value: a}, report.Cell{Format: "%.1f", Value: p},
		report.Cell{Format: "%.2f", Value: a * float64(ranks)}, report.Cell{Format: "%.2f", Value: p * float64(ranks) / 1e3}, "Table 6.5 (= Table 6.4's ENMC row)")
	for _, d := range figureDesigns() {
		n := sys.Channels * d.Units
		if d.Level == RankLevel {
			n *= sys.RanksPerChannel
		}
		t.AddRow(d.Name, n, report.Cell{Format: "%.3f", Value: d.AreaMM2}, report.Cell{Format: "%.1f", Value: d.PowerMW},
			report.Cell{Format: "%.2f", Value: d.AreaMM2 * float64(n)}, report.Cell{Format: "%.2f", Value: d.PowerMW * float64(n) / 1e3}, d.Source)
	}
	return t
}

// pointTable is a table of every workload point, a cell per design.
func (r *Results) pointTable(title string, cell func(Point) string) report.Table {
	names := append([]string{enmcName}, designNames()...)
	t := report.Table{Title: title, Header: append([]string{"workload", "batch"}, names...)}
	for _, e := range groups(r.Points) {
		row := []any{e.Workload, e.Batch}
		for _, d := range names {
			p, _ := find(r.Points, e.Workload, e.Batch, d)
			row = append(row, cell(p))
		}
		t.AddRow(row...)
	}
	return t
}

// scalingTriples returns, per scaling size, ENMC's, TensorDIMM's and
// TensorDIMM-Large's points.
func (r *Results) scalingTriples() [][3]Point {
	var out [][3]Point
	for _, e := range r.Scaling {
		if e.Design != enmcName {
			continue
		}
		tr := [3]Point{e}
		for _, p := range r.Scaling {
			if p.Classes == e.Classes {
				switch p.Design {
				case "TensorDIMM":
					tr[1] = p
				case "TensorDIMM-Large":
					tr[2] = p
				}
			}
		}
		out = append(out, tr)
	}
	return out
}
