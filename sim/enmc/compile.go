package enmc

import (
	"fmt"

	"github.com/elasticml/elastic/sim/dram"
)

// Layout is where one rank keeps its share of a task, in rank-local byte
// addresses: the screener rows (INT4, k/2 bytes each, laid out in load
// order), the classifier rows (FP32, 4·dim bytes each), the batch's INT4
// projected features and FP32 features.
type Layout struct {
	// The rank's Rows classes are First + i·Stride for local row i.
	First, Stride, Rows int
	Screener            uint64
	Classifier          uint64
	FeatINT4, FeatFP32  uint64
	End                 uint64
	RowBytes            uint64 // an FP32 row (classifier or feature), padded to whole bursts
}

// Plan is a rank's compiled work: the host's instruction stream and what
// the instruction generator needs to expand each TRANSLATE.
type Plan struct {
	Rank    int
	Layout  Layout
	Program []Inst
	// Sizes[i] is the bytes Program[i] loads when it is an LDR and the
	// entries it covers when it is a FILTER or SOFTMAX, 0 otherwise: the
	// hardware derives them from its status registers (rows, k, dim) and
	// buffer size, so they are not in the encoding.
	Sizes []int
	// Groups[g] lists, per batch item, the candidate rows (rank-local)
	// that the g-th FILTER passes: the trace's candidate sets.
	Groups [][][]int32
	// GroupRows is the rows one FILTER covers (partial sums per buffer /
	// batch).
	GroupRows int
	// KChunk is the INT4 features per item one feature-buffer load holds.
	KChunk int
}

func align(x, a uint64) uint64 { return (x + a - 1) / a * a }

// Compile splits task's classes over cfg's ranks (by cfg.Partition) and
// returns each rank's plan. The screening loop, per group of rows whose
// partial sums fill the PSUM buffer: load the features' k-chunk (once,
// when all of k fits), stream the group's screener weights through the
// weight buffer with a MUL_ADD_INT4 per buffer load, FILTER, TRANSLATE.
func Compile(task *Task, cfg Config) ([]*Plan, error) {
	g, err := newGeometry(task, cfg)
	if err != nil {
		return nil, err
	}
	plans := make([]*Plan, cfg.Ranks())
	for r := range plans {
		if plans[r], err = g.rank(r); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// geometry is what every rank's plan shares.
type geometry struct {
	task      *Task
	cfg       Config
	kc        int // INT4 features per item per feature load
	chunks    int // feature loads per group (k / kc, rounded up)
	groupRows int // rows per FILTER
	capacity  uint64
}

func newGeometry(task *Task, cfg Config) (*geometry, error) {
	if err := task.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	buf := cfg.BufferBytes
	psumEntries := buf / 4 // 32-bit partial sums
	if task.Batch > psumEntries {
		return nil, fmt.Errorf("enmc: batch %d above the %d partial sums a %d-byte PSUM buffer holds", task.Batch, psumEntries, buf)
	}
	if task.Batch*2 > buf {
		return nil, fmt.Errorf("enmc: batch %d does not fit the feature buffer", task.Batch)
	}
	kc := min(task.K, buf*2/task.Batch&^1) // even
	o := dram.Table63()
	o.Channels, o.Ranks = 1, 1
	return &geometry{task: task, cfg: cfg, kc: kc, chunks: (task.K + kc - 1) / kc,
		groupRows: psumEntries / task.Batch, capacity: uint64(o.CapacityBytes())}, nil
}

// rank compiles rank r's plan; it refuses a share that does not fit the
// rank's DRAM before emitting anything.
func (g *geometry) rank(r int) (*Plan, error) {
	task, cfg, buf := g.task, g.cfg, g.cfg.BufferBytes
	R := cfg.Ranks()
	var lay Layout
	switch cfg.Partition {
	case Contiguous:
		first := int(int64(task.Classes) * int64(r) / int64(R))
		lay = Layout{First: first, Stride: 1, Rows: int(int64(task.Classes)*int64(r+1)/int64(R)) - first}
	default:
		lay = Layout{First: r, Stride: R, Rows: max(0, (task.Classes-r+R-1)/R)}
	}
	rows := lay.Rows
	lay.Classifier = align(uint64(rows)*(uint64(task.K+1)/2), 8192)
	lay.RowBytes = align(uint64(task.Dim)*4, 64) // FP32 rows start on bursts
	lay.FeatINT4 = align(lay.Classifier+uint64(rows)*lay.RowBytes, 8192)
	lay.FeatFP32 = align(lay.FeatINT4+uint64(task.Batch)*(uint64(task.K+1)/2), 8192)
	lay.End = lay.FeatFP32 + uint64(task.Batch)*lay.RowBytes
	if lay.End > g.capacity {
		return nil, fmt.Errorf("enmc: rank %d needs %d bytes, a rank holds %d", r, lay.End, g.capacity)
	}
	local := localCandidates(task, lay)
	kc, chunks, G := g.kc, g.chunks, g.groupRows
	p := &Plan{Rank: r, Layout: lay, GroupRows: G, KChunk: kc}
	prog := []Inst{
		{Op: Clr},
		{Op: Init, Reg: 0, Data: uint64(task.Batch)},
		{Op: Init, Reg: 1, Data: uint64(rows)},
		{Op: Init, Reg: 2, Data: uint64(task.K)},
		{Op: Init, Reg: 3, Data: uint64(task.Dim)},
		{Op: Init, Reg: 4, Data: lay.Screener},
		{Op: Init, Reg: 5, Data: lay.Classifier},
		{Op: Init, Reg: 6, Data: lay.FeatFP32},
	}
	sizes := make([]int, len(prog))
	emit := func(in Inst, bytes uint64) {
		prog = append(prog, in)
		sizes = append(sizes, int(bytes))
	}
	featBytes := uint64(task.Batch) * (uint64(kc+1) / 2)
	if chunks == 1 {
		emit(Inst{Op: LDR, A: FeatINT4, Data: lay.FeatINT4}, featBytes)
	}
	w := lay.Screener
	for g0 := 0; g0 < rows; g0 += G {
		gr := min(G, rows-g0)
		for c := range chunks {
			width := min(kc, task.K-c*kc)
			if chunks > 1 {
				emit(Inst{Op: LDR, A: FeatINT4, Data: lay.FeatINT4 + uint64(c)*featBytes}, uint64(task.Batch)*(uint64(width+1)/2))
			}
			for left := uint64(gr) * (uint64(width+1) / 2); left > 0; {
				n := min(left, uint64(buf)-w%64) // end on a burst boundary: the tile fits the buffer's slots
				ld := Inst{Op: LDR, A: WeightINT4, Data: w}
				if cfg.StreamLoads && w != lay.Screener { // the weights are read in layout order
					ld = Inst{Op: LDR, A: WeightINT4, Next: true}
				}
				emit(ld, n)
				emit(Inst{Op: MulAddINT4, A: FeatINT4, B: WeightINT4}, 0)
				w += n
				left -= n
			}
		}
		emit(Inst{Op: Filter, A: PsumINT4}, uint64(gr*task.Batch))
		emit(Inst{Op: Translate, A: IndexBuf}, 0)
		p.Groups = append(p.Groups, groupRows(local, g0, gr))
	}
	emit(Inst{Op: Barrier}, 0)
	emit(Inst{Op: Return}, 0)
	p.Program, p.Sizes = prog, sizes
	return p, nil
}

// localCandidates returns, per item, the local rows of the candidates
// that lay's rank holds, ascending (classes are sorted, and the class of
// local row i grows with i).
func localCandidates(task *Task, lay Layout) [][]int32 {
	out := make([][]int32, task.Batch)
	for b, c := range task.Candidates {
		for _, j := range c {
			if d := int(j) - lay.First; d >= 0 && d%lay.Stride == 0 && d/lay.Stride < lay.Rows {
				out[b] = append(out[b], int32(d/lay.Stride))
			}
		}
	}
	return out
}

// groupRows returns, per item, the local rows in [lo, lo+n).
func groupRows(local [][]int32, lo, n int) [][]int32 {
	out := make([][]int32, len(local))
	for b, c := range local {
		out[b] = c[lowerBound(c, int32(lo)):lowerBound(c, int32(lo+n))]
	}
	return out
}

func lowerBound(c []int32, v int32) int {
	lo, hi := 0, len(c)
	for lo < hi {
		m := (lo + hi) / 2
		if c[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Expand returns the Executor instructions the generator makes for one
// FILTER's candidates: per item, in passes of up to a PSUM buffer of
// candidates, per dim chunk of a buffer: load the item's feature chunk,
// then each candidate row's chunk with a MUL_ADD_FP32; then SOFTMAX (the
// exponentials; the host normalises across ranks) and MOVE to the output.
// The second result holds the sizes, as Plan.Sizes does.
func (p *Plan) Expand(g int, task *Task, buf int) ([]Inst, []int) {
	per := buf / 4
	var out []Inst
	var sizes []int
	row, stride := task.Dim*4, p.Layout.RowBytes
	for b, cand := range p.Groups[g] {
		for s := 0; s < len(cand); s += per {
			pass := cand[s:min(len(cand), s+per)]
			for off := 0; off < row; off += buf {
				n := min(buf, row-off)
				out = append(out, Inst{Op: LDR, A: FeatFP32, Data: p.Layout.FeatFP32 + uint64(b)*stride + uint64(off)})
				sizes = append(sizes, n)
				for _, j := range pass {
					r := uint64(j)
					out = append(out, Inst{Op: LDR, A: WeightFP32, Data: p.Layout.Classifier + r*stride + uint64(off)},
						Inst{Op: MulAddFP32, A: FeatFP32, B: WeightFP32})
					sizes = append(sizes, n, 0)
				}
			}
			out = append(out, Inst{Op: Softmax, A: PsumFP32}, Inst{Op: Move, A: PsumFP32, B: OutputBuf})
			sizes = append(sizes, len(pass), 0) // SOFTMAX: the entries it covers
		}
	}
	return out, sizes
}
