package nmp

import (
	"fmt"

	"github.com/elasticml/elastic/sim/core"
	"github.com/elasticml/elastic/sim/dram"
)

// streamStats are one DRAM stream's results.
type streamStats struct {
	Cycles    int64 // logic clock, first request to last compute or write
	Busy      int64 // compute cycles run
	DRAM      dram.ControllerStats
	ReadBytes int64
}

// streamSim runs a program: the units' compute on the logic clock beside
// one FR-FCFS DDR4 controller on the DRAM clock. Reads are requested in
// program order while the stream buffer has a free burst slot; a slot is
// freed when compute has consumed its burst; a step's writes are
// requested when its compute ends.
type streamSim struct {
	prog   *program
	org    dram.Org
	m      dram.Mapping
	eng    *core.Engine
	ctrlID core.ComponentID
	unitID core.ComponentID
	ratio  int64
	slots  int
	used   int

	is, ie, ib int // issue cursor: step, extent, burst
	pending    []dram.Request
	head       int
	arrived    []int // per step
	cs         int   // step being computed
	done       int64 // its cycles run
	freed      int   // its bursts released
	target     int64 // cycles done when the current busy period ends
	busyUntil  int64
	busy       bool
	end        int64
	st         streamStats
	err        error
}

func (r *streamSim) Next() (dram.Request, bool) {
	if r.head == len(r.pending) {
		r.pending, r.head = r.pending[:0], 0
		return dram.Request{}, false
	}
	r.head++
	return r.pending[r.head-1], true
}

// simulate runs prog on one stream of org's ranks.
func simulate(prog *program, slots int, org dram.Org, t *dram.Timing, clockHz uint64) (*streamStats, error) {
	m, err := dram.ParseMapping("bg-interleaved")
	if err != nil {
		return nil, err
	}
	dclk := core.Clock{Name: "dram", Hz: uint64(t.RateMTs) * 1_000_000 / 2}
	if dclk.Hz%clockHz != 0 {
		return nil, fmt.Errorf("nmp: logic clock %d Hz does not divide the %d Hz DRAM clock", clockHz, dclk.Hz)
	}
	eng, err := core.NewEngine(dclk)
	if err != nil {
		return nil, err
	}
	r := &streamSim{prog: prog, org: org, m: m, eng: eng, ratio: int64(dclk.Hz / clockHz), slots: slots,
		arrived: make([]int, len(prog.steps))}
	ctrl, err := dram.NewController(t, org, r)
	if err != nil {
		return nil, err
	}
	ctrl.OnDone(func(tag uint64, end int64) {
		if tag == writeTag {
			return
		}
		if err := eng.At(end, func() {
			r.arrived[tag]++
			r.eng.Wake(r.unitID, (end+r.ratio-1)/r.ratio)
		}); err != nil && r.err == nil {
			r.err = err
		}
	})
	if r.ctrlID, err = eng.Add(ctrl, dclk); err != nil {
		return nil, err
	}
	if r.unitID, err = eng.Add(r, core.Clock{Name: "logic", Hz: clockHz}); err != nil {
		return nil, err
	}
	if _, err := eng.Run(0); err != nil {
		return nil, err
	}
	if r.err == nil {
		r.err = ctrl.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.cs != len(prog.steps) {
		return nil, fmt.Errorf("nmp: stream stopped at step %d of %d", r.cs, len(prog.steps))
	}
	r.st.DRAM = ctrl.Stats()
	r.st.Cycles = max(r.end, (r.st.DRAM.Done+r.ratio-1)/r.ratio)
	r.st.ReadBytes = r.st.DRAM.Reads * int64(org.LineBytes())
	return &r.st, nil
}

const writeTag = 1<<64 - 1

// Tick advances the compute to the end of its busy period, starts the
// next one (up to the next burst it will release, or as far as the data
// that has arrived allows), and requests what the buffer has room for.
func (r *streamSim) Tick(c int64) int64 {
	if r.busy && c < r.busyUntil {
		return r.busyUntil // woken by an arrival while busy
	}
	if r.busy {
		r.busy = false
		r.st.Busy += r.target - r.done
		r.done = r.target
		r.release()
	}
	for r.cs < len(r.prog.steps) && !r.busy {
		st := &r.prog.steps[r.cs]
		if r.done == st.cycles {
			if r.arrived[r.cs] < st.nReads {
				break // a step of no compute waits for all its data
			}
			r.finishStep(st)
			continue
		}
		// Cycle i needs burst ⌊i·reads/cycles⌋: with a bursts here, cycles
		// below ⌈a·cycles/reads⌉ can run; stop at the next release.
		lim := st.cycles
		if st.nReads > 0 {
			a := int64(r.arrived[r.cs])
			lim = min(lim, ceil(a*st.cycles, int64(st.nReads)))
			lim = min(lim, ceil(int64(r.freed+1)*st.cycles, int64(st.nReads)))
		}
		if lim <= r.done {
			break // waiting for data; an arrival wakes us
		}
		r.busy, r.target, r.busyUntil = true, lim, c+(lim-r.done)
	}
	r.request()
	if r.err != nil {
		return core.Idle
	}
	if r.head < len(r.pending) {
		r.eng.Wake(r.ctrlID, c*r.ratio)
	}
	if r.cs == len(r.prog.steps) {
		r.end = max(r.end, c)
		return core.Idle
	}
	if r.busy {
		return r.busyUntil
	}
	return core.Idle
}

// release frees the slots of the bursts the current step has consumed.
func (r *streamSim) release() {
	st := &r.prog.steps[r.cs]
	if st.nReads == 0 {
		return
	}
	n := int(r.done * int64(st.nReads) / st.cycles)
	r.used -= n - r.freed
	r.freed = n
}

func (r *streamSim) finishStep(st *step) {
	if st.cycles > 0 {
		r.used -= st.nReads - r.freed
	}
	for _, e := range st.writes {
		for i := range e.bursts {
			r.push(e.addr+uint64(i)*64, true, writeTag)
		}
	}
	r.cs++
	r.done, r.freed = 0, 0
}

// request issues reads in program order while slots are free. Data a
// step only waits for (features) goes to the feature buffer and takes no
// stream slot.
func (r *streamSim) request() {
	for r.is < len(r.prog.steps) && r.err == nil {
		st := &r.prog.steps[r.is]
		slotted := st.cycles > 0
		if slotted && r.used >= r.slots {
			return
		}
		if r.ie == len(st.reads) {
			r.is, r.ie, r.ib = r.is+1, 0, 0
			continue
		}
		e := st.reads[r.ie]
		if r.ib == e.bursts {
			r.ie, r.ib = r.ie+1, 0
			continue
		}
		r.push(e.addr+uint64(r.ib)*64, false, uint64(r.is))
		r.ib++
		if slotted {
			r.used++
		}
	}
}

func (r *streamSim) push(addr uint64, write bool, tag uint64) {
	a, err := r.m.Decode(r.org, addr)
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		return
	}
	r.pending = append(r.pending, dram.Request{Addr: a, Write: write, Tag: tag})
}
