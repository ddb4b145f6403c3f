package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// Cell names a recurrent cell type.
type Cell int

// The cell types.
const (
	LSTMCell Cell = iota
	GRUCell
)

// String returns "lstm" or "gru".
func (c Cell) String() string {
	switch c {
	case LSTMCell:
		return "lstm"
	case GRUCell:
		return "gru"
	}
	return fmt.Sprintf("Cell(%d)", int(c))
}

// Gates returns how many gate blocks the cell stacks in its weights: 4
// for an LSTM, 3 for a GRU.
func (c Cell) Gates() int {
	if c == GRUCell {
		return 3
	}
	return 4
}

// ParseCell returns the Cell named "lstm" or "gru".
func ParseCell(s string) (Cell, error) {
	switch s {
	case "lstm":
		return LSTMCell, nil
	case "gru":
		return GRUCell, nil
	}
	return 0, fmt.Errorf("unknown cell %q (want lstm or gru)", s)
}

// Recurrent is one layer of an LSTM or GRU run over time-major sequences.
type Recurrent interface {
	// Forward runs the layer over x, steps×batch rows of In values,
	// starting from state h (and c for an LSTM; nil for a GRU), each
	// batch×Hidden, which it overwrites with the final state. It returns
	// the outputs, steps×batch×Hidden, in a buffer owned by the layer and
	// valid until the next Forward. x must not change before Backward.
	Forward(x []float32, steps, batch int, h, c []float32) []float32
	// Backward accumulates the parameter gradients for output gradient
	// dy of the last Forward and, if dx is not nil, writes the input
	// gradient. The gradient of the initial state is not propagated: in
	// truncated backpropagation through time the state is detached.
	Backward(dx, dy []float32)
	// Step advances the layer one step for a single sequence: h (and c
	// for an LSTM) of length Hidden are updated in place from input x of
	// length In, using kernels.Gemv. It does not disturb Forward's saved
	// activations.
	Step(h, c, x []float32)
	// Params returns weight_ih, weight_hh, bias_ih and bias_hh.
	Params() []*Param
	// Weights returns the layer's shapes and weights.
	Weights() LayerWeights
}

// LayerWeights exposes one recurrent layer's parameters in PyTorch's
// layout: WIH is Cell.Gates()·Hidden × In and WHH is
// Cell.Gates()·Hidden × Hidden, row-major, gate blocks stacked as
// [i f g o] (LSTM) or [r z n] (GRU). The slices alias the layer.
type LayerWeights struct {
	Cell               Cell
	In, Hidden         int
	WIH, WHH, BIH, BHH []float32
}

// newGateParams returns the four PyTorch-named parameters of layer l,
// uniform in ±1/√hidden as PyTorch's nn.LSTM and nn.GRU initialise them.
func newGateParams(cell Cell, in, hidden, layer int, rng *rand.Rand) (wih, whh, bih, bhh *Param) {
	if in <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("nn: %v layer with in=%d hidden=%d: sizes must be positive", cell, in, hidden))
	}
	g := cell.Gates() * hidden
	wih = NewParam(fmt.Sprintf("weight_ih_l%d", layer), g, in)
	whh = NewParam(fmt.Sprintf("weight_hh_l%d", layer), g, hidden)
	bih = NewParam(fmt.Sprintf("bias_ih_l%d", layer), g)
	bhh = NewParam(fmt.Sprintf("bias_hh_l%d", layer), g)
	bound := 1 / math.Sqrt(float64(hidden))
	for _, p := range []*Param{wih, whh, bih, bhh} {
		p.Uniform(rng, bound)
	}
	return wih, whh, bih, bhh
}

// LSTMUpdate applies the LSTM's elementwise step to h and c (length H)
// given the gate pre-activations pre (length 4H, [i f g o]), the sum
// W_ih·x + b_ih + W_hh·h + b_hh: c' = σ(f)⊙c + σ(i)⊙tanh(g),
// h' = σ(o)⊙tanh(c'). pre is overwritten with the activated gates. It is
// the part of a step that stays exact when the products are
// approximated.
func LSTMUpdate(h, c, pre []float32) {
	LSTMUpdateUnits(h, c, pre, 0, len(h))
}

// LSTMUpdateUnits is LSTMUpdate on the units [lo, hi) only: it reads and
// writes those elements of h, c and of each gate's quarter of pre, so
// disjoint ranges may run concurrently — the update costs five
// transcendental functions a unit, as much as a tenth of a millisecond
// for H = 1500, which a decoder step need not spend on one core. It
// panics, like LSTMUpdate, on mismatched lengths, and if [lo, hi) is not
// within [0, len(h)).
func LSTMUpdateUnits(h, c, pre []float32, lo, hi int) {
	H := len(h)
	checkLen("LSTMUpdate", "c", len(c), H)
	checkLen("LSTMUpdate", "pre", len(pre), 4*H)
	checkUnits("LSTMUpdateUnits", lo, hi, H)
	lstmPointwise(h, c, c, pre, nil, lo, hi)
}

// lstmPointwise activates the gates g (length 4H) in place and sets cNext
// and h from cPrev, for the units [lo, hi); tc, if not nil, receives
// tanh(cNext). cNext may alias cPrev.
func lstmPointwise(h, cNext, cPrev, g, tc []float32, lo, hi int) {
	H := len(h)
	gi, gf, gg, gO := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
	for k := lo; k < hi; k++ {
		i := sigmoid(gi[k])
		f := sigmoid(gf[k])
		n := tanh(gg[k])
		o := sigmoid(gO[k])
		cn := f*cPrev[k] + i*n
		t := tanh(cn)
		gi[k], gf[k], gg[k], gO[k] = i, f, n, o
		cNext[k] = cn
		h[k] = o * t
		if tc != nil {
			tc[k] = t
		}
	}
}

// GRUUpdate applies the GRU's elementwise step to h (length H) given
// gx = W_ih·x + b_ih and gh = W_hh·h + b_hh (length 3H each, [r z n]):
// r = σ(gx_r+gh_r), z = σ(gx_z+gh_z), n = tanh(gx_n + r⊙gh_n),
// h' = (1−z)⊙n + z⊙h. gx is overwritten with the activated [r z n].
func GRUUpdate(h, gx, gh []float32) {
	GRUUpdateUnits(h, gx, gh, 0, len(h))
}

// GRUUpdateUnits is GRUUpdate on the units [lo, hi) only, like
// LSTMUpdateUnits, and panics alike.
func GRUUpdateUnits(h, gx, gh []float32, lo, hi int) {
	H := len(h)
	checkLen("GRUUpdate", "gx", len(gx), 3*H)
	checkLen("GRUUpdate", "gh", len(gh), 3*H)
	checkUnits("GRUUpdateUnits", lo, hi, H)
	gruPointwise(h, h, gx, gh, lo, hi)
}

// gruPointwise activates gx in place from gx and gh and sets hNext from
// hPrev, for the units [lo, hi); hNext may alias hPrev.
func gruPointwise(hNext, hPrev, gx, gh []float32, lo, hi int) {
	H := len(hNext)
	xr, xz, xn := gx[:H], gx[H:2*H], gx[2*H:3*H]
	hr, hz, hn := gh[:H], gh[H:2*H], gh[2*H:3*H]
	for k := lo; k < hi; k++ {
		r := sigmoid(xr[k] + hr[k])
		z := sigmoid(xz[k] + hz[k])
		n := tanh(xn[k] + r*hn[k])
		xr[k], xz[k], xn[k] = r, z, n
		hNext[k] = (1-z)*n + z*hPrev[k]
	}
}

// State is the recurrent state of a stacked RNN for a batch: H[l] and,
// for an LSTM, C[l] hold layer l's batch×Hidden values (C is nil for a
// GRU).
type State struct {
	H, C [][]float32
}

// Zero clears the state.
func (s State) Zero() {
	for _, h := range s.H {
		clear(h)
	}
	for _, c := range s.C {
		clear(c)
	}
}

// RNN is a stack of recurrent layers with dropout between them, as
// PyTorch's nn.LSTM and nn.GRU with num_layers and dropout: each layer's
// output except the last's passes through dropout before the next layer.
type RNN struct {
	Cell          Cell
	Input, Hidden int
	Layers        []Recurrent
	Drops         []*Dropout // len(Layers)-1

	buf  [][]float32 // dropout outputs, inputs of layers 1..
	dbuf [2][]float32
	n    int
}

// NewRNN returns a stack of layers cells of the given sizes, parameters
// named weight_ih_l0, ..., and inter-layer dropout p, all drawing from rng.
// It panics if a size is not positive or p is outside [0, 1).
func NewRNN(cell Cell, input, hidden, layers int, dropout float64, rng *rand.Rand) *RNN {
	if layers <= 0 {
		panic(fmt.Sprintf("nn: NewRNN: %d layers", layers))
	}
	r := &RNN{Cell: cell, Input: input, Hidden: hidden}
	for l := range layers {
		in := hidden
		if l == 0 {
			in = input
		}
		switch cell {
		case LSTMCell:
			r.Layers = append(r.Layers, NewLSTM(in, hidden, l, rng))
		case GRUCell:
			r.Layers = append(r.Layers, NewGRU(in, hidden, l, rng))
		default:
			panic(fmt.Sprintf("nn: NewRNN: unknown %v", cell))
		}
		if l > 0 {
			r.Drops = append(r.Drops, NewDropout(dropout, rng))
		}
	}
	r.buf = make([][]float32, layers-1)
	return r
}

// SetPool makes every layer run its GEMMs on p (nil: the caller only).
func (r *RNN) SetPool(p *kernels.Pool) {
	for _, l := range r.Layers {
		switch l := l.(type) {
		case *LSTM:
			l.Pool = p
		case *GRU:
			l.Pool = p
		}
	}
}

// Params returns every layer's parameters, layer by layer, in PyTorch's
// state-dict order.
func (r *RNN) Params() []*Param {
	var ps []*Param
	for _, l := range r.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// NewState returns a zero state for batch sequences.
func (r *RNN) NewState(batch int) State {
	s := State{H: make([][]float32, len(r.Layers))}
	if r.Cell == LSTMCell {
		s.C = make([][]float32, len(r.Layers))
	}
	for l := range r.Layers {
		s.H[l] = make([]float32, batch*r.Hidden)
		if s.C != nil {
			s.C[l] = make([]float32, batch*r.Hidden)
		}
	}
	return s
}

// Forward runs the stack over x (steps×batch×Input) from state st, which
// it advances, applying inter-layer dropout when train is true. It returns
// the last layer's outputs, owned by that layer.
func (r *RNN) Forward(x []float32, steps, batch int, st State, train bool) []float32 {
	checkSeq("RNN.Forward", steps, batch)
	r.n = steps * batch
	in := x
	for l, layer := range r.Layers {
		out := layer.Forward(in, steps, batch, st.H[l], st.stateC(l))
		if l == len(r.Layers)-1 {
			return out
		}
		r.buf[l] = grow(r.buf[l], len(out))
		r.Drops[l].Forward(r.buf[l], out, train)
		in = r.buf[l]
	}
	panic("unreachable")
}

func (s State) stateC(l int) []float32 {
	if s.C == nil {
		return nil
	}
	return s.C[l]
}

// Backward accumulates all parameter gradients for output gradient dy of
// the last Forward and, if dx is not nil, writes the input gradient.
func (r *RNN) Backward(dx, dy []float32) {
	d := dy
	for l := len(r.Layers) - 1; l >= 0; l-- {
		if l == 0 {
			r.Layers[0].Backward(dx, d)
			return
		}
		buf := grow(r.dbuf[l&1], r.n*r.Hidden)
		r.dbuf[l&1] = buf
		r.Layers[l].Backward(buf, d)
		r.Drops[l-1].Backward(buf, buf)
		d = buf
	}
}
