package dsg

import (
	"fmt"
	"time"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/sparse"
	"github.com/elasticml/elastic/speculate"
)

// sparseLayer runs a hidden FC or convolution layer under DSG (Algorithm
// 5, lines 7–9 and 22–24). Its rows are the FC inputs or the conv windows
// (the lowered matrix), rowsPer of them per sample, each computing nK
// outputs from d inputs:
//
//   - forward: the search estimates all rows×nK activations cheaply; the
//     top-k threshold of each sample (or of the first, shared) selects the
//     critical ones; then one speculate.Step per row — the estimate as
//     speculator, a sel.Threshold as selector, speculate.Rows as executor,
//     Drop set — computes exactly the selected outputs, reading only their
//     weight rows, and zeroes the rest. The selection is kept as a
//     sparse.Pattern (rows × nK).
//   - backward: the weight gradient accumulates, per output neuron, only
//     the rows that selected it (the transposed pattern), and the error
//     sent back to the input gathers only the selected weight rows of each
//     row. Unselected entries of dy are never read: they are zero after
//     the ReLU anyway, as Algorithm 5's Mask_k[·] makes them.
type sparseLayer struct {
	nm      string
	lin     *nn.Linear // FC, or
	cv      *nn.Conv2d // convolution
	nK, d   int
	rowsPer int
	gamma   *float64 // shared with the Net, so γ can change between steps
	perSamp bool
	selMode string // SelectFirst, SelectPerSample or SelectBatch
	channel bool   // GranChannel: whole channels per group of rows
	ch      channelState
	search  *drs
	pool    *kernels.Pool

	n      int
	x      []float32 // rows×d: the FC input or the conv's lowered matrix
	approx []float32
	theta  []float32 // threshold per sample
	pad    []int32   // rows×nK: each row's selection, before compaction
	cnt    []int32
	work   []int32
	pat    sparse.Pattern
	tr     sparse.Pattern
	dcols  []float32

	// zvc keeps the input for backward zero-value compressed (stash) and
	// rebuilds it there (xbuf, lowered again for a conv).
	zvc     bool
	stashed bool

	// skipDead (GranChannel) leaves inputs zero throughout the batch out
	// of the GEMMs; set where those are outputs a previous sparse layer
	// dropped. searchFrac is Sparse.SearchFraction.
	skipDead   bool
	searchFrac float64
	stash      zvcStash
	xbuf       []float32

	// clock makes forward add the search's wall time (estimate and
	// selection) to searchDur (bench only).
	clock     bool
	searchDur time.Duration
}

func (l *sparseLayer) now() time.Time {
	if !l.clock {
		return time.Time{}
	}
	return time.Now()
}

func (l *sparseLayer) since(t0 time.Time) {
	if l.clock {
		l.searchDur += time.Since(t0)
	}
}

// unstash rebuilds the rows of the last training forward from the
// compressed stash.
func (l *sparseLayer) unstash() {
	in, _ := l.sizes()
	l.xbuf = grow(l.xbuf, l.n*in)
	l.stash.decompress(l.pool, l.xbuf)
	if l.channel {
		l.lowerLive(l.xbuf, l.n)
		return
	}
	l.x = l.rowsOf(l.xbuf, l.n)
}

func (l *sparseLayer) weights() (w, b *nn.Param) {
	if l.lin != nil {
		return l.lin.Weight, l.lin.Bias
	}
	return l.cv.Weight, l.cv.Bias
}

func (l *sparseLayer) name() string { return l.nm }

func (l *sparseLayer) sizes() (int, int) {
	if l.lin != nil {
		return l.lin.In, l.lin.Out
	}
	return l.cv.InSize(), l.cv.OutSize()
}

func (l *sparseLayer) params() []*nn.Param {
	w, b := l.weights()
	return []*nn.Param{w, b}
}

func (l *sparseLayer) buffers() []*nn.Param { return nil }

// denseMACs is the layer's dense forward cost per sample.
func (l *sparseLayer) denseMACs() int { return l.rowsPer * l.d * l.nK }

// rowsOf returns the layer's input rows for x of n samples.
func (l *sparseLayer) rowsOf(x []float32, n int) []float32 {
	if l.lin != nil {
		return x
	}
	return l.cv.Lower(x, n)
}

func (l *sparseLayer) forward(y, x []float32, n int, train bool) {
	in, out := l.sizes()
	if len(x) != n*in || len(y) != n*out {
		panic(fmt.Sprintf("dsg: %s: forward with %d inputs and %d outputs for %d samples", l.nm, len(x), len(y), n))
	}
	l.n = n
	if l.channel {
		l.forwardChannel(y, x, n, train)
	} else {
		l.x = l.rowsOf(x, n)
		l.forwardRows(y, n, train)
	}
	l.stashed = l.zvc && train
	if l.stashed {
		l.stash.compress(l.pool, x, n)
	}
}

// forwardRows is forward for GranElement.
func (l *sparseLayer) forwardRows(y []float32, n int, train bool) {
	rows := n * l.rowsPer
	w, b := l.weights()
	t0 := l.now()
	l.approx = grow(l.approx, rows*l.nK)
	l.search.estimate(l.pool, l.approx, l.x, w.Data, b.Data, rows, train)
	l.thresholds(n)
	l.since(t0)
	l.pad = growInt32(l.pad, rows*l.nK)
	l.cnt = growInt32(l.cnt, rows)
	exec := speculate.Rows{W: w.Data, B: b.Data, Cols: l.d}
	nK, d := l.nK, l.d
	l.forRange(rows, func(lo, hi int) {
		th := &sel.Threshold{Act: sel.ReLU}
		var cur []float32
		st := speculate.NewStep(nK, speculate.Func(func(a, _ []float32) { copy(a, cur) }), th, exec)
		st.Drop = true
		for r := lo; r < hi; r++ {
			cur = l.approx[r*nK : (r+1)*nK]
			th.Theta = l.theta[r/l.rowsPer]
			idx := st.Run(y[r*nK:(r+1)*nK], l.x[r*d:(r+1)*d])
			l.cnt[r] = int32(copy(l.pad[r*nK:(r+1)*nK], idx))
		}
	})
	l.compact(rows)
}

// thresholds sets each sample's top-k threshold on the estimates: that
// of the first sample for all (Figure A.1) or each sample's own.
func (l *sparseLayer) thresholds(n int) {
	per := l.rowsPer * l.nK
	tk, err := sel.NewTopK(sel.ReLU, *l.gamma)
	if err != nil {
		panic(fmt.Sprintf("dsg: %s: %v", l.nm, err)) // γ is validated before training
	}
	l.theta = grow(l.theta, n)
	l.work = growInt32(l.work, per)
	for s := range n {
		if s > 0 && !l.perSamp {
			l.theta[s] = l.theta[0]
			continue
		}
		l.theta[s] = tk.Threshold(l.work, l.approx[s*per:(s+1)*per])
	}
}

// compact gathers the rows' selections into l.pat.
func (l *sparseLayer) compact(rows int) {
	p := &l.pat
	p.Rows, p.Cols, p.Block = rows, l.nK, 1
	p.Ptr = growInt32(p.Ptr, rows+1)
	p.Ptr[0] = 0
	for r := range rows {
		p.Ptr[r+1] = p.Ptr[r] + l.cnt[r]
	}
	p.Idx = growInt32(p.Idx, int(p.Ptr[rows]))
	for r := range rows {
		copy(p.Idx[p.Ptr[r]:p.Ptr[r+1]], l.pad[r*l.nK:r*l.nK+int(l.cnt[r])])
	}
}

// Reapply recomputes the selected outputs of the last forward on new
// input, keeping its selection: gradient checks differentiate the piece
// of the network that selection chose.
func (l *sparseLayer) Reapply(y, x []float32) {
	if l.channel {
		l.lowerLive(x, l.n)
		l.executeChannel(y)
		return
	}
	l.x = l.rowsOf(x, l.n)
	w, b := l.weights()
	exec := speculate.Rows{W: w.Data, B: b.Data, Cols: l.d}
	clear(y)
	for r := range l.pat.Rows {
		exec.Execute(y[r*l.nK:(r+1)*l.nK], l.x[r*l.d:(r+1)*l.d], l.pat.Row(r))
	}
}

func (l *sparseLayer) backward(dx, dy []float32) {
	rows, nK, d := l.pat.Rows, l.nK, l.d
	if len(dy) != rows*nK {
		panic(fmt.Sprintf("dsg: %s: backward with %d gradients, want %d", l.nm, len(dy), rows*nK))
	}
	if l.stashed {
		l.unstash()
	}
	if l.channel {
		l.backwardChannel(dx, dy)
		return
	}
	w, b := l.weights()
	// Masked weight-gradient accumulation: neuron j sums only the rows
	// that selected it, so workers own disjoint weight rows.
	tr := l.pat.Transpose(&l.tr)
	l.forRange(nK, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			g := w.Grad[j*d : (j+1)*d]
			var gb float32
			for _, r := range tr.Row(j) {
				v := dy[int(r)*nK+j]
				kernels.Axpy(v, l.x[int(r)*d:(int(r)+1)*d], g)
				gb += v
			}
			b.Grad[j] += gb
		}
	})
	if dx == nil {
		return
	}
	dst := dx
	if l.cv != nil {
		l.dcols = grow(l.dcols, rows*d)
		dst = l.dcols
	}
	// Error back-propagation gathering each row's selected weight rows.
	l.forRange(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := dst[r*d : (r+1)*d]
			clear(row)
			for _, j := range l.pat.Row(r) {
				kernels.Axpy(dy[r*nK+int(j)], w.Data[int(j)*d:(int(j)+1)*d], row)
			}
		}
	})
	if l.cv != nil {
		l.cv.Raise(dx, l.dcols, l.n)
	}
}

func (l *sparseLayer) forRange(n int, fn func(lo, hi int)) { l.pool.For(n, 8, fn) }

// maskLayer applies a sparse layer's selection again after BatchNorm (the
// double mask of Figure 4.2c, Algorithm 5 line 10), and to the gradient
// flowing back through it.
type maskLayer struct {
	src  *sparseLayer
	size int
}

func (l maskLayer) name() string                          { return "mask" }
func (l maskLayer) sizes() (int, int)                     { return l.size, l.size }
func (l maskLayer) forward(y, x []float32, _ int, _ bool) { l.apply(y, x) }
func (l maskLayer) backward(dx, dy []float32)             { l.apply(dx, dy) }
func (l maskLayer) Reapply(y, x []float32)                { l.apply(y, x) }
func (l maskLayer) params() []*nn.Param                   { return nil }
func (l maskLayer) buffers() []*nn.Param                  { return nil }

func (l maskLayer) apply(y, x []float32) {
	p := &l.src.pat
	if len(x) != p.Rows*p.Cols || len(y) != len(x) {
		panic(fmt.Sprintf("dsg: mask of %d×%d on %d values", p.Rows, p.Cols, len(x)))
	}
	// Clear the row and copy the kept entries (no comparison per entry);
	// y may be x itself.
	for r := range p.Rows {
		yr, xr := y[r*p.Cols:(r+1)*p.Cols], x[r*p.Cols:(r+1)*p.Cols]
		keep := p.Row(r)
		if &yr[0] == &xr[0] {
			c := 0
			for _, j := range keep {
				clear(yr[c:j])
				c = int(j) + 1
			}
			clear(yr[c:])
			continue
		}
		clear(yr)
		for _, j := range keep {
			yr[j] = xr[j]
		}
	}
}

func growInt32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}
