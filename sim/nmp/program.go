package nmp

import (
	"fmt"

	"github.com/elasticml/elastic/sim/enmc"
)

// extent is a run of consecutive bursts starting at a byte address.
type extent struct {
	addr   uint64
	bursts int
}

// step is one piece of a stream's program: read its extents, then run
// cycles of compute that consume the bursts in order (cycle i needs the
// first ⌊i·reads/cycles⌋+1 bursts), then write its writes (results that
// do not fit on chip). A step of 0 cycles only waits for its data.
type step struct {
	reads  []extent
	nReads int
	cycles int64
	writes []extent
}

// Traffic counts a program's DRAM bytes by purpose.
type Traffic struct {
	Screen, Spill, Feature, Exec int64
}

func (t *Traffic) add(o Traffic) {
	t.Screen += o.Screen
	t.Spill += o.Spill
	t.Feature += o.Feature
	t.Exec += o.Exec
}

// Total is all bytes moved.
func (t Traffic) Total() int64 { return t.Screen + t.Spill + t.Feature + t.Exec }

// program is one DRAM stream's compiled work.
type program struct {
	steps      []step
	traffic    Traffic
	screenMACs int64
	execMACs   int64
	candidates int
	computeCyc int64 // Σ step cycles: the stream's compute bound
	chunks     int   // screening feature chunks (k split to fit the feature buffer)
	execChunks int
	end        uint64 // bytes of DRAM the stream's data occupy
}

// layout is where a stream keeps its data, in stream-local bytes: the
// screener (INT4, chunk-major: all rows' first k-chunk, then the
// second, …), the spilled partial sums, the classifier rows (FP32, padded
// to bursts), the INT4 and FP32 features.
type layout struct {
	screener, spill, classifier, featINT4, featFP32, end uint64
	rowBytes                                             uint64
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

// compile builds stream s's program. Classes are interleaved over the
// streams (class j on stream j mod streams, as ENMC's default), and over
// a stream's units by local row (local row r on unit r mod Units).
func compile(d Design, task *enmc.Task, s, streams int, capacity uint64) (*program, error) {
	rows := max(0, (task.Classes-s+streams-1)/streams)
	U := d.Units
	rowsU := (rows + U - 1) / U // the busiest unit's rows
	B, k, dim := task.Batch, task.K, task.Dim
	featFloats := d.FeatureBytes / 4
	if featFloats < B {
		return nil, fmt.Errorf("nmp: %s: batch %d does not fit %d feature bytes", d.Name, B, d.FeatureBytes)
	}
	// Screening features are FP32 on chip: split k into chunks whose
	// batch of features fits the feature buffer; between chunks each
	// row's partial sums go to DRAM and come back.
	chunks := (k*B + featFloats - 1) / featFloats
	kc := (k + chunks - 1) / chunks
	chunks = (k + kc - 1) / kc
	psumRow := uint64(B) * 4
	var lay layout
	lay.spill = alignUp(uint64(rows)*uint64(k+1)/2+uint64(chunks)*64, 8192)
	lay.rowBytes = alignUp(uint64(dim)*4, 64)
	lay.classifier = alignUp(lay.spill+uint64(rows)*psumRow, 8192)
	lay.featINT4 = alignUp(lay.classifier+uint64(rows)*lay.rowBytes, 8192)
	lay.featFP32 = alignUp(lay.featINT4+uint64(B)*uint64(k+1)/2, 8192)
	lay.end = lay.featFP32 + uint64(B)*lay.rowBytes
	if lay.end > capacity {
		return nil, fmt.Errorf("nmp: %s: stream %d needs %d bytes, it holds %d", d.Name, s, lay.end, capacity)
	}
	p := &program{chunks: chunks, end: lay.end}
	// bursts is what one piece of data costs on the bus: whole bursts for
	// a unit that takes bursts whole; under ByteLane each unit's bytes
	// arrive 8 per burst, all units at once.
	bursts := func(total, perUnit uint64) int {
		if d.ByteLane {
			return int((perUnit + 7) / 8)
		}
		return int((total + 63) / 64)
	}
	// shared is data every unit needs (features): broadcast once, or
	// under ByteLane stored in every lane.
	shared := func(n uint64) int { return bursts(n, n) }
	w := lay.screener
	for c := range chunks {
		width := min(kc, k-c*kc)
		fb := uint64(B) * uint64(width+1) / 2
		fs := step{reads: []extent{{lay.featINT4, shared(fb)}}}
		fs.nReads = fs.reads[0].bursts
		p.traffic.Feature += int64(fs.nReads) * 64
		p.steps = append(p.steps, fs)
		wb := uint64(rows) * uint64(width+1) / 2
		ws := step{cycles: d.dot(rowsU, width, B)}
		if c > 0 { // this chunk adds to the spilled partial sums
			n := bursts(uint64(rows)*psumRow, uint64(rowsU)*psumRow)
			ws.reads = append(ws.reads, extent{lay.spill, n})
			p.traffic.Spill += int64(n) * 64
		}
		n := bursts(wb, uint64(rowsU)*uint64(width+1)/2)
		ws.reads = append(ws.reads, extent{w, n})
		p.traffic.Screen += int64(n) * 64
		w = alignUp(w+uint64(n)*64, 64)
		if c < chunks-1 {
			n := bursts(uint64(rows)*psumRow, uint64(rowsU)*psumRow)
			ws.writes = []extent{{lay.spill, n}}
			p.traffic.Spill += int64(n) * 64
		} else {
			ws.cycles += d.ops(int64(rowsU) * int64(B)) // the threshold filter
		}
		for _, e := range ws.reads {
			ws.nReads += e.bursts
		}
		p.screenMACs += int64(rows) * int64(width) * int64(B)
		p.steps = append(p.steps, ws)
	}
	if err := p.candidatePhase(d, task, s, streams, lay, bursts, shared); err != nil {
		return nil, err
	}
	for _, st := range p.steps {
		p.computeCyc += st.cycles
	}
	return p, nil
}

// candidatePhase appends each item's full-precision work: per pass of as
// many candidates per unit as its partial-sum buffer holds, per chunk of
// dim that its feature buffer holds, the item's FP32 feature chunk, then
// the candidate rows' chunks, then the exponentials (4th-order Taylor
// series, one FMA a term, as ENMC's Executor).
func (p *program) candidatePhase(d Design, task *enmc.Task, s, streams int, lay layout,
	bursts func(total, perUnit uint64) int, shared func(uint64) int) error {
	U, dim := d.Units, task.Dim
	featFloats := d.FeatureBytes / 4
	p.execChunks = (dim + featFloats - 1) / featFloats
	dc := (dim + p.execChunks - 1) / p.execChunks
	per := d.PsumBytes / 4
	for b, cand := range task.Candidates {
		units := make([][]int, U) // local rows per unit
		for _, j := range cand {
			if int(j)%streams != s {
				continue
			}
			r := int(j) / streams
			units[r%U] = append(units[r%U], r)
			p.candidates++
		}
		most := 0
		for _, u := range units {
			most = max(most, len(u))
		}
		for lo := 0; lo < most; lo += per {
			n := min(per, most-lo) // rows of the busiest unit in this pass
			for c := range p.execChunks {
				width := min(dc, dim-c*dc)
				off := uint64(c*dc) * 4
				fb := uint64(width) * 4
				fs := step{reads: []extent{{lay.featFP32 + uint64(b)*lay.rowBytes + off, shared(fb)}}}
				fs.nReads = fs.reads[0].bursts
				p.traffic.Feature += int64(fs.nReads) * 64
				p.steps = append(p.steps, fs)
				rs := step{cycles: d.dot(n, width, 1)}
				if d.ByteLane {
					// Lockstep lanes: the pass takes as many row slots as its
					// busiest unit has rows, each a chunk's bytes at 8 a burst.
					for i := range n {
						r := units[0]
						for _, u := range units {
							if len(u) > lo+i {
								r = u
								break
							}
						}
						rs.reads = append(rs.reads, extent{lay.classifier + uint64(r[lo+i])*lay.rowBytes + off, bursts(fb, fb)})
					}
				} else {
					for _, u := range units {
						for _, r := range u[min(lo, len(u)):min(lo+per, len(u))] {
							rs.reads = append(rs.reads, extent{lay.classifier + uint64(r)*lay.rowBytes + off, bursts(fb, fb)})
						}
					}
				}
				for _, e := range rs.reads {
					rs.nReads += e.bursts
					p.traffic.Exec += int64(e.bursts) * 64
				}
				if c == p.execChunks-1 {
					rs.cycles += d.ops(4 * int64(n))
				}
				p.steps = append(p.steps, rs)
			}
		}
		for _, u := range units {
			p.execMACs += int64(len(u)) * int64(dim)
		}
	}
	return nil
}
