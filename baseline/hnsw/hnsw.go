package hnsw

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// Config fixes the shape of the graph.
type Config struct {
	// M is the number of links kept per node on the upper layers; the
	// bottom layer keeps 2M. Zero means 16.
	M int
	// EfConstruction is the candidate list size while inserting; larger
	// builds slower and searches better. Zero means 100.
	EfConstruction int
	// Seed draws the node levels.
	Seed uint64
	// IPPT builds the graph on Euclidean distances after the inner-product
	// preserving transformation, as FGD does, instead of on inner products
	// directly. See the package documentation for why it is off by default.
	IPPT bool
}

// maxLevel caps node levels; with M >= 2 a level above 30 has probability
// below 2^-30 per node.
const maxLevel = 30

// maxM bounds Config.M, here and in files read by Load, where it keeps the
// bottom layer's link storage within 2 KiB per node.
const maxM = 256

func (c Config) withDefaults() Config {
	if c.M == 0 {
		c.M = 16
	}
	if c.EfConstruction == 0 {
		c.EfConstruction = 100
	}
	return c
}

// An Index is an HNSW graph over the rows of a classifier. It is immutable
// after Build or Load and safe for concurrent use; queries go through a
// Searcher, which owns the per-query scratch.
type Index struct {
	rows, cols, dim int // dim = cols+1: the bias is the last coordinate
	m, m0, efc      int
	seed            uint64
	x               []float32 // rows×dim: (w_i, b_i)
	s               []float32 // √(R² − ‖x_i‖²), the IPPT coordinate; nil without IPPT
	level           []uint8
	links0          []int32 // rows×(m0+1) blocks: count, then neighbours
	upOff           []int32 // start of node i's layer-1 block in upper, or -1
	upper           []int32 // blocks of m+1 for layers 1..level[i] of each node
	entry           int32
	top             int // level of entry
}

// Build indexes the rows of the classifier W (rows×cols, row-major) with
// bias b (nil for none), inserting on p (nil for one thread). The index keeps
// its own copy of the rows, extended by the bias. It returns an
// error wrapping clsmetrics.ErrNaN if W or b holds a NaN or infinite value.
// It panics if the shapes disagree or the Config is out of range.
func Build(p *kernels.Pool, w, b []float32, rows, cols int, cfg Config) (*Index, error) {
	cfg = cfg.withDefaults()
	if cfg.M < 2 || cfg.M > maxM || cfg.EfConstruction < 1 {
		panic(fmt.Sprintf("hnsw: Build bad Config %+v", cfg))
	}
	x, err := newIndex(w, b, rows, cols, cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x68_6e_73_77))
	ml := 1 / math.Log(float64(cfg.M))
	for i := range x.level {
		x.level[i] = uint8(min(maxLevel, int(-math.Log(1-rng.Float64())*ml)))
	}
	x.allocLinks()
	x.build(p)
	return x, nil
}

// newIndex validates the classifier and sets up everything but the links.
func newIndex(w, b []float32, rows, cols int, cfg Config) (*Index, error) {
	if rows < 1 || cols < 1 || rows > math.MaxInt32 || len(w) != rows*cols || (b != nil && len(b) != rows) {
		panic(fmt.Sprintf("hnsw: bad shape: len(w)=%d rows=%d cols=%d len(b)=%d", len(w), rows, cols, len(b)))
	}
	if err := clsmetrics.CheckFinite(w); err != nil {
		return nil, fmt.Errorf("hnsw: W: %w", err)
	}
	if err := clsmetrics.CheckFinite(b); err != nil {
		return nil, fmt.Errorf("hnsw: b: %w", err)
	}
	dim := cols + 1
	x := &Index{rows: rows, cols: cols, dim: dim, m: cfg.M, m0: 2 * cfg.M, efc: cfg.EfConstruction,
		seed: cfg.Seed, x: kernels.Make[float32](rows * dim), level: make([]uint8, rows)}
	norm2 := make([]float64, rows)
	var r2 float64
	for i := range rows {
		row := x.x[i*dim : (i+1)*dim]
		copy(row, w[i*cols:(i+1)*cols])
		if b != nil {
			row[cols] = b[i]
		}
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		norm2[i] = s
		r2 = max(r2, s)
	}
	if cfg.IPPT {
		x.s = make([]float32, rows)
		for i, n2 := range norm2 {
			x.s[i] = float32(math.Sqrt(max(0, r2-n2)))
		}
	}
	return x, nil
}

// allocLinks sizes the link arrays from the levels.
func (x *Index) allocLinks() {
	x.links0 = make([]int32, x.rows*(x.m0+1))
	x.upOff = make([]int32, x.rows)
	n := 0
	for i, l := range x.level {
		x.upOff[i] = -1
		if l > 0 {
			x.upOff[i] = int32(n)
			n += int(l) * (x.m + 1)
		}
	}
	x.upper = make([]int32, n)
}

// block returns node i's link block on layer lc: a count then room for the
// layer's maximum number of neighbours.
func (x *Index) block(i int32, lc int) []int32 {
	if lc == 0 {
		return x.links0[int(i)*(x.m0+1) : (int(i)+1)*(x.m0+1)]
	}
	o := int(x.upOff[i]) + (lc-1)*(x.m+1)
	return x.upper[o : o+x.m+1]
}

// neighbors returns node i's neighbours on layer lc.
func (x *Index) neighbors(i int32, lc int) []int32 {
	bl := x.block(i, lc)
	return bl[1 : 1+bl[0]]
}

func (x *Index) row(i int32) []float32 { return x.x[int(i)*x.dim : (int(i)+1)*x.dim] }

// simNodes is the similarity of nodes i and j that building maximises: the
// inner product x_i·x_j, or with IPPT x̂_i·x̂_j, a decreasing function of
// their Euclidean distance: ‖x̂_i − x̂_j‖² = 2R² − 2·x̂_i·x̂_j.
func (x *Index) simNodes(i, j int32) float32 {
	return x.score(x.row(i), x.ippt(i), j)
}

// ippt returns node i's IPPT coordinate, or 0 without IPPT.
func (x *Index) ippt(i int32) float32 {
	if x.s == nil {
		return 0
	}
	return x.s[i]
}

// Rows returns the number of indexed classes.
func (x *Index) Rows() int { return x.rows }

// Cols returns the hidden dimension of the classifier.
func (x *Index) Cols() int { return x.cols }

// Config returns the configuration the graph was built with.
func (x *Index) Config() Config {
	return Config{M: x.m, EfConstruction: x.efc, Seed: x.seed, IPPT: x.s != nil}
}

// Links returns the number of directed links on all layers, a measure of
// the graph's size.
func (x *Index) Links() int {
	n := 0
	for i := range x.rows {
		for lc := 0; lc <= int(x.level[i]); lc++ {
			n += int(x.block(int32(i), lc)[0])
		}
	}
	return n
}

// item is a node with its similarity to the current query.
type item struct {
	sim float32
	id  int32
}

// minHeap is a binary heap of items with the smallest sim on top; the
// candidate queue stores negated sims to pop the largest first.
type minHeap []item

func (h *minHeap) push(it item) {
	*h = append(*h, it)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].sim <= a[i].sim {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *minHeap) pop() item {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && a[r].sim < a[l].sim {
			l = r
		}
		if a[i].sim <= a[l].sim {
			break
		}
		a[i], a[l] = a[l], a[i]
		i = l
	}
	*h = a
	return top
}

// scratch is the per-goroutine state of a graph search.
type scratch struct {
	visited []uint32
	stamp   uint32
	cand    minHeap // negated sims: best candidate on top
	res     minHeap // worst kept result on top
	sel     []item
	q       []float32
	batch   []int32 // a node's unvisited neighbours
}

func (x *Index) newScratch() *scratch {
	return &scratch{visited: make([]uint32, x.rows), q: make([]float32, x.dim)}
}

func (sc *scratch) nextStamp() {
	sc.stamp++
	if sc.stamp == 0 {
		clear(sc.visited)
		sc.stamp = 1
	}
}

// score is the similarity of the query (q, qs) to node j: the exact logit
// when qs = 0 (a classification query, or any query without IPPT), the
// IPPT similarity when (q, qs) is a node's own augmented row.
func (x *Index) score(q []float32, qs float32, j int32) float32 {
	d := kernels.Dot(q, x.row(j))
	if qs != 0 {
		d += qs * x.s[j]
	}
	return d
}

// greedy climbs layer lc from ep to a local maximum of the score.
func (x *Index) greedy(q []float32, qs float32, ep item, lc int) item {
	for changed := true; changed; {
		changed = false
		for _, e := range x.neighbors(ep.id, lc) {
			if s := x.score(q, qs, e); s > ep.sim {
				ep, changed = item{s, e}, true
			}
		}
	}
	return ep
}

// searchLayer runs the beam search of HNSW on layer lc from the entry points
// in sc.res and leaves the best ef nodes found in sc.res (a heap).
func (x *Index) searchLayer(sc *scratch, q []float32, qs float32, ef, lc int) {
	sc.nextStamp()
	sc.cand = sc.cand[:0]
	for _, it := range sc.res {
		sc.visited[it.id] = sc.stamp
		sc.cand.push(item{-it.sim, it.id})
	}
	for len(sc.cand) > 0 {
		c := sc.cand.pop()
		if -c.sim < sc.res[0].sim && len(sc.res) >= ef {
			break
		}
		// The unvisited neighbours' rows are requested together before
		// any is scored: each is a DRAM access in a large index, and
		// issuing them at once overlaps their latencies (hnswlib prefetches
		// the next neighbour's row for the same reason).
		sc.batch = sc.batch[:0]
		for _, e := range x.neighbors(c.id, lc) {
			if sc.visited[e] == sc.stamp {
				continue
			}
			sc.visited[e] = sc.stamp
			sc.batch = append(sc.batch, e)
			kernels.Prefetch(x.row(e), prefetchLines)
		}
		for _, e := range sc.batch {
			s := x.score(q, qs, e)
			if len(sc.res) < ef || s > sc.res[0].sim {
				sc.cand.push(item{-s, e})
				sc.res.push(item{s, e})
				if len(sc.res) > ef {
					sc.res.pop()
				}
			}
		}
	}
}

// prefetchLines is how many cache lines of each neighbour's row a search
// step prefetches.
var prefetchLines = kernels.PrefetchLines

// sortDesc sorts items by descending sim, ties by id, so results are
// deterministic.
func sortDesc(a []item) {
	slices.SortFunc(a, func(p, q item) int {
		if c := cmp.Compare(q.sim, p.sim); c != 0 {
			return c
		}
		return cmp.Compare(p.id, q.id)
	})
}

// selectNeighbors applies the HNSW heuristic to cand (sorted by descending
// similarity to the base node): a candidate is kept only if it is closer to
// the base than to every candidate kept before it, which spreads links over
// directions instead of clustering them. It keeps at most m and returns
// the kept ids in dst.
func (x *Index) selectNeighbors(dst []int32, cand []item, m int) []int32 {
	dst = dst[:0]
	for _, c := range cand {
		if len(dst) == m {
			break
		}
		ok := true
		for _, r := range dst {
			if x.simNodes(c.id, r) > c.sim {
				ok = false
				break
			}
		}
		if ok {
			dst = append(dst, c.id)
		}
	}
	return dst
}
