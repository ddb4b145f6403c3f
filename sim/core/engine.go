package core

import (
	"container/heap"
	"errors"
	"fmt"
)

// Idle is returned by Component.Tick when the component has no work until
// an event wakes it.
const Idle int64 = -1

// A Component is advanced by an Engine on the cycles of its clock domain.
type Component interface {
	// Tick performs the work of cycle c (in the component's own clock) and
	// returns the next cycle, > c, at which it has work, or Idle.
	Tick(c int64) int64
}

// ComponentID names a component registered with an Engine.
type ComponentID int

type component struct {
	c     Component
	ratio int64 // base ticks per cycle of the component's clock
	wake  int64 // base tick of the next Tick, or Idle
	last  int64 // base tick of the last Tick, -1 before the first
}

type event struct {
	at  int64
	seq uint64
	f   func()
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// An Engine is a deterministic cycle and event engine. Time is counted in
// ticks of a base clock whose frequency every component clock divides.
// At each tick the engine first fires the events due then, in scheduling
// order, then ticks the components due then, in registration order; it
// skips ticks at which nothing is due.
type Engine struct {
	base  Clock
	now   int64
	seq   uint64
	q     eventHeap
	comps []component
}

// NewEngine returns an engine on base clock base.
func NewEngine(base Clock) (*Engine, error) {
	if err := base.Validate(); err != nil {
		return nil, err
	}
	return &Engine{base: base}, nil
}

// Base returns the engine's base clock.
func (e *Engine) Base() Clock { return e.base }

// Now returns the current base tick.
func (e *Engine) Now() int64 { return e.now }

// Add registers c on clock clk, first ticked at its cycle 0. clk must
// divide the base clock exactly.
func (e *Engine) Add(c Component, clk Clock) (ComponentID, error) {
	if err := clk.Validate(); err != nil {
		return 0, err
	}
	if clk.Hz > e.base.Hz || e.base.Hz%clk.Hz != 0 {
		return 0, fmt.Errorf("core: clock %s (%d Hz) does not divide base clock %s (%d Hz)",
			clk.Name, clk.Hz, e.base.Name, e.base.Hz)
	}
	e.comps = append(e.comps, component{c: c, ratio: int64(e.base.Hz / clk.Hz), wake: 0, last: -1})
	return ComponentID(len(e.comps) - 1), nil
}

// Cycle returns the current cycle of component id's clock: the first of
// its cycles that starts at or after the current tick.
func (e *Engine) Cycle(id ComponentID) int64 {
	r := e.comps[id].ratio
	return (e.now + r - 1) / r
}

// Wake makes component id tick at its cycle c (or its first cycle not
// yet ticked, if c is earlier), unless it is already due sooner. A
// component ticks at most once per cycle.
func (e *Engine) Wake(id ComponentID, c int64) {
	k := &e.comps[id]
	t := c * k.ratio
	if t < e.now {
		t = (e.now + k.ratio - 1) / k.ratio * k.ratio
	}
	if t <= k.last {
		t = k.last + k.ratio
	}
	if k.wake == Idle || t < k.wake {
		k.wake = t
	}
}

// At schedules f at base tick t, which must not be in the past.
func (e *Engine) At(t int64, f func()) error {
	if t < e.now {
		return fmt.Errorf("core: event at tick %d is before now (%d)", t, e.now)
	}
	heap.Push(&e.q, event{at: t, seq: e.seq, f: f})
	e.seq++
	return nil
}

// ErrLimit is returned by Run when the tick limit stops the run.
var ErrLimit = errors.New("core: tick limit reached")

// Run advances time until no event or component is due, and returns the
// last tick at which work was done. It stops with ErrLimit when the next
// work is beyond limit ticks (limit ≤ 0: no limit).
func (e *Engine) Run(limit int64) (int64, error) {
	last := e.now
	for {
		next := int64(-1)
		if len(e.q) > 0 {
			next = e.q[0].at
		}
		for i := range e.comps {
			if w := e.comps[i].wake; w != Idle && (next < 0 || w < next) {
				next = w
			}
		}
		if next < 0 {
			return last, nil
		}
		if limit > 0 && next > limit {
			return last, ErrLimit
		}
		e.now, last = next, next
		for len(e.q) > 0 && e.q[0].at == next {
			ev := heap.Pop(&e.q).(event)
			ev.f()
		}
		for i := range e.comps {
			k := &e.comps[i]
			if k.wake != next {
				continue
			}
			c := next / k.ratio
			k.last, k.wake = next, Idle // a Wake during Tick (even its own) lands in k.wake
			w := k.c.Tick(c)
			k = &e.comps[i]
			switch {
			case w == Idle:
			case w <= c:
				return last, fmt.Errorf("core: component %d asked to tick at cycle %d after cycle %d", i, w, c)
			case k.wake == Idle || w*k.ratio < k.wake:
				k.wake = w * k.ratio
			}
		}
	}
}
