package nn

import (
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// GRU is one gated recurrent unit layer with PyTorch's equations and gate
// order [r z n].
type GRU struct {
	In, Hidden                         int
	WeightIH, WeightHH, BiasIH, BiasHH *Param
	// Pool, when not nil, runs the GEMMs on several threads.
	Pool *kernels.Pool

	steps, batch int
	x            []float32 // input of the last Forward
	gates        []float32 // steps×batch×3H: input projections, then activated [r z n]
	gh           []float32 // batch×3H hidden projection of the current step
	hn           []float32 // steps×batch×H saved W_hn·h + b_hn
	hs           []float32 // (steps+1)×batch×H states, the initial one first
	dgx, dgh     []float32 // steps×batch×3H gradients of the two projections
	dh           []float32 // batch×H gradient carried back in time
	// whh is W_hh packed for the per-step products of the pass in
	// progress: W_hhᵀ in Forward, W_hh in Backward. Each pass repacks it
	// from WeightHH at its start, so an optimiser step between passes can
	// never leave a stale copy in use.
	whh    *kernels.PackedB
	sx, sh []float32 // 3H scratch of Step
}

var _ Recurrent = (*GRU)(nil)

// NewGRU returns layer number layer (which only names its parameters,
// weight_ih_l<layer> and so on) mapping in inputs to hidden units,
// initialised uniformly in ±1/√hidden as PyTorch does.
func NewGRU(in, hidden, layer int, rng *rand.Rand) *GRU {
	wih, whh, bih, bhh := newGateParams(GRUCell, in, hidden, layer, rng)
	return &GRU{In: in, Hidden: hidden, WeightIH: wih, WeightHH: whh, BiasIH: bih, BiasHH: bhh}
}

// Params returns weight_ih, weight_hh, bias_ih and bias_hh.
func (l *GRU) Params() []*Param { return []*Param{l.WeightIH, l.WeightHH, l.BiasIH, l.BiasHH} }

// Weights returns the layer's shapes and weights.
func (l *GRU) Weights() LayerWeights {
	return LayerWeights{GRUCell, l.In, l.Hidden, l.WeightIH.Data, l.WeightHH.Data, l.BiasIH.Data, l.BiasHH.Data}
}

// Forward implements Recurrent; c is ignored.
func (l *GRU) Forward(x []float32, steps, batch int, h, _ []float32) []float32 {
	checkSeq("GRU.Forward", steps, batch)
	H, G, n := l.Hidden, 3*l.Hidden, steps*batch
	bH := batch * H
	checkLen("GRU.Forward", "x", len(x), n*l.In)
	checkLen("GRU.Forward", "h", len(h), bH)
	l.steps, l.batch, l.x = steps, batch, x
	l.gates = grow(l.gates, n*G)
	l.gh = grow(l.gh, batch*G)
	l.hn = grow(l.hn, n*H)
	l.hs = grow(l.hs, (steps+1)*bH)
	copy(l.hs, h)

	l.Pool.Gemm(false, true, n, G, l.In, 1, x, l.In, l.WeightIH.Data, l.In, 0, l.gates, G)
	addRows(l.gates, l.BiasIH.Data)
	// As in LSTM.Forward, W_hhᵀ is packed once for all steps.
	l.whh = l.Pool.PackB(l.whh, true, H, G, l.WeightHH.Data, H)
	for t := range steps {
		gt := l.gates[t*batch*G : (t+1)*batch*G]
		hPrev := l.hs[t*bH : (t+1)*bH]
		l.Pool.GemmPacked(false, batch, 1, hPrev, H, l.whh, 0, l.gh, G)
		addRows(l.gh, l.BiasHH.Data)
		for j := range batch {
			o := t*bH + j*H
			gh := l.gh[j*G : (j+1)*G]
			copy(l.hn[o:o+H], gh[2*H:])
			gruPointwise(l.hs[bH+o:bH+o+H], l.hs[o:o+H], gt[j*G:(j+1)*G], gh, 0, H)
		}
	}
	copy(h, l.hs[steps*bH:])
	return l.hs[bH : (steps+1)*bH]
}

// Backward implements Recurrent.
func (l *GRU) Backward(dx, dy []float32) {
	steps, batch := l.steps, l.batch
	H, G, n := l.Hidden, 3*l.Hidden, steps*batch
	bH := batch * H
	checkLen("GRU.Backward", "dy", len(dy), n*H)
	l.dgx = grow(l.dgx, n*G)
	l.dgh = grow(l.dgh, n*G)
	l.dh = grow(l.dh, bH)
	clear(l.dh)
	if steps > 1 {
		l.whh = l.Pool.PackB(l.whh, false, G, H, l.WeightHH.Data, H)
	}
	for t := steps - 1; t >= 0; t-- {
		for j := range batch {
			row := (t*batch + j) * G
			g, dgx, dgh := l.gates[row:row+G], l.dgx[row:row+G], l.dgh[row:row+G]
			o := t*bH + j*H
			hPrev, hn, dyt := l.hs[o:o+H], l.hn[o:o+H], dy[o:o+H]
			dh := l.dh[j*H : (j+1)*H]
			for k := range H {
				r, z, nv := g[k], g[H+k], g[2*H+k]
				dhv := dyt[k] + dh[k]
				dn := dhv * (1 - z) * (1 - nv*nv)
				dz := dhv * (hPrev[k] - nv) * z * (1 - z)
				dr := dn * hn[k] * r * (1 - r)
				dgx[k], dgx[H+k], dgx[2*H+k] = dr, dz, dn
				dgh[k], dgh[H+k], dgh[2*H+k] = dr, dz, dn*r
				dh[k] = dhv * z
			}
		}
		if t > 0 {
			dght := l.dgh[t*batch*G : (t+1)*batch*G]
			l.Pool.GemmPacked(false, batch, 1, dght, G, l.whh, 1, l.dh, H)
		}
	}
	l.Pool.Gemm(true, false, G, l.In, n, 1, l.dgx, G, l.x, l.In, 1, l.WeightIH.Grad, l.In)
	l.Pool.Gemm(true, false, G, H, n, 1, l.dgh, G, l.hs[:n*H], H, 1, l.WeightHH.Grad, H)
	sumRows(l.BiasIH.Grad, l.dgx)
	sumRows(l.BiasHH.Grad, l.dgh)
	if dx != nil {
		checkLen("GRU.Backward", "dx", len(dx), n*l.In)
		l.Pool.Gemm(false, false, n, l.In, G, 1, l.dgx, G, l.WeightIH.Data, l.In, 0, dx, l.In)
	}
}

// Step implements Recurrent; c is ignored.
func (l *GRU) Step(h, _, x []float32) {
	G := 3 * l.Hidden
	if l.sx == nil {
		l.sx, l.sh = make([]float32, G), make([]float32, G)
	}
	checkLen("GRU.Step", "h", len(h), l.Hidden)
	kernels.Gemv(l.sx, l.WeightIH.Data, l.In, x, l.BiasIH.Data)
	kernels.Gemv(l.sh, l.WeightHH.Data, l.Hidden, h, l.BiasHH.Data)
	GRUUpdate(h, l.sx, l.sh)
}
