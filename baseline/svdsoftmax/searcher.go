package svdsoftmax

import (
	"fmt"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// A Searcher answers queries against a Model at one preview window. It owns
// the preview matrix B[:, :window] and per-query scratch, so it is safe for
// use by one goroutine at a time; use one Searcher per goroutine.
type Searcher struct {
	m      *Model
	p      *kernels.Pool // nil: one thread
	window int
	head   []float32        // B[:, :window] column-major: window×rows
	fill   func(lo, hi int) // s.previewRange, bound once so queries do not allocate
	ht     []float32        // Vᵀ·h
	z      []float32        // mixed logits of the last query
	idx    []int32          // TopK scratch, len rows
	uval   []float32        // values of the per-worker candidate union
	uidx   []int32          // indices of the per-worker candidate union
	sel    []int32          // candidates of the last query
	cval   []float32        // exact logits of the candidates
	cidx   []int32          // TopK scratch over the candidates
	top    []int32          // top-k of the last query
}

// Searcher returns a Searcher with preview width window whose products run
// on p (nil for one thread). Building it copies the first window columns of
// B, rows·window floats. It panics unless 1 <= window <= Cols().
func (m *Model) Searcher(window int, p *kernels.Pool) *Searcher {
	if window < 1 || window > m.cols {
		panic(fmt.Sprintf("svdsoftmax: window %d outside [1,%d]", window, m.cols))
	}
	s := &Searcher{m: m, p: p, window: window,
		ht: make([]float32, m.cols), z: make([]float32, m.rows), idx: make([]int32, m.rows)}
	s.head = make([]float32, m.rows*window)
	for r := range m.rows {
		for j, v := range m.bm[r*m.cols : r*m.cols+window] {
			s.head[j*m.rows+r] = v
		}
	}
	s.fill = s.previewRange
	return s
}

// previewBlock is the number of classes whose preview logits are summed
// together: 8 KiB of z stays in L1 while the window's columns stream by.
const previewBlock = 2048

// previewRange sets z[r] = B[r, :window]·h̃[:window] + b[r] for r in
// [lo, hi). The preview matrix is column-major so that this is a sequence
// of AXPYs over contiguous columns: a preview row is only a few floats
// wide, and a row-wise GEMV would pay its per-row overhead on every class
// (3.5× slower at window 4, equal from window 16 up, on this machine).
func (s *Searcher) previewRange(lo, hi int) {
	rows, bias := s.m.rows, s.m.bias
	for r0 := lo; r0 < hi; r0 += previewBlock {
		r1 := min(hi, r0+previewBlock)
		z := s.z[r0:r1]
		if bias != nil {
			copy(z, bias[r0:r1])
		} else {
			clear(z)
		}
		for j, a := range s.ht[:s.window] {
			kernels.Axpy(a, s.head[j*rows+r0:j*rows+r1], z)
		}
	}
}

// previewGrain is the rows per pool task: enough to read about 256 KiB of
// the preview matrix, in whole blocks.
func (s *Searcher) previewGrain() int {
	g := max(1, (256<<10)/(4*s.window))
	return (g + previewBlock - 1) / previewBlock * previewBlock
}

// Window returns the preview width.
func (s *Searcher) Window() int { return s.window }

// Query runs SVD-softmax on the input h with n candidates: it computes the
// preview logits of every class, selects the n largest, and recomputes those
// exactly. It returns the candidates in unspecified order; both the result
// and Logits alias the Searcher's scratch and are valid until the next call.
// It returns an error wrapping clsmetrics.ErrNaN if h is not finite and
// panics if len(h) != Cols() or n is outside [1, Rows()].
func (s *Searcher) Query(h []float32, n int) ([]int32, error) {
	m := s.m
	if len(h) != m.cols {
		panic(fmt.Sprintf("svdsoftmax: len(h)=%d != cols=%d", len(h), m.cols))
	}
	if n < 1 || n > m.rows {
		panic(fmt.Sprintf("svdsoftmax: n=%d candidates outside [1,%d]", n, m.rows))
	}
	if err := clsmetrics.CheckFinite(h); err != nil {
		return nil, fmt.Errorf("svdsoftmax: h: %w", err)
	}
	kernels.Gemv(s.ht, m.vt, m.cols, h, nil)
	s.p.For(m.rows, s.previewGrain(), s.fill)
	s.sel = s.selectTop(n)
	if s.window < m.cols {
		s.p.GemvGather(s.z, m.bm, m.cols, s.ht, m.bias, s.sel)
	}
	return s.sel, nil
}

// TopK runs Query and returns the k candidates with the largest exact
// logits, by descending logit (ties by smaller index). The result aliases
// the Searcher's scratch. It panics if k is outside [1, n].
func (s *Searcher) TopK(h []float32, n, k int) ([]int32, error) {
	if k < 1 || k > n {
		panic(fmt.Sprintf("svdsoftmax: k=%d outside [1,n=%d]", k, n))
	}
	cand, err := s.Query(h, n)
	if err != nil {
		return nil, err
	}
	// Select among the candidates' exact logits, then sort only the k.
	s.cval = s.cval[:0]
	for _, c := range cand {
		s.cval = append(s.cval, s.z[c])
	}
	if cap(s.cidx) < n {
		s.cidx = make([]int32, n)
	}
	sel, _ := kernels.TopK(s.cidx[:n], s.cval, k, false)
	s.top = s.top[:0]
	for _, j := range sel {
		s.top = append(s.top, cand[j])
	}
	clsmetrics.SortByScore(s.top, s.z)
	return s.top, nil
}

// Logits returns the mixed logits of the last query: exact for its
// candidates, preview elsewhere, as SVD-softmax feeds them to softmax. The
// slice aliases the Searcher's scratch.
func (s *Searcher) Logits() []float32 { return s.z }

// parallelTopKMin is the class count below which splitting the candidate
// selection across workers does not pay for the hand-off.
const parallelTopKMin = 1 << 16

// selectTop returns the indices of the n largest entries of s.z. With a
// pool it selects n per worker over contiguous slices and then n from the
// union, which is exact: every global top-n entry is in its slice's top-n.
func (s *Searcher) selectTop(n int) []int32 {
	rows := s.m.rows
	w := s.p.Workers()
	if w == 1 || rows < parallelTopKMin || n*w > rows/4 {
		sel, _ := kernels.TopK(s.idx, s.z, n, false)
		return sel
	}
	if cap(s.uidx) < w*n {
		s.uidx = make([]int32, w*n)
		s.uval = make([]float32, w*n)
	}
	uidx, uval := s.uidx[:w*n], s.uval[:w*n]
	s.p.For(w, 1, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			a, b := j*rows/w, (j+1)*rows/w
			sel, _ := kernels.TopK(s.idx[a:b], s.z[a:b], n, false)
			for k, r := range sel {
				uidx[j*n+k] = r + int32(a)
				uval[j*n+k] = s.z[int(r)+a]
			}
		}
	})
	// s.idx is free again: the union is in uidx.
	sel, _ := kernels.TopK(s.idx, uval, n, false)
	for k, u := range sel {
		sel[k] = uidx[u]
	}
	return sel
}
