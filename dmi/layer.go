package dmi

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/spec"
	"github.com/elasticml/elastic/speculate"
)

// GateNames returns the names of a cell's gates in weight order: i f g o
// for an LSTM, r z n for a GRU.
func GateNames(c nn.Cell) []string {
	if c == nn.GRUCell {
		return []string{"r", "z", "n"}
	}
	return []string{"i", "f", "g", "o"}
}

// gateActs returns the nonlinearity after each gate, which decides where
// its insensitive region lies.
func gateActs(c nn.Cell) []sel.Activation {
	if c == nn.GRUCell {
		return []sel.Activation{sel.Sigmoid, sel.Sigmoid, sel.Tanh}
	}
	return []sel.Activation{sel.Sigmoid, sel.Sigmoid, sel.Tanh, sel.Sigmoid}
}

// littleRows returns the outputs of a recurrent layer's little module: 4H
// for both cells (see Little).
func littleRows(c nn.Cell, hidden int) int { return 4 * hidden }

// Layer is one LSTM or GRU layer run by dual-module inference at batch 1.
// Each step has two phases:
//
//   - Speculate: the little module predicts every gate pre-activation and
//     a selector per gate picks the sensitive rows (eq. 3.17–3.19);
//   - Execute: the big module — the layer's own W_ih and W_hh — computes
//     only those rows with gather GEMVs, the predictions fill the rest
//     (eq. 3.5), and the exact pointwise update (nn.LSTMUpdate,
//     nn.GRUUpdate) advances the state.
//
// Rows that are not selected are never read from W_ih or W_hh. A GRU's
// candidate n = tanh(n_x + r⊙n_h) uses the assembled r, exact where r was
// selected; its selection ranks the predicted n_x + σ(r̃)⊙n_h.
//
// It is a composition of the runtime (package speculate): on the input
// [x; h] the little module is a Fused speculator (it selects each gate in
// the pool task that computed it, while its outputs are in cache), the
// big module's gathers are the Executor, and Speculate and Execute are
// the halves of one speculate.Step, the cell's update following.
//
// All buffers are allocated by NewLayer, and the loop bodies handed to
// the kernels.Pool are bound there too, so a dual-module step allocates
// nothing. A Layer is not safe for concurrent use.
type Layer struct {
	w      nn.LayerWeights
	lt     *Little
	run    littleRun
	pool   *kernels.Pool
	gs     gateSelectors
	sel    Selection
	gates  int
	y      []float32 // little outputs, then the assembled pre-activations
	npre   []float32 // GRU: predicted candidate pre-activation
	gx, gh []float32 // exact products of the selected rows
	ah     []float32 // GRU: hidden-side values [0 0 n_h]
	idx    []int32   // selected rows, ascending, over all gates
	nsel   []int     // rows selected per gate, each gate's at idx[g·H:]
	approx []int64   // rows left to the little module, per gate
	steps  int64
	xh     []float32 // the step's input [x; h]
	step   *speculate.Step

	// Loop bodies for the pool, bound once, and the inputs of the Execute
	// in progress.
	gateFn, gatherFn, updateFn, denseFn func(lo, hi int)
	gatherGrain, denseGrain             int
	h0                                  []float32 // Dense: h before the step
	ex, eh                              []float32
	// The update in progress: h, c and the LSTM's pre-activations or the
	// GRU's x and h sides.
	uh, uc, ua, ub []float32
}

// NewLayer returns the dual-module form of the layer with weights w and
// little module lt, running its GEMVs on pool (nil: the calling goroutine
// only). It starts with top-K selection at insensitive ratio 0. The
// weights are aliased, not copied. It returns an error wrapping
// ErrMismatch if lt was not made for a layer of w's shape.
func NewLayer(w nn.LayerWeights, lt *Little, pool *kernels.Pool) (*Layer, error) {
	if err := checkLayer(w, lt); err != nil {
		return nil, err
	}
	H, G := w.Hidden, w.Cell.Gates()*w.Hidden
	l := &Layer{
		w: w, lt: lt, run: newLittleRun(lt), pool: pool,
		gs:     newGateSelectors(gateActs(w.Cell)),
		gates:  w.Cell.Gates(),
		y:      make([]float32, lt.Rows()),
		gx:     make([]float32, G),
		gh:     make([]float32, G),
		idx:    make([]int32, G),
		nsel:   make([]int, w.Cell.Gates()),
		approx: make([]int64, w.Cell.Gates()),
	}
	l.gateFn, l.gatherFn, l.updateFn, l.denseFn = l.speculateBlocks, l.gatherRows, l.updateUnits, l.denseUnits
	// About 256 KiB of W_ih and W_hh per task, as kernels.Pool.GemvGather
	// splits its work; a dense task takes a unit's rows of every gate.
	l.gatherGrain = max(4, (256<<10)/(4*(w.In+H))) &^ 3
	l.denseGrain = max(4, l.gatherGrain/l.gates) &^ 3
	l.h0 = make([]float32, H)
	if w.Cell == nn.GRUCell {
		l.npre = make([]float32, H)
		l.ah = make([]float32, G)
	}
	l.xh = make([]float32, w.In+H)
	l.step = speculate.NewStep(G, littleModule{l}, nil, bigModule{l})
	return l, nil
}

// littleModule is the layer's little module as the runtime's Fused
// speculator over the input [x; h].
type littleModule struct{ l *Layer }

// Speculate sets y to the little module's outputs for xh = [x; h].
func (m littleModule) Speculate(y, xh []float32) {
	l := m.l
	H := l.w.Hidden
	l.run.project(l.pool, xh[:l.w.In], xh[l.w.In:])
	for b := range len(l.y) / H {
		l.run.rows(y, b*H, (b+1)*H)
	}
}

// SpeculateSelect is Speculate with each gate selected by the pool task
// that computed it (see Layer.Speculate). y must be the layer's own
// output buffer, which the pool's loop bodies are bound to, and dst needs
// room for every gate row.
func (m littleModule) SpeculateSelect(y, xh []float32, dst []int32) []int32 {
	l := m.l
	H := l.w.Hidden
	l.idx = dst[:cap(dst)]
	l.run.project(l.pool, xh[:l.w.In], xh[l.w.In:])
	l.pool.For(len(y)/H, 1, l.gateFn)
	if l.w.Cell == nn.GRUCell {
		for j := range H {
			l.npre[j] = y[2*H+j] + sigmoid(y[j])*y[3*H+j]
		}
		l.selectGate(2, l.npre)
	}
	// Close the gaps between the gates' stretches of idx.
	all, n := l.idx, 0
	for g, c := range l.nsel {
		n += copy(all[n:], all[g*H:g*H+c])
		l.approx[g] += int64(H - c)
	}
	l.idx = all[:n]
	l.steps++
	return l.idx
}

// bigModule is the layer's W_ih and W_hh as the runtime's Executor: the
// selected rows of W_ih·x + b_ih and W_hh·h + b_hh, assembled into y
// (eq. 3.5) — for a GRU, whose candidate keeps its two sides apart, the
// h side of the selected rows goes to the layer's ah instead.
type bigModule struct{ l *Layer }

func (m bigModule) Execute(y, xh []float32, idx []int32) {
	l := m.l
	H, G := l.w.Hidden, l.gates*l.w.Hidden
	l.ex, l.eh = xh[:l.w.In], xh[l.w.In:]
	l.pool.For(len(idx), l.gatherGrain, l.gatherFn)
	l.ex, l.eh = nil, nil
	if l.w.Cell == nn.GRUCell {
		// x side [r z n_x] into y, h side [0 0 n_h] into ah.
		clear(l.ah[:2*H])
		copy(l.ah[2*H:], y[3*H:])
		sel.AssembleIndex(l.ah, l.gh, l.ah, idx)
	}
	sel.AssembleIndex(y[:G], l.gx, y[:G], idx)
}

func checkLayer(w nn.LayerWeights, lt *Little) error {
	if w.Cell != nn.LSTMCell && w.Cell != nn.GRUCell {
		panic(fmt.Sprintf("dmi: NewLayer: cell %v", w.Cell))
	}
	G := w.Cell.Gates() * w.Hidden
	if len(w.WIH) != G*w.In || len(w.WHH) != G*w.Hidden || len(w.BIH) != G || len(w.BHH) != G {
		panic(fmt.Sprintf("dmi: NewLayer: %v weights do not match In=%d Hidden=%d", w.Cell, w.In, w.Hidden))
	}
	switch {
	case lt == nil || lt.X == nil || lt.H == nil:
		return fmt.Errorf("%w: a recurrent layer needs both halves of a little module", ErrMismatch)
	case lt.X.N != littleRows(w.Cell, w.Hidden) || lt.H.N != lt.X.N:
		return fmt.Errorf("%w: little module has %d outputs, a %v layer of %d units needs %d",
			ErrMismatch, lt.X.N, w.Cell, w.Hidden, littleRows(w.Cell, w.Hidden))
	case !isRProj(lt.X) || !isRProj(lt.H):
		return fmt.Errorf("%w: little module projections are %T and %T; a layer runs on *rproj.Projection", ErrMismatch, lt.X.P, lt.H.P)
	case lt.X.P.D() != w.In || lt.H.P.D() != w.Hidden:
		return fmt.Errorf("%w: little module takes x of %d and h of %d, the layer %d and %d",
			ErrMismatch, lt.X.P.D(), lt.H.P.D(), w.In, w.Hidden)
	}
	return nil
}

// Little returns the layer's little module.
func (l *Layer) Little() *Little { return l.lt }

// Weights returns the big module.
func (l *Layer) Weights() nn.LayerWeights { return l.w }

// SetPool sets the pool the GEMVs run on (nil: the caller only).
func (l *Layer) SetPool(p *kernels.Pool) { l.pool = p }

// SetRatio selects top-K with the given insensitive ratio, the fraction
// of each gate's rows taken from the little module. It returns an error
// wrapping sel.ErrRatio unless 0 <= ratio < 1.
func (l *Layer) SetRatio(ratio float64) error {
	return l.SetSelection(Selection{Mode: TopK, Ratio: ratio})
}

// SetSelection installs s for every gate. On error the selection is
// unchanged.
func (l *Layer) SetSelection(s Selection) error {
	if err := l.gs.set(s, l.lt.Delta); err != nil {
		return err
	}
	l.sel = s
	return nil
}

// Selection returns the current selection.
func (l *Layer) Selection() Selection { return l.sel }

// Step advances h (and c, for an LSTM; ignored for a GRU) by one
// dual-module step on input x: Speculate then Execute.
func (l *Layer) Step(h, c, x []float32) {
	l.Speculate(h, x)
	l.Execute(h, c, x)
}

// Speculate runs the little module on x and h and selects the sensitive
// rows. It must be followed by Execute with the same h and x.
//
// After the projection the little module's GEMV runs one block of H rows
// per pool task, and each gate is selected by the task that computed it,
// while its outputs are in cache; only the GRU's candidate, which needs
// the r block too, is selected afterwards.
func (l *Layer) Speculate(h, x []float32) {
	l.check("Speculate", h, nil, x)
	copy(l.xh, x)
	copy(l.xh[l.w.In:], h)
	l.idx = l.step.Select(l.y, l.xh)
}

// speculateBlocks computes the little module's blocks of H outputs in
// [lo, hi) and selects the gates among them.
func (l *Layer) speculateBlocks(lo, hi int) {
	H := l.w.Hidden
	for b := lo; b < hi; b++ {
		l.run.rows(l.y, b*H, (b+1)*H)
		if b < l.gates && (l.w.Cell == nn.LSTMCell || b < 2) {
			l.selectGate(b, l.y[b*H:(b+1)*H])
		}
	}
}

// selectGate selects the rows of gate g from its predictions v into
// idx[g·H:(g+1)·H].
func (l *Layer) selectGate(g int, v []float32) {
	H := l.w.Hidden
	s := l.gs.selectGate(g, l.idx[g*H:(g+1)*H:(g+1)*H], v, int32(g*H))
	l.nsel[g] = len(s)
}

// Execute computes the selected rows exactly, assembles them with the
// little module's predictions and applies the cell's update to h (and c).
// h and x must be those Speculate was given (it keeps a copy of them,
// which the big module reads).
func (l *Layer) Execute(h, c, x []float32) {
	l.check("Execute", h, c, x)
	G := l.gates * l.w.Hidden
	l.step.Execute(l.y, l.xh)
	if l.w.Cell == nn.LSTMCell {
		l.update(h, c, l.y[:G], nil)
		return
	}
	l.update(h, nil, l.y[:G], l.ah)
}

// update applies the cell's pointwise update (nn.LSTMUpdate with pre a,
// or nn.GRUUpdate with sides a and b) on the pool, in blocks of units:
// its five or three transcendental functions a unit are a tenth of a
// millisecond at H = 1500 on one core, a fifth of a step at 90%.
func (l *Layer) update(h, c, a, b []float32) {
	l.uh, l.uc, l.ua, l.ub = h, c, a, b
	l.pool.For(len(h), 128, l.updateFn)
	l.uh, l.uc, l.ua, l.ub = nil, nil, nil, nil
}

func (l *Layer) updateUnits(lo, hi int) {
	if l.w.Cell == nn.LSTMCell {
		nn.LSTMUpdateUnits(l.uh, l.uc, l.ua, lo, hi)
		return
	}
	nn.GRUUpdateUnits(l.uh, l.ua, l.ub, lo, hi)
}

// gatherRows computes the rows idx[lo:hi] of W_ih·x + b_ih and
// W_hh·h + b_hh, summed into gx for an LSTM: both gathers in one pool
// task, so Execute dispatches once, with a loop body bound at
// construction that allocates nothing.
func (l *Layer) gatherRows(lo, hi int) {
	w, idx := &l.w, l.idx[lo:hi]
	kernels.GemvGather(l.gx, w.WIH, w.In, l.ex, w.BIH, idx)
	kernels.GemvGather(l.gh, w.WHH, w.Hidden, l.eh, w.BHH, idx)
	if w.Cell == nn.LSTMCell {
		for _, r := range idx {
			l.gx[r] += l.gh[r]
		}
	}
}

// Dense advances h (and c) by one exact step, the best dense path: one
// pool dispatch whose tasks each take a block of units, compute those
// units' rows of every gate from all of W_ih and W_hh, and update them.
// It is the baseline dual-module steps are measured against. One dispatch
// rather than three (the two GEMVs, then the update) matters when other
// processes share the cores: every dispatch waits for its slowest worker
// (issue 10). The tasks read the step's old h from a copy, since they
// write h.
func (l *Layer) Dense(h, c, x []float32) {
	l.check("Dense", h, c, x)
	copy(l.h0, h)
	l.ex, l.uh, l.uc = x, h, c
	l.pool.For(l.w.Hidden, l.denseGrain, l.denseFn)
	l.ex, l.uh, l.uc = nil, nil, nil
}

// denseUnits is the Dense task for units [lo, hi).
func (l *Layer) denseUnits(lo, hi int) {
	w, H := &l.w, l.w.Hidden
	for g := range l.gates {
		a, b := g*H+lo, g*H+hi
		kernels.Gemv(l.gx[a:b], w.WIH[a*w.In:b*w.In], w.In, l.ex, w.BIH[a:b])
		kernels.Gemv(l.gh[a:b], w.WHH[a*H:b*H], H, l.h0, w.BHH[a:b])
		if w.Cell == nn.LSTMCell {
			for i, v := range l.gh[a:b] {
				l.gx[a+i] += v
			}
		}
	}
	if w.Cell == nn.LSTMCell {
		nn.LSTMUpdateUnits(l.uh, l.uc, l.gx, lo, hi)
		return
	}
	nn.GRUUpdateUnits(l.uh, l.gx, l.gh, lo, hi)
}

func (l *Layer) check(op string, h, c, x []float32) {
	if len(h) != l.w.Hidden || len(x) != l.w.In || (c != nil && len(c) != l.w.Hidden) {
		panic(fmt.Sprintf("dmi: Layer.%s: len(h)=%d len(c)=%d len(x)=%d, want %d, %d, %d",
			op, len(h), len(c), len(x), l.w.Hidden, l.w.Hidden, l.w.In))
	}
	if c == nil && l.w.Cell == nn.LSTMCell && op != "Speculate" {
		panic(fmt.Sprintf("dmi: Layer.%s: an LSTM step needs c", op))
	}
}

// Sensitive returns the rows (over all gates, gate g's row j being
// g·Hidden+j) the last Speculate selected for exact computation. The
// slice is reused by the next step.
func (l *Layer) Sensitive() []int32 { return l.idx }

// InsensitiveRatio returns, per gate, the fraction of rows left to the
// little module over the steps since the last ResetCounts.
func (l *Layer) InsensitiveRatio() []float64 {
	r := make([]float64, l.gates)
	if l.steps == 0 {
		return r
	}
	for g, n := range l.approx {
		r[g] = float64(n) / float64(l.steps*int64(l.w.Hidden))
	}
	return r
}

// ResetCounts clears the counts behind InsensitiveRatio.
func (l *Layer) ResetCounts() {
	clear(l.approx)
	l.steps = 0
}

// Flush evicts every weight a step of the layer reads — W_ih, W_hh, their
// biases and the little module as it runs — from all cache levels
// (kernels.Flush), so the next step finds them in memory as a model larger
// than the cache would. It is for cold-cache measurements (elastic demo)
// and reports whether this build can flush (kernels.CanFlush).
func (l *Layer) Flush() bool {
	w := &l.w
	ok := kernels.Flush(w.WIH) && kernels.Flush(w.WHH) && kernels.Flush(w.BIH) && kernels.Flush(w.BHH)
	return l.run.flush() && ok
}

// isRProj reports whether s projects with an *rproj.Projection, whose signs
// the little module's run needs (rproj.Signs).
func isRProj(s *spec.Speculator) bool {
	_, ok := s.P.(*rproj.Projection)
	return ok
}
