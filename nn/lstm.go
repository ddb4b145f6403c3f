package nn

import (
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// LSTM is one long short-term memory layer with PyTorch's equations and
// gate order [i f g o].
type LSTM struct {
	In, Hidden                         int
	WeightIH, WeightHH, BiasIH, BiasHH *Param
	// Pool, when not nil, runs the GEMMs on several threads.
	Pool *kernels.Pool

	steps, batch int
	x            []float32 // input of the last Forward
	gates        []float32 // steps×batch×4H activated gates
	hs, cs       []float32 // (steps+1)×batch×H states, the initial ones first
	tc           []float32 // steps×batch×H tanh(c_t)
	dgates       []float32 // steps×batch×4H
	dh, dc       []float32 // batch×H gradients carried back in time
	bias         []float32 // 4H, b_ih + b_hh
	// whh is W_hh packed for the per-step products of the pass in
	// progress: W_hhᵀ in Forward, W_hh in Backward. Each pass repacks it
	// from WeightHH at its start, so an optimiser step between passes can
	// never leave a stale copy in use.
	whh    *kernels.PackedB
	sx, sh []float32 // 4H scratch of Step
}

var _ Recurrent = (*LSTM)(nil)

// NewLSTM returns layer number layer (which only names its parameters,
// weight_ih_l<layer> and so on) mapping in inputs to hidden units,
// initialised uniformly in ±1/√hidden as PyTorch does.
func NewLSTM(in, hidden, layer int, rng *rand.Rand) *LSTM {
	wih, whh, bih, bhh := newGateParams(LSTMCell, in, hidden, layer, rng)
	return &LSTM{In: in, Hidden: hidden, WeightIH: wih, WeightHH: whh, BiasIH: bih, BiasHH: bhh}
}

// Params returns weight_ih, weight_hh, bias_ih and bias_hh.
func (l *LSTM) Params() []*Param { return []*Param{l.WeightIH, l.WeightHH, l.BiasIH, l.BiasHH} }

// Weights returns the layer's shapes and weights.
func (l *LSTM) Weights() LayerWeights {
	return LayerWeights{LSTMCell, l.In, l.Hidden, l.WeightIH.Data, l.WeightHH.Data, l.BiasIH.Data, l.BiasHH.Data}
}

// Forward implements Recurrent.
func (l *LSTM) Forward(x []float32, steps, batch int, h, c []float32) []float32 {
	checkSeq("LSTM.Forward", steps, batch)
	H, G, n := l.Hidden, 4*l.Hidden, steps*batch
	bH := batch * H
	checkLen("LSTM.Forward", "x", len(x), n*l.In)
	checkLen("LSTM.Forward", "h", len(h), bH)
	checkLen("LSTM.Forward", "c", len(c), bH)
	l.steps, l.batch, l.x = steps, batch, x
	l.gates = grow(l.gates, n*G)
	l.hs = grow(l.hs, (steps+1)*bH)
	l.cs = grow(l.cs, (steps+1)*bH)
	l.tc = grow(l.tc, n*H)
	l.bias = grow(l.bias, G)
	for i := range l.bias {
		l.bias[i] = l.BiasIH.Data[i] + l.BiasHH.Data[i]
	}
	copy(l.hs, h)
	copy(l.cs, c)

	// The input projections of all steps at once.
	l.Pool.Gemm(false, true, n, G, l.In, 1, x, l.In, l.WeightIH.Data, l.In, 0, l.gates, G)
	addRows(l.gates, l.bias)
	// The recurrent products have only batch rows each, so Gemm would
	// spend much of each step repacking all of W_hhᵀ; pack it once.
	l.whh = l.Pool.PackB(l.whh, true, H, G, l.WeightHH.Data, H)
	for t := range steps {
		gt := l.gates[t*batch*G : (t+1)*batch*G]
		hPrev := l.hs[t*bH : (t+1)*bH]
		l.Pool.GemmPacked(false, batch, 1, hPrev, H, l.whh, 1, gt, G)
		for j := range batch {
			o := t*bH + j*H
			lstmPointwise(l.hs[bH+o:bH+o+H], l.cs[bH+o:bH+o+H], l.cs[o:o+H], gt[j*G:(j+1)*G], l.tc[o:o+H], 0, H)
		}
	}
	copy(h, l.hs[steps*bH:])
	copy(c, l.cs[steps*bH:])
	return l.hs[bH : (steps+1)*bH]
}

// Backward implements Recurrent.
func (l *LSTM) Backward(dx, dy []float32) {
	steps, batch := l.steps, l.batch
	H, G, n := l.Hidden, 4*l.Hidden, steps*batch
	bH := batch * H
	checkLen("LSTM.Backward", "dy", len(dy), n*H)
	l.dgates = grow(l.dgates, n*G)
	l.dh = grow(l.dh, bH)
	l.dc = grow(l.dc, bH)
	clear(l.dh)
	clear(l.dc)
	if steps > 1 {
		l.whh = l.Pool.PackB(l.whh, false, G, H, l.WeightHH.Data, H)
	}
	for t := steps - 1; t >= 0; t-- {
		gt := l.gates[t*batch*G : (t+1)*batch*G]
		dgt := l.dgates[t*batch*G : (t+1)*batch*G]
		for j := range batch {
			g, dg := gt[j*G:(j+1)*G], dgt[j*G:(j+1)*G]
			o := t*bH + j*H
			cPrev, tc, dyt := l.cs[o:o+H], l.tc[o:o+H], dy[o:o+H]
			dh, dc := l.dh[j*H:(j+1)*H], l.dc[j*H:(j+1)*H]
			for k := range H {
				i, f, gg, og := g[k], g[H+k], g[2*H+k], g[3*H+k]
				dhv := dyt[k] + dh[k]
				dcv := dhv*og*(1-tc[k]*tc[k]) + dc[k]
				dg[k] = dcv * gg * i * (1 - i)
				dg[H+k] = dcv * cPrev[k] * f * (1 - f)
				dg[2*H+k] = dcv * i * (1 - gg*gg)
				dg[3*H+k] = dhv * tc[k] * og * (1 - og)
				dc[k] = dcv * f
			}
		}
		if t > 0 {
			l.Pool.GemmPacked(false, batch, 1, dgt, G, l.whh, 0, l.dh, H)
		}
	}
	l.Pool.Gemm(true, false, G, l.In, n, 1, l.dgates, G, l.x, l.In, 1, l.WeightIH.Grad, l.In)
	l.Pool.Gemm(true, false, G, H, n, 1, l.dgates, G, l.hs[:n*H], H, 1, l.WeightHH.Grad, H)
	sumRows(l.BiasIH.Grad, l.dgates)
	sumRows(l.BiasHH.Grad, l.dgates)
	if dx != nil {
		checkLen("LSTM.Backward", "dx", len(dx), n*l.In)
		l.Pool.Gemm(false, false, n, l.In, G, 1, l.dgates, G, l.WeightIH.Data, l.In, 0, dx, l.In)
	}
}

// Step implements Recurrent.
func (l *LSTM) Step(h, c, x []float32) {
	G := 4 * l.Hidden
	if l.sx == nil {
		l.sx, l.sh = make([]float32, G), make([]float32, G)
	}
	checkLen("LSTM.Step", "h", len(h), l.Hidden)
	kernels.Gemv(l.sx, l.WeightIH.Data, l.In, x, l.BiasIH.Data)
	kernels.Gemv(l.sh, l.WeightHH.Data, l.Hidden, h, l.BiasHH.Data)
	for i, v := range l.sh {
		l.sx[i] += v
	}
	LSTMUpdate(h, c, l.sx)
}
