package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one named curve of a line plot.
type Series struct {
	Name string
	X, Y []float64
}

// Plot describes a line plot with one or more series on shared axes.
type Plot struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogY                  bool
}

// ErrEmpty reports a plot with no points to draw.
var ErrEmpty = errors.New("report: nothing to plot")

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
	color.RGBA{R: 140, G: 86, B: 75, A: 255},
	color.RGBA{R: 227, G: 119, B: 194, A: 255},
	color.RGBA{R: 127, G: 127, B: 127, A: 255},
}

// SavePNG draws the plot and writes it to path as a PNG of the given size
// in inches (6×4 when zero). Non-finite points are an error: a curve with a
// hole would misreport the experiment.
func (p *Plot) SavePNG(path string, width, height float64) error {
	if width <= 0 || height <= 0 {
		width, height = 6, 4
	}
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.X.Label.Text = p.XLabel
	pl.Y.Label.Text = p.YLabel
	pl.X.Tick.Marker = niceTicks{}
	pl.Y.Tick.Marker = niceTicks{}
	if p.LogY {
		pl.Y.Scale = plot.LogScale{}
		pl.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	pl.Add(plotter.NewGrid())
	points := 0
	for i, s := range p.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("report: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, len(s.X))
		for j := range s.X {
			if math.IsNaN(s.X[j]) || math.IsInf(s.X[j], 0) || math.IsNaN(s.Y[j]) || math.IsInf(s.Y[j], 0) {
				return fmt.Errorf("report: series %q point %d is not finite (%g, %g)", s.Name, j, s.X[j], s.Y[j])
			}
			if p.LogY && s.Y[j] <= 0 {
				return fmt.Errorf("report: series %q point %d: y = %g on a log axis", s.Name, j, s.Y[j])
			}
			xy[j].X, xy[j].Y = s.X[j], s.Y[j]
		}
		points += len(xy)
		line, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		c := palette[i%len(palette)]
		line.Color, pts.Color = c, c
		line.Width = vg.Points(1.5)
		pl.Add(line, pts)
		if s.Name != "" {
			pl.Legend.Add(s.Name, line, pts)
		}
	}
	if points == 0 {
		return ErrEmpty
	}
	pl.Legend.Top = true
	if err := pl.Save(vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch, path); err != nil {
		return fmt.Errorf("report: saving %s: %w", path, err)
	}
	return nil
}

// niceTicks places about five major ticks at multiples of 1, 2 or 5 times
// a power of ten, labelled with just enough decimals to tell them apart.
// (gonum's default ticker can label a narrow range with rounded values
// that do not match their positions.)
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 5, 10} {
		if raw/mag > m*0.75 {
			step = m * mag
		}
	}
	dec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0 // no "-0.0" from accumulated rounding
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', dec, 64)})
	}
	return ticks
}
