package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarSeries is one named set of bars, a value per label.
type BarSeries struct {
	Name   string
	Values []float64
}

// Bars describes a bar chart over categorical labels: series side by side
// in each label's slot (grouped), or on top of each other (Stacked). On a
// log axis (LogY; not with Stacked) bars rise from the axis minimum.
type Bars struct {
	Title, YLabel string
	Labels        []string
	Series        []BarSeries
	LogY, Stacked bool
}

// SavePNG draws the chart and writes it to path as a PNG of the given size
// in inches (8×4 when zero). Non-finite or negative values are an error,
// and so are values ≤ 0 on a log axis.
func (b *Bars) SavePNG(path string, width, height float64) error {
	if width <= 0 || height <= 0 {
		width, height = 8, 4
	}
	if len(b.Labels) == 0 || len(b.Series) == 0 {
		return ErrEmpty
	}
	if b.LogY && b.Stacked {
		return fmt.Errorf("report: stacked bars on a log axis")
	}
	for _, s := range b.Series {
		if len(s.Values) != len(b.Labels) {
			return fmt.Errorf("report: bar series %q has %d values for %d labels", s.Name, len(s.Values), len(b.Labels))
		}
		for i, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || b.LogY && v <= 0 {
				return fmt.Errorf("report: bar series %q value %d (%g) cannot be drawn", s.Name, i, v)
			}
		}
	}
	pl := plot.New()
	pl.Title.Text = b.Title
	pl.Y.Label.Text = b.YLabel
	pl.Y.Tick.Marker = niceTicks{}
	if b.LogY {
		pl.Y.Scale = plot.LogScale{}
		pl.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	pl.Add(plotter.NewGrid())
	bp := &barPlot{b: b}
	pl.Add(bp)
	for i, s := range b.Series {
		pl.Legend.Add(s.Name, swatch{palette[i%len(palette)]})
	}
	pl.Legend.Top = true
	pl.NominalX(b.Labels...)
	pl.X.Tick.Label.Rotation = math.Pi / 6
	pl.X.Tick.Label.XAlign = draw.XRight
	if err := pl.Save(vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch, path); err != nil {
		return fmt.Errorf("report: saving %s: %w", path, err)
	}
	return nil
}

// barPlot draws a Bars' rectangles: label i's slot spans [i−0.4, i+0.4].
type barPlot struct{ b *Bars }

func (p *barPlot) slot(i, s int) (lo, hi float64) {
	if p.b.Stacked {
		return float64(i) - 0.4, float64(i) + 0.4
	}
	w := 0.8 / float64(len(p.b.Series))
	lo = float64(i) - 0.4 + float64(s)*w
	return lo, lo + w
}

// span returns where series s's bar at label i starts and ends.
func (p *barPlot) span(i, s int) (y0, y1 float64) {
	if !p.b.Stacked {
		return math.NaN(), p.b.Series[s].Values[i]
	}
	for k := range s {
		y0 += p.b.Series[k].Values[i]
	}
	return y0, y0 + p.b.Series[s].Values[i]
}

func (p *barPlot) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	for s := range p.b.Series {
		for i := range p.b.Labels {
			lo, hi := p.slot(i, s)
			y0, y1 := p.span(i, s)
			bottom := c.Min.Y
			if !math.IsNaN(y0) {
				bottom = trY(y0)
			} else if !p.b.LogY {
				bottom = trY(0)
			}
			top := trY(y1)
			if top <= bottom {
				continue
			}
			r := vg.Rectangle{Min: vg.Point{X: trX(lo), Y: bottom}, Max: vg.Point{X: trX(hi), Y: top}}
			c.SetColor(palette[s%len(palette)])
			c.Fill(r.Path())
		}
	}
}

func (p *barPlot) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(p.b.Labels))-0.5
	ymin, ymax = math.Inf(1), 0
	for s := range p.b.Series {
		for i := range p.b.Labels {
			y0, y1 := p.span(i, s)
			ymax = max(ymax, y1)
			if p.b.LogY {
				ymin = min(ymin, y1)
			} else if !math.IsNaN(y0) || y1 >= 0 {
				ymin = 0
			}
		}
	}
	// Room above the tallest bar for the legend; on a log axis the
	// shortest bar stays visible.
	if p.b.LogY {
		ymin, ymax = ymin/2, ymax*30
	} else {
		ymax *= 1.2
	}
	if !(ymax > ymin) {
		ymax = ymin + 1
	}
	return xmin, xmax, ymin, ymax
}

// swatch is a legend entry: a filled square of a series' colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.SetColor(s.c)
	c.Fill(c.Rectangle.Path())
}
