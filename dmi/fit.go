package dmi

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/spec"
)

// deltaSamples is how many calibration samples are kept to measure |δ|
// and the MSE after fitting.
const deltaSamples = 256

// layerFit accumulates the calibration statistics of one recurrent layer.
// The targets of eq. 3.20 are linear in [x; h], so spec's linear mode fits
// them from the inputs alone: the map is [W_ih | W_hh] (with the GRU's n
// rows split into an x-only and an h-only block), and no target is ever
// materialised.
type layerFit struct {
	w     nn.LayerWeights
	bp    blockProj
	lin   *spec.Linear
	st    *spec.Stats
	keep  []float32 // up to deltaSamples rows of [x; h]
	nkeep int
}

func newLayerFit(w nn.LayerWeights, layer int, o Options) (*layerFit, error) {
	k, err := o.projDim(w.Cell.Gates() * w.Hidden)
	if err != nil {
		return nil, err
	}
	px, err := rproj.New(min(k, w.In), w.In, rproj.DefaultSparsity, projSeed(o.Seed, layer, 0))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParam, err)
	}
	ph, err := rproj.New(min(k, w.Hidden), w.Hidden, rproj.DefaultSparsity, projSeed(o.Seed, layer, 1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParam, err)
	}
	bp := blockProj{px, ph}
	lin := jointMap(w)
	return &layerFit{w: w, bp: bp, lin: lin, st: spec.NewLinearStats(lin, bp)}, nil
}

// minSamples is the fewest calibration samples accepted: twice the
// unknowns per output row, so the least squares is determined with room.
func (f *layerFit) minSamples() int { return 2 * (f.bp.K() + 1) }

// jointMap returns the affine map from [x; h] to the little module's
// targets (see Little).
func jointMap(w nn.LayerWeights) *spec.Linear {
	H, in := w.Hidden, w.In
	d := in + H
	n := littleRows(w.Cell, H)
	m := make([]float32, n*d)
	b := make([]float32, n)
	G := w.Cell.Gates() * H
	for r := range n {
		row := m[r*d : (r+1)*d]
		switch {
		case r < G && (w.Cell == nn.LSTMCell || r < 2*H):
			copy(row[:in], w.WIH[r*in:(r+1)*in])
			copy(row[in:], w.WHH[r*H:(r+1)*H])
			b[r] = w.BIH[r] + w.BHH[r]
		case r < G: // GRU n_x
			copy(row[:in], w.WIH[r*in:(r+1)*in])
			b[r] = w.BIH[r]
		default: // GRU n_h
			s := r - H
			copy(row[in:], w.WHH[s*H:(s+1)*H])
			b[r] = w.BHH[s]
		}
	}
	return spec.NewLinear(m, b, n, d)
}

// add accumulates samples given as rows of [x; h] (n×(In+H)).
func (f *layerFit) add(xh []float32) error {
	if err := f.st.Add(xh); err != nil {
		return fmt.Errorf("dmi: calibration: %w: %w", ErrNotFinite, err)
	}
	d := f.lin.D
	if f.nkeep < deltaSamples {
		n := min(deltaSamples-f.nkeep, len(xh)/d)
		f.keep = append(f.keep, xh[:n*d]...)
		f.nkeep += n
	}
	return nil
}

// solve fits, quantizes and measures the little module.
func (f *layerFit) solve(o Options) (*Little, error) {
	if s := f.st.Samples(); s < f.minSamples() {
		return nil, fmt.Errorf("%w: %d samples for %d projected inputs, need at least %d", ErrCalib, s, f.bp.K(), f.minSamples())
	}
	j, err := solve(f.st, f.bp, o.Lambda, f.keep)
	if err != nil {
		return nil, fmt.Errorf("dmi: fit: %w", err)
	}
	lt, err := splitJoint(j, f.bp, o.Bits)
	if err != nil {
		return nil, err
	}
	measure(lt, f.lin, f.keep, f.w.In, f.w.Cell, f.w.Hidden)
	return lt, nil
}

// measure sets lt's MSE, ZeroMSE and per-gate |δ| on the samples xs, rows
// of [x; h] (just x for a fully connected layer, cell < 0).
func measure(lt *Little, lin *spec.Linear, xs []float32, in int, cell nn.Cell, hidden int) {
	d, n := lin.D, lin.N
	s := len(xs) / d
	if s == 0 {
		return
	}
	run := newLittleRun(lt)
	exact, approx := make([]float32, n), make([]float32, n)
	gates, gh := 1, n
	if hidden > 0 {
		gates, gh = cell.Gates(), hidden
	}
	cals := make([]sel.Calibrator, gates)
	ge, ga := make([]float32, gh), make([]float32, gh)
	var mse, zero float64
	for i := range s {
		row := xs[i*d : (i+1)*d]
		kernels.Gemv(exact, lin.W, d, row, lin.B)
		var h []float32
		if hidden > 0 {
			h = row[in:]
		}
		run.predict(nil, approx, row[:in], h)
		for j, e := range exact {
			diff := float64(e - approx[j])
			mse += diff * diff
			zero += float64(e) * float64(e)
		}
		for g := range gates {
			gatePre(ge, exact, g, gh, cell, hidden > 0)
			gatePre(ga, approx, g, gh, cell, hidden > 0)
			cals[g].Add(ge, ga)
		}
	}
	lt.MSE, lt.ZeroMSE = mse/float64(s), zero/float64(s)
	lt.Delta = make([]float64, gates)
	for g := range cals {
		lt.Delta[g] = cals[g].Delta()
	}
}

// gatePre writes gate g's pre-activation from little-module-shaped
// outputs y: the GRU's candidate combines n_x, n_h and σ(r).
func gatePre(dst, y []float32, g, h int, cell nn.Cell, recurrent bool) {
	if !recurrent || cell != nn.GRUCell || g != 2 {
		copy(dst, y[g*h:(g+1)*h])
		return
	}
	for j := range h {
		dst[j] = y[2*h+j] + sigmoid(y[j])*y[3*h+j]
	}
}

// FitLayer fits the little module of a recurrent layer to calibration
// samples of its inputs: xs holds S inputs x(t) (S×In) and hs the states
// h(t−1) each was combined with (S×H), as recorded by running the exact
// model. It minimises eq. 3.20 over the samples in closed form
// (spec.Stats), then quantizes W̃ to o.Bits. It returns an error wrapping
// ErrCalib if S is below 2(k_x+k_h+1), ErrNotFinite for a NaN or infinity
// in the samples, and ErrParam for bad options.
func FitLayer(w nn.LayerWeights, xs, hs []float32, o Options) (*Little, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	if len(xs)%w.In != 0 || len(hs)%w.Hidden != 0 || len(xs)/w.In != len(hs)/w.Hidden {
		panic(fmt.Sprintf("dmi: FitLayer: len(xs)=%d, len(hs)=%d are not S×%d and S×%d", len(xs), len(hs), w.In, w.Hidden))
	}
	f, err := newLayerFit(w, 0, o)
	if err != nil {
		return nil, err
	}
	s, d := len(xs)/w.In, w.In+w.Hidden
	const chunk = 1024
	buf := make([]float32, min(s, chunk)*d)
	for i0 := 0; i0 < s; i0 += chunk {
		n := min(chunk, s-i0)
		for i := range n {
			copy(buf[i*d:], xs[(i0+i)*w.In:(i0+i+1)*w.In])
			copy(buf[i*d+w.In:], hs[(i0+i)*w.Hidden:(i0+i+1)*w.Hidden])
		}
		if err := f.add(buf[:n*d]); err != nil {
			return nil, err
		}
	}
	return f.solve(o)
}
