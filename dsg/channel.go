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
// rows sharing one ascending list of kSel channels, and the layer's live
// inputs.
type channelState struct {
	groups int
	kSel   int
	sel    []int32   // groups×kSel selected channels, ascending per group
	score  []float32 // nK scores of the group being ranked
	idx    []int32
	wsel   []float32 // kSel×dl packed weights of one group, live columns
	bsel   []float32
	ysel   []float32 // rows×kSel packed outputs or output gradients
	gsel   []float32 // kSel×dl packed weight gradient
	// live lists the input channels (conv) or inputs (FC) non-zero
	// somewhere in the batch, nil when all are; cols the matching columns
	// of the lowered matrix, dl their number.
	live  []int32
	cols  []int32
	dl    int
	flags []byte
	xs    []float32 // the searched rows, all inputs
	xl    []float32 // the lowered matrix on the live inputs
	dcl   []float32 // its gradient
	pk    []float32 // the input's live channels, packed
	kept  []bool
	rowID []int32 // the searched rows
}

// keptChannels is the number of channels kept of nK at sparsity γ, at
// least one.
func keptChannels(nK int, gamma float64) int {
	return max(1, nK-int(math.Round(gamma*float64(nK))))
}

// forwardChannel is forward for GranChannel. The search estimates the
// rows that rank the channels (the first sample's with SelectFirst;
// with Sparse.SearchFraction < 1 a strided subset of them), each group
// keeps its top kSel channels by summed ReLU estimate, and one GEMM per
// group computes them from the packed weight rows. Inputs that are zero
// throughout the batch — the channels the previous layer dropped — are
// left out of the lowered matrix and the GEMMs (skipDead).
func (l *sparseLayer) forwardChannel(y, x []float32, n int, train bool) {
	rows, nK := n*l.rowsPer, l.nK
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
	l.findLive(x, n)
	l.lowerLive(x, n)
	t0 := l.now()
	xs, ns := l.searchRows(x, searched, c.groups)
	l.approx = grow(l.approx, ns*nK)
	l.search.estimate(l.pool, l.approx, xs, w.Data, b.Data, ns, train)
	c.kSel = keptChannels(nK, *l.gamma)
	c.sel = growInt32(c.sel, c.groups*c.kSel)
	c.score = grow(c.score, nK)
	c.idx = growInt32(c.idx, nK)
	per := ns / c.groups
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

// searchRows returns the rows the search estimates, all inputs, and
// their number: of searched rows in groups, every stride-th of each
// group, starting at an offset that moves with the iteration.
func (l *sparseLayer) searchRows(x []float32, searched, groups int) ([]float32, int) {
	c, d := &l.ch, l.d
	stride := 1
	if f := l.searchFrac; f > 0 && f < 1 {
		stride = max(1, int(math.Round(1/f)))
	}
	if stride == 1 && c.live == nil {
		return l.x[:searched*d], searched
	}
	per := searched / groups
	stride = min(stride, per)
	off := l.search.iter % stride
	c.rowID = c.rowID[:0]
	for g := range groups {
		for r := off; r < per; r += stride {
			c.rowID = append(c.rowID, int32(g*per+r))
		}
	}
	ns := len(c.rowID)
	c.xs = grow(c.xs, ns*d)
	if l.lin != nil {
		for i, r := range c.rowID {
			copy(c.xs[i*d:(i+1)*d], x[int(r)*d:(int(r)+1)*d])
		}
	} else {
		lowerWindows(l.cv, l.pool, c.xs, x, c.rowID)
	}
	return c.xs, ns
}

// findLive sets c.live, c.cols and c.dl from the inputs non-zero in x.
func (l *sparseLayer) findLive(x []float32, n int) {
	c := &l.ch
	c.live, c.cols, c.dl = c.live[:0], c.cols[:0], l.d
	if !l.skipDead {
		c.live = nil
		return
	}
	ch := l.d // FC: every input is a channel
	if l.cv != nil {
		ch = l.cv.InC
	}
	in, _ := l.sizes()
	if cap(c.flags) < n*ch {
		c.flags = make([]byte, n*ch)
	}
	c.flags = c.flags[:n*ch]
	l.pool.For(n, 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			f := c.flags[s*ch : (s+1)*ch]
			clear(f)
			img := x[s*in : (s+1)*in]
			for p := 0; p < in; p += ch {
				for k, v := range img[p : p+ch] {
					if v != 0 {
						f[k] = 1
					}
				}
			}
		}
	})
	for k := range ch {
		for s := range n {
			if c.flags[s*ch+k] != 0 {
				c.live = append(c.live, int32(k))
				break
			}
		}
	}
	if len(c.live) == ch || len(c.live) == 0 {
		c.live = nil // all live (or none: keep the plain path)
		return
	}
	if l.lin != nil {
		c.cols = append(c.cols, c.live...)
	} else {
		K := l.cv.Kernel
		for rs := range K * K {
			for _, k := range c.live {
				c.cols = append(c.cols, int32(rs*ch)+k)
			}
		}
	}
	c.dl = len(c.cols)
}

// lowerLive sets l.x to the lowered matrix of x on the live inputs
// (rows × dl).
func (l *sparseLayer) lowerLive(x []float32, n int) {
	c := &l.ch
	switch {
	case c.live == nil:
		l.x = l.rowsOf(x, n)
	case l.lin != nil:
		c.xl = grow(c.xl, n*c.dl)
		for s := range n {
			row, src := c.xl[s*c.dl:(s+1)*c.dl], x[s*l.d:(s+1)*l.d]
			for i, k := range c.live {
				row[i] = src[k]
			}
		}
		l.x = c.xl
	default:
		c.xl = grow(c.xl, n*l.rowsPer*c.dl)
		c.pk = grow(c.pk, n*l.cv.InH*l.cv.InW*len(c.live))
		lowerChannels(l.cv, l.pool, c.xl, x, c.pk, n, c.live)
		l.x = c.xl
	}
}

// pack gathers the selected weight rows, on the live columns, and their
// biases into c.wsel, c.bsel.
func (l *sparseLayer) pack(sel []int32) {
	c, d := &l.ch, l.d
	w, b := l.weights()
	c.wsel = grow(c.wsel, len(sel)*c.dl)
	c.bsel = grow(c.bsel, len(sel))
	for i, j := range sel {
		src, dst := w.Data[int(j)*d:(int(j)+1)*d], c.wsel[i*c.dl:(i+1)*c.dl]
		if c.live == nil {
			copy(dst, src)
		} else {
			for q, col := range c.cols {
				dst[q] = src[col]
			}
		}
		c.bsel[i] = b.Data[j]
	}
}

// executeChannel sets y to the selected outputs of l.x, zero elsewhere.
func (l *sparseLayer) executeChannel(y []float32) {
	c, nK, dl := &l.ch, l.nK, l.ch.dl
	rows := l.n * l.rowsPer
	per := rows / c.groups
	clear(y[:rows*nK])
	c.ysel = grow(c.ysel, per*c.kSel)
	for g := range c.groups {
		sel := c.sel[g*c.kSel : (g+1)*c.kSel]
		lo := g * per
		l.pack(sel)
		l.pool.Gemm(false, true, per, c.kSel, dl, 1, l.x[lo*dl:], dl, c.wsel, dl, 0, c.ysel, c.kSel)
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

// keptAnywhere reports, per output channel, whether some group of the
// last forward kept it.
func (l *sparseLayer) keptAnywhere() []bool {
	c := &l.ch
	if cap(c.kept) < l.nK {
		c.kept = make([]bool, l.nK)
	}
	c.kept = c.kept[:l.nK]
	clear(c.kept)
	for _, j := range c.sel[:c.groups*c.kSel] {
		c.kept[j] = true
	}
	return c.kept
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
// gradient (live columns; the others multiply zeros) and one for the
// error sent back to the live inputs. The error of a dead input is left
// zero: it is an output the previous sparse layer dropped, whose
// gradient its mask discards (skipDead is set only where that holds).
func (l *sparseLayer) backwardChannel(dx, dy []float32) {
	c, nK, d, dl := &l.ch, l.nK, l.d, l.ch.dl
	rows := l.pat.Rows
	per := rows / c.groups
	w, b := l.weights()
	var dst []float32
	if dx != nil {
		dst = dx
		if l.cv != nil || c.live != nil {
			c.dcl = grow(c.dcl, rows*dl)
			dst = c.dcl
		}
	}
	c.ysel = grow(c.ysel, per*c.kSel)
	c.gsel = grow(c.gsel, c.kSel*dl)
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
		l.pool.Gemm(true, false, c.kSel, dl, per, 1, ys, c.kSel, l.x[lo*dl:], dl, 0, c.gsel, dl)
		for i, j := range sel {
			gw := w.Grad[int(j)*d : (int(j)+1)*d]
			if c.live == nil {
				kernels.Axpy(1, c.gsel[i*dl:(i+1)*dl], gw)
				continue
			}
			for q, col := range c.cols {
				gw[col] += c.gsel[i*dl+q]
			}
		}
		for r := range per {
			for i, j := range sel {
				b.Grad[j] += ys[r*c.kSel+i]
			}
		}
		if dst != nil {
			l.pack(sel)
			l.pool.Gemm(false, false, per, dl, c.kSel, 1, ys, c.kSel, c.wsel, dl, 0, dst[lo*dl:], dl)
		}
	}
	if dx == nil {
		return
	}
	switch {
	case c.live == nil && l.cv != nil:
		l.cv.Raise(dx, c.dcl, l.n)
	case c.live != nil && l.lin != nil:
		clear(dx)
		for s := range l.n {
			row, src := dx[s*d:(s+1)*d], c.dcl[s*dl:(s+1)*dl]
			for i, k := range c.live {
				row[k] = src[i]
			}
		}
	case c.live != nil:
		c.pk = grow(c.pk, l.n*l.cv.InH*l.cv.InW*len(c.live))
		raiseChannels(l.cv, l.pool, dx, c.dcl, c.pk, l.n, c.live)
	}
}
