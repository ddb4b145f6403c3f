package hnsw

import (
	"cmp"
	"slices"

	"github.com/elasticml/elastic/kernels"
)

// Batch sizes: a batch is at most 1/batchDiv of the graph built so far,
// so a new node misses few of its true neighbours among its batch-mates,
// and at most maxBatch nodes, so the link requests stay small.
const (
	batchDiv = 32
	maxBatch = 1024
)

// linkReq asks to add a link target → src on layer lc.
type linkReq struct {
	target, src int32
	lc          uint8
}

// build inserts nodes 1..rows-1 into the graph holding node 0.
func (x *Index) build(p *kernels.Pool) {
	x.entry, x.top = 0, int(x.level[0])
	free := make(chan *scratch, p.Workers())
	for range p.Workers() {
		free <- x.newScratch()
	}
	var reqs []linkReq
	for lo := 1; lo < x.rows; {
		hi := min(x.rows, lo+max(1, min(maxBatch, lo/batchDiv)))
		// Phase 1: each new node finds its neighbours in the old graph and
		// writes its own link blocks; nothing else is written.
		p.For(hi-lo, 1, func(a, b int) {
			sc := <-free
			for i := lo + a; i < lo+b; i++ {
				x.link(sc, int32(i))
			}
			free <- sc
		})
		// Phase 2: reverse links, grouped by target so that each group
		// writes only its target's block.
		reqs = reqs[:0]
		for i := lo; i < hi; i++ {
			for lc := 0; lc <= min(int(x.level[i]), x.top); lc++ {
				for _, e := range x.neighbors(int32(i), lc) {
					reqs = append(reqs, linkReq{e, int32(i), uint8(lc)})
				}
			}
		}
		slices.SortFunc(reqs, func(a, b linkReq) int {
			if c := cmp.Compare(a.lc, b.lc); c != 0 {
				return c
			}
			if c := cmp.Compare(a.target, b.target); c != 0 {
				return c
			}
			return cmp.Compare(a.src, b.src)
		})
		var starts []int
		for k := range reqs {
			if k == 0 || reqs[k].target != reqs[k-1].target || reqs[k].lc != reqs[k-1].lc {
				starts = append(starts, k)
			}
		}
		starts = append(starts, len(reqs))
		p.For(len(starts)-1, 16, func(a, b int) {
			sc := <-free
			for g := a; g < b; g++ {
				x.addLinks(sc, reqs[starts[g]:starts[g+1]])
			}
			free <- sc
		})
		for i := lo; i < hi; i++ {
			if int(x.level[i]) > x.top {
				x.entry, x.top = int32(i), int(x.level[i])
			}
		}
		lo = hi
	}
}

// link finds node i's neighbours on each of its layers present in the graph
// and writes them to i's link blocks.
func (x *Index) link(sc *scratch, i int32) {
	q, qs := x.row(i), x.ippt(i)
	ep := item{x.score(q, qs, x.entry), x.entry}
	li := int(x.level[i])
	for lc := x.top; lc > li; lc-- {
		ep = x.greedy(q, qs, ep, lc)
	}
	sc.res = append(sc.res[:0], ep)
	for lc := min(li, x.top); lc >= 0; lc-- {
		x.searchLayer(sc, q, qs, x.efc, lc)
		sc.sel = append(sc.sel[:0], sc.res...)
		sortDesc(sc.sel)
		bl := x.block(i, lc)
		bl[0] = int32(len(x.selectNeighbors(bl[1:1:len(bl)], sc.sel, x.m)))
		// The layer's results seed the search one layer down.
	}
}

// addLinks adds the links of reqs, which share one target and layer, and
// prunes the target's list with the heuristic if it overflows.
func (x *Index) addLinks(sc *scratch, reqs []linkReq) {
	t, lc := reqs[0].target, int(reqs[0].lc)
	bl := x.block(t, lc)
	room := len(bl) - 1
	n := int(bl[0])
	if n+len(reqs) <= room {
		for _, r := range reqs {
			bl[1+n] = r.src
			n++
		}
		bl[0] = int32(n)
		return
	}
	sc.sel = sc.sel[:0]
	for _, e := range bl[1 : 1+n] {
		sc.sel = append(sc.sel, item{x.simNodes(t, e), e})
	}
	for _, r := range reqs {
		sc.sel = append(sc.sel, item{x.simNodes(t, r.src), r.src})
	}
	sortDesc(sc.sel)
	bl[0] = int32(len(x.selectNeighbors(bl[1:1:len(bl)], sc.sel, room)))
}
