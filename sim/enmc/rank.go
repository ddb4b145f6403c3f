package enmc

import (
	"fmt"

	"github.com/elasticml/elastic/sim/core"
	"github.com/elasticml/elastic/sim/dram"
)

// tile is one LDR's data in a buffer.
type tile struct {
	bytes     int
	need, got int    // bursts
	users     int    // issued compute ops that read it and have not retired
	next      uint64 // next burst address to request
	sent      int    // bursts requested so far
	tag       uint64 // index in rankSim.tiles, the DRAM requests' tag
}

func (t *tile) ready() bool { return t.got == t.need }

// buffer is an on-DIMM buffer, accounted in 64-byte burst slots. A weight
// buffer is a stream: a MUL_ADD frees each burst's slot as it finishes
// with it, and the next LDR requests a burst as soon as a slot is free,
// so loads overlap compute as far as the buffer's capacity allows. A
// feature buffer holds one tile that many MUL_ADDs read, replaced by the
// next LDR once they retire.
type buffer struct {
	cap   int // slots
	queue bool
	tiles []*tile
	used  int // slots
	next  int // queue: index of the tile the next MUL_ADD takes
}

type op struct {
	kind    Op
	cycles  int64
	done    int64 // cycles run
	freed   int   // weight bursts released
	feat, w *tile
	wbuf    *buffer
}

// unit is a compute unit (Screener or Executor) running queued ops in
// order, one at a time.
type unit struct {
	q []op
}

// RankStats are one rank's results.
type RankStats struct {
	Cycles                       int64 // ENMC clock
	ScreenBytes, ExecBytes       int64 // DRAM bytes read into Screener / Executor buffers
	INT4MACs, FP32MACs, SFUOps   int64
	FilterEntries                int64
	BufferWords                  int64 // 64-bit buffer accesses (assumed two per loaded word)
	ScreenerBusy, ExecutorBusy   int64
	Instructions, Generated      int64
	HostCommands, HostDataBursts int64 // what the host sends this rank
	DRAM                         dram.ControllerStats
	DRAMClockRatio               int64 // DRAM cycles per ENMC cycle
}

// rankSim is one rank's ENMC logic on the engine's 400 MHz clock beside
// its DIMM-side DRAM controller on the DRAM clock.
type rankSim struct {
	cfg    Config
	task   *Task
	plan   *Plan
	org    dram.Org
	m      dram.Mapping
	eng    *core.Engine
	ctrlID core.ComponentID
	ratio  int64
	ctrl   *dram.Controller

	pc          int
	gen         []Inst
	genSizes    []int
	gpc         int
	group       int
	bufs        [NumBuffers]*buffer
	scr, exe    unit
	pending     []dram.Request
	head        int
	tiles       []*tile            // by request tag
	partial     [2]*tile           // per stream (host, generated): an LDR still requesting bursts
	ptr         [NumBuffers]uint64 // address after each buffer's last load (Inst.Next)
	outstanding int
	returned    bool
	lastSig     int64 // progress signature and the cycle it last changed
	lastMove    int64
	st          RankStats
	err         error
}

func (r *rankSim) Next() (dram.Request, bool) {
	if r.head == len(r.pending) {
		r.pending, r.head = r.pending[:0], 0
		return dram.Request{}, false
	}
	r.head++
	return r.pending[r.head-1], true
}

// simulateRank runs one rank's plan to its RETURN.
func simulateRank(cfg Config, task *Task, plan *Plan) (*RankStats, error) {
	t, err := dram.Preset(cfg.Preset)
	if err != nil {
		return nil, err
	}
	org := dram.Table63()
	org.Channels, org.Ranks = 1, 1 // the rank's own chips, behind its own controller
	m, err := dram.ParseMapping("bg-interleaved")
	if err != nil {
		return nil, err
	}
	dclk := core.Clock{Name: "dram", Hz: uint64(t.RateMTs) * 1_000_000 / 2}
	eng, err := core.NewEngine(dclk)
	if err != nil {
		return nil, err
	}
	r := &rankSim{cfg: cfg, task: task, plan: plan, org: org, m: m, eng: eng, ratio: int64(dclk.Hz / cfg.ClockHz)}
	r.ctrl, err = dram.NewController(t, org, r)
	if err != nil {
		return nil, err
	}
	r.ctrl.SetFCFS(true) // §6.4.2: no request prioritising on the DIMM
	r.ctrl.OnDone(func(tag uint64, end int64) {
		t := r.tiles[tag]
		if err := eng.At(end, func() { t.got++; r.outstanding-- }); err != nil && r.err == nil {
			r.err = err
		}
	})
	if r.ctrlID, err = eng.Add(r.ctrl, dclk); err != nil {
		return nil, err
	}
	for b := range r.bufs {
		r.bufs[b] = &buffer{cap: cfg.BufferBytes / 64, queue: Buffer(b) == WeightINT4 || Buffer(b) == WeightFP32}
	}
	if _, err := eng.Add(r, core.Clock{Name: "enmc", Hz: cfg.ClockHz}); err != nil {
		return nil, err
	}
	if _, err := eng.Run(0); err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, fmt.Errorf("enmc: rank %d: %w", plan.Rank, r.err)
	}
	if err := r.ctrl.Err(); err != nil {
		return nil, err
	}
	if !r.returned {
		return nil, fmt.Errorf("enmc: rank %d stopped before RETURN (instruction %d of %d)", plan.Rank, r.pc, len(plan.Program))
	}
	r.st.DRAM = r.ctrl.Stats()
	r.st.DRAMClockRatio = r.ratio
	return &r.st, nil
}

// Tick runs one ENMC cycle: data arrivals, the two units, then one
// instruction decoded, generated ones first.
func (r *rankSim) Tick(c int64) int64 {
	now := c * r.ratio // data due by now has arrived: events fire before ticks
	r.step(&r.scr, &r.st.ScreenerBusy)
	r.step(&r.exe, &r.st.ExecutorBusy)
	if r.err != nil {
		return core.Idle
	}
	switch {
	case r.gpc < len(r.gen) && r.issue(r.gen[r.gpc], r.genSizes[r.gpc], 1):
		r.gpc++
		r.st.Generated++
	case r.pc < len(r.plan.Program) && r.issue(r.plan.Program[r.pc], r.plan.Sizes[r.pc], 0):
		r.pc++
	}
	if r.err != nil {
		return core.Idle
	}
	if r.returned {
		r.st.Cycles = c + 1
		return core.Idle
	}
	if r.pc == len(r.plan.Program) && r.idle() {
		r.err = fmt.Errorf("program ended without RETURN")
		return core.Idle
	}
	// A stall with nothing in flight can never clear (a load waiting for
	// a buffer no queued op will free): stop instead of spinning.
	if r.progress(c) > 4096 {
		r.err = fmt.Errorf("deadlock at instruction %d (%v): no progress for 4096 cycles", r.pc, r.plan.Program[min(r.pc, len(r.plan.Program)-1)])
		return core.Idle
	}
	if r.head < len(r.pending) {
		r.eng.Wake(r.ctrlID, now)
	}
	return c + 1
}

// progress returns the cycles since anything last moved: an instruction
// issued, a unit cycle run, a burst requested or arrived.
func (r *rankSim) progress(c int64) int64 {
	sig := r.st.Instructions + r.st.ScreenerBusy + r.st.ExecutorBusy + int64(len(r.pending)) + int64(r.outstanding)<<32
	if sig != r.lastSig {
		r.lastSig, r.lastMove = sig, c
	}
	return c - r.lastMove
}

// step advances a unit by one cycle. An op with a weight tile needs, at
// its cycle i, the burst i·need/cycles to have arrived: compute follows
// the data in, a burst at a time.
func (r *rankSim) step(u *unit, busy *int64) {
	if len(u.q) == 0 {
		return
	}
	o := &u.q[0]
	if o.done == 0 && o.feat != nil && !o.feat.ready() {
		return
	}
	if o.w != nil && int64(o.w.got) <= o.done*int64(o.w.need)/o.cycles {
		return
	}
	o.done++
	*busy++
	if o.w != nil {
		c := int(o.done * int64(o.w.need) / o.cycles)
		o.wbuf.used -= c - o.freed
		o.freed = c
	}
	if o.done < o.cycles {
		return
	}
	if o.feat != nil {
		o.feat.users--
	}
	if o.w != nil { // a consumed weight tile is always the oldest
		o.wbuf.tiles = o.wbuf.tiles[1:]
		o.wbuf.next--
	}
	kind := o.kind
	u.q = u.q[1:]
	if kind == Translate {
		if r.group >= len(r.plan.Groups) {
			r.err = fmt.Errorf("TRANSLATE %d without a FILTER group (the plan has %d)", r.group+1, len(r.plan.Groups))
			return
		}
		insts, sizes := r.plan.Expand(r.group, r.task, r.cfg.BufferBytes)
		r.group++
		r.gen = append(r.gen[r.gpc:], insts...)
		r.genSizes = append(r.genSizes[r.gpc:], sizes...)
		r.gpc = 0
	}
}

func (r *rankSim) idle() bool {
	return len(r.scr.q) == 0 && len(r.exe.q) == 0 && r.outstanding == 0 && r.gpc == len(r.gen) &&
		r.partial[0] == nil && r.partial[1] == nil
}

func ceilDiv(a, b int64) int64 { return max(1, (a+b-1)/b) }

// issue decodes one instruction and reports whether it left the FIFO
// (false: a structural or data hazard stalls it this cycle).
func (r *rankSim) issue(in Inst, size int, stream int) bool {
	if !r.exec(in, size, stream) {
		return false
	}
	r.st.Instructions++
	if stream == 0 {
		r.st.HostCommands++
		if in.HasData() {
			r.st.HostDataBursts++
		}
	}
	return true
}

func (r *rankSim) exec(in Inst, size int, stream int) bool {
	switch in.Op {
	case NOP, Init, Query, Clr:
		return true
	case LDR:
		return r.load(in, size, stream)
	case MulAddINT4, MulAddFP32:
		u := &r.scr
		if in.Op == MulAddFP32 {
			u = &r.exe
		}
		if len(u.q) >= r.cfg.UnitQueue {
			return false
		}
		fb, wb := r.bufs[in.A], r.bufs[in.B]
		if fb.queue || !wb.queue || len(fb.tiles) == 0 || wb.next >= len(wb.tiles) {
			r.err = fmt.Errorf("%v: operands not loaded (feature buffer %d, weight buffer %d)", in, in.A, in.B)
			return false
		}
		f, w := fb.tiles[0], wb.tiles[wb.next]
		wb.next++
		f.users++
		var cyc int64
		if in.Op == MulAddINT4 {
			macs := int64(2*w.bytes) * int64(r.task.Batch)
			r.st.INT4MACs += macs
			cyc = ceilDiv(macs, int64(r.cfg.ScreenerMACs))
		} else {
			macs := int64(w.bytes / 4)
			r.st.FP32MACs += macs
			cyc = ceilDiv(macs, int64(r.cfg.ExecutorMACs))
		}
		r.st.BufferWords += 2 * int64(w.bytes) / 8
		u.q = append(u.q, op{kind: in.Op, cycles: cyc, feat: f, w: w, wbuf: wb})
		return true
	case Filter, Translate:
		if len(r.scr.q) >= r.cfg.UnitQueue {
			return false
		}
		cyc := int64(1)
		if in.Op == Filter {
			r.st.FilterEntries += int64(size)
			cyc = ceilDiv(int64(size), int64(r.cfg.FilterLanes))
		}
		r.scr.q = append(r.scr.q, op{kind: in.Op, cycles: cyc})
		return true
	case Softmax, Sigmoid, Move:
		if len(r.exe.q) >= r.cfg.UnitQueue {
			return false
		}
		cyc := int64(1)
		if in.Op != Move {
			// exp by a Taylor series in Horner form: one FMA per term per
			// entry on the FP32 MAC lanes (assumed).
			n := int64(size) * int64(r.cfg.TaylorOrder)
			r.st.SFUOps += n
			cyc = ceilDiv(n, int64(r.cfg.ExecutorMACs))
		}
		r.exe.q = append(r.exe.q, op{kind: in.Op, cycles: cyc})
		return true
	case Barrier:
		return r.idle()
	case Return:
		if r.idle() && r.pc == len(r.plan.Program)-1 {
			r.returned = true
			return true
		}
		return false
	default:
		r.err = fmt.Errorf("%v: not modelled by the rank simulator", in.Op)
		return false
	}
}

// load requests an LDR's bursts as its buffer frees slots and reports
// whether all are requested (the LDR then leaves the FIFO).
func (r *rankSim) load(in Inst, size, stream int) bool {
	b := r.bufs[in.A]
	t := r.partial[stream]
	if t == nil {
		addr := in.Data
		if in.Next {
			addr = r.ptr[in.A]
		}
		r.ptr[in.A] = addr + uint64(max(size, 0))
		first, last := addr/64, (addr+uint64(max(size, 1))-1)/64
		need := int(last - first + 1)
		if size <= 0 || need > b.cap {
			r.err = fmt.Errorf("%v: %d bytes (%d bursts) for a %d-burst buffer", in, size, need, b.cap)
			return false
		}
		if !b.queue {
			if len(b.tiles) > 0 && (b.tiles[0].users > 0 || !b.tiles[0].ready()) {
				return false
			}
			b.tiles, b.used = b.tiles[:0], 0
		}
		t = &tile{bytes: size, need: need, next: first, tag: uint64(len(r.tiles))}
		b.tiles = append(b.tiles, t)
		r.tiles = append(r.tiles, t)
		r.outstanding += need
		n := int64(need) * 64
		if in.A == FeatFP32 || in.A == WeightFP32 {
			r.st.ExecBytes += n
		} else {
			r.st.ScreenBytes += n
		}
		r.st.BufferWords += n / 8
		r.partial[stream] = t
	}
	for t.sent < t.need && b.used < b.cap {
		a, err := r.m.Decode(r.org, t.next*64)
		if err != nil {
			r.err = err
			return false
		}
		r.pending = append(r.pending, dram.Request{Addr: a, Tag: t.tag})
		t.next++
		t.sent++
		b.used++
	}
	if t.sent < t.need {
		return false
	}
	r.partial[stream] = nil
	return true
}
