package dsg

import (
	"math"
	"slices"

	"github.com/elasticml/elastic/kernels"
)

// Mask granularities: what one top-k selection chooses.
const (
	// GranElement selects outputs element by element: each FC sample or
	// conv window keeps its own neurons (Figure 4.3b, vector-wise
	// sparsity), executed row by row.
	GranElement = "element"
	// GranChannel selects whole output channels (FC neurons) for a group
	// of rows — the batch with SelectFirst or SelectBatch, each sample
	// with SelectPerSample — so a group runs as dense GEMMs over its
	// selected weight rows only: forward, error back-propagation and
	// weight gradient.
	GranChannel = "channel"
)

// SelectBatch ranks channels by their estimates summed over the whole
// batch (GranChannel only).
const SelectBatch = "batch"

// channelState is a sparse layer's output-channel selection: groups of
// rows sharing one ascending list of kSel channels.
type channelState struct {
	groups int
	kSel   int
	sel    []int32   // groups×kSel selected channels, ascending per group
	score  []float32 // nK scores of the group being ranked
	idx    []int32
	wsel   []float32 // kSel×d packed weight rows of one group
	bsel   []float32
	ysel   []float32 // rows×kSel packed outputs or output gradients
	gsel   []float32 // kSel×d packed weight gradient
}

// keptChannels is the number of channels kept of nK at sparsity γ, at
// least one.
func keptChannels(nK int, gamma float64) int {
	return max(1, nK-int(math.Round(gamma*float64(nK))))
}

// forwardChannel is forward for GranChannel: the search estimates the
// rows that rank the channels (only the first sample's with
// SelectFirst), each group keeps its top kSel channels by summed ReLU
// estimate, and executes one GEMM on the packed weight rows.
func (l *sparseLayer) forwardChannel(y []float32, n int, train bool) {
	rows, nK, d := n*l.rowsPer, l.nK, l.d
	w, b := l.weights()
	c := &l.ch
	c.groups = 1
	searched := rows
	switch l.selMode {
	case SelectFirst:
		searched = l.rowsPer
	case SelectPerSample:
		c.groups = n
	}
	t0 := l.now()
	l.approx = grow(l.approx, searched*nK)
	l.search.estimate(l.pool, l.approx, l.x[:searched*d], w.Data, b.Data, searched, train)
	c.kSel = keptChannels(nK, *l.gamma)
	c.sel = growInt32(c.sel, c.groups*c.kSel)
	c.score = grow(c.score, nK)
	c.idx = growInt32(c.idx, nK)
	per := searched / c.groups
	for g := range c.groups {
		clear(c.score)
		for r := g * per; r < (g+1)*per; r++ {
			for j, a := range l.approx[r*nK : (r+1)*nK] {
				if a > 0 {
					c.score[j] += a
				}
			}
		}
		s, _ := kernels.TopK(c.idx, c.score, c.kSel, false)
		dst := c.sel[g*c.kSel : (g+1)*c.kSel]
		copy(dst, s)
		slices.Sort(dst)
	}
	l.since(t0)
	l.executeChannel(y)
	l.channelPattern(rows)
}

// pack gathers the selected weight rows and biases into c.wsel, c.bsel.
func (l *sparseLayer) pack(sel []int32) {
	c, d := &l.ch, l.d
	w, b := l.weights()
	c.wsel = grow(c.wsel, len(sel)*d)
	c.bsel = grow(c.bsel, len(sel))
	for i, j := range sel {
		copy(c.wsel[i*d:(i+1)*d], w.Data[int(j)*d:(int(j)+1)*d])
		c.bsel[i] = b.Data[j]
	}
}

// executeChannel sets y to the selected outputs of l.x, zero elsewhere.
func (l *sparseLayer) executeChannel(y []float32) {
	c, nK, d := &l.ch, l.nK, l.d
	rows := l.n * l.rowsPer
	per := rows / c.groups
	clear(y[:rows*nK])
	c.ysel = grow(c.ysel, per*c.kSel)
	for g := range c.groups {
		sel := c.sel[g*c.kSel : (g+1)*c.kSel]
		lo := g * per
		l.pack(sel)
		l.pool.Gemm(false, true, per, c.kSel, d, 1, l.x[lo*d:], d, c.wsel, d, 0, c.ysel, c.kSel)
		l.forRange(per, func(a, b int) {
			for r := a; r < b; r++ {
				src, dst := c.ysel[r*c.kSel:(r+1)*c.kSel], y[(lo+r)*nK:(lo+r+1)*nK]
				for i, j := range sel {
					dst[j] = src[i] + c.bsel[i]
				}
			}
		})
	}
}

// channelPattern records the selection as l.pat: every row of a group
// keeps its group's channels.
func (l *sparseLayer) channelPattern(rows int) {
	c, p := &l.ch, &l.pat
	per := rows / c.groups
	p.Rows, p.Cols, p.Block = rows, l.nK, 1
	p.Ptr = growInt32(p.Ptr, rows+1)
	p.Idx = growInt32(p.Idx, rows*c.kSel)
	for r := range rows {
		p.Ptr[r+1] = int32((r + 1) * c.kSel)
		copy(p.Idx[r*c.kSel:(r+1)*c.kSel], c.sel[(r/per)*c.kSel:])
	}
	p.Ptr[0] = 0
}

// backwardChannel is backward for GranChannel: per group, the selected
// columns of dy packed, one GEMM for the selected rows of the weight
// gradient and one for the error sent back; unselected weight rows are
// not touched.
func (l *sparseLayer) backwardChannel(dx, dy []float32) {
	c, nK, d := &l.ch, l.nK, l.d
	rows := l.pat.Rows
	per := rows / c.groups
	w, b := l.weights()
	var dst []float32
	if dx != nil {
		dst = dx
		if l.cv != nil {
			l.dcols = grow(l.dcols, rows*d)
			dst = l.dcols
		}
	}
	c.ysel = grow(c.ysel, per*c.kSel)
	c.gsel = grow(c.gsel, c.kSel*d)
	for g := range c.groups {
		sel := c.sel[g*c.kSel : (g+1)*c.kSel]
		lo := g * per
		l.forRange(per, func(a, b int) {
			for r := a; r < b; r++ {
				src, out := dy[(lo+r)*nK:(lo+r+1)*nK], c.ysel[r*c.kSel:(r+1)*c.kSel]
				for i, j := range sel {
					out[i] = src[j]
				}
			}
		})
		ys := c.ysel[:per*c.kSel]
		l.pool.Gemm(true, false, c.kSel, d, per, 1, ys, c.kSel, l.x[lo*d:], d, 0, c.gsel, d)
		for i, j := range sel {
			kernels.Axpy(1, c.gsel[i*d:(i+1)*d], w.Grad[int(j)*d:(int(j)+1)*d])
		}
		for r := range per {
			for i, j := range sel {
				b.Grad[j] += ys[r*c.kSel+i]
			}
		}
		if dst != nil {
			l.pack(sel)
			l.pool.Gemm(false, false, per, d, c.kSel, 1, ys, c.kSel, c.wsel, d, 0, dst[lo*d:], d)
		}
	}
	if dx != nil && l.cv != nil {
		l.cv.Raise(dx, l.dcols, l.n)
	}
}
