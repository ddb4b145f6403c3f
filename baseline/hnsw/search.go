package hnsw

import (
	"fmt"

	"github.com/elasticml/elastic/clsmetrics"
)

// A Searcher answers top-k queries against an Index. It owns per-query
// scratch (a visited mark per class among it), so it is safe for use by one
// goroutine at a time; use one Searcher per goroutine. A query runs on one
// thread: the graph walk is sequential.
type Searcher struct {
	x      *Index
	sc     *scratch
	ids    []int32
	logits []float32
}

// Searcher returns a new Searcher over x.
func (x *Index) Searcher() *Searcher { return &Searcher{x: x, sc: x.newScratch()} }

// Search returns the k classes with the largest logits w_i·h + b_i among
// the nodes visited by a search with candidate list size max(ef, k), by
// descending logit (ties by smaller index), with their exact logits. Both
// slices alias the Searcher's scratch and are valid until the next call;
// fewer than k are returned only if the graph has fewer nodes. It returns an
// error wrapping clsmetrics.ErrNaN if h is not finite and panics if
// len(h) != Cols(), k < 1 or ef < 1.
func (s *Searcher) Search(h []float32, k, ef int) (ids []int32, logits []float32, err error) {
	x, sc := s.x, s.sc
	if len(h) != x.cols {
		panic(fmt.Sprintf("hnsw: len(h)=%d != cols=%d", len(h), x.cols))
	}
	if k < 1 || ef < 1 {
		panic(fmt.Sprintf("hnsw: Search k=%d ef=%d, want both >= 1", k, ef))
	}
	if err := clsmetrics.CheckFinite(h); err != nil {
		return nil, nil, fmt.Errorf("hnsw: h: %w", err)
	}
	// q = (h, 1): the bias is the last coordinate of every row, and the
	// query's IPPT coordinate is zero, so scores are exact logits.
	q := sc.q
	copy(q, h)
	q[x.cols] = 1
	ep := item{x.score(q, 0, x.entry), x.entry}
	for lc := x.top; lc > 0; lc-- {
		ep = x.greedy(q, 0, ep, lc)
	}
	sc.res = append(sc.res[:0], ep)
	x.searchLayer(sc, q, 0, max(ef, k), 0)
	sc.sel = append(sc.sel[:0], sc.res...)
	sortDesc(sc.sel)
	s.ids, s.logits = s.ids[:0], s.logits[:0]
	for _, it := range sc.sel[:min(k, len(sc.sel))] {
		s.ids = append(s.ids, it.id)
		s.logits = append(s.logits, it.sim)
	}
	return s.ids, s.logits, nil
}
