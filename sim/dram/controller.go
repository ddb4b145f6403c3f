package dram

import (
	"fmt"

	"github.com/elasticml/elastic/sim/core"
)

// QueueEntries is the request queue depth of thesis Table 6.3.
const QueueEntries = 64

// A Request is one burst-sized memory access.
type Request struct {
	Addr  Addr
	Write bool
	Tag   uint64 // passed to the controller's OnDone
}

// A Source supplies a channel controller's requests in order.
type Source interface {
	// Next returns the next request, or false when there is none now.
	// The controller asks again on later cycles; a source that gains
	// requests after returning false must wake the controller (see
	// core.Engine.Wake).
	Next() (Request, bool)
}

type entry struct {
	req    Request
	arrive int64
	miss   bool // the controller issued an ACT or PRE on its behalf
}

// ControllerStats are a controller's results.
type ControllerStats struct {
	Reads, Writes int64
	RowHits       int64 // column accesses that needed no ACT or PRE of their own
	Commands      Counts
	// Done is the cycle after the last data beat of the last request.
	Done int64
	// LatencySum is the sum over reads of arrival-to-last-beat cycles.
	LatencySum int64
	// RefreshCycles is tRFC × refreshes, summed over ranks.
	RefreshCycles int64
	// IdleRefreshes are refreshes that fell due while the controller had
	// no requests, beyond the 8 a DDR4 device may postpone: they are
	// taken as done in the idle time, on schedule, without a command.
	IdleRefreshes int64
	// ActiveCycles and StandbyCycles split rank-cycles (summed over ranks,
	// up to Done) into ones with a row open or a refresh running (IDD3N)
	// and ones with every bank precharged (IDD2N).
	ActiveCycles, StandbyCycles int64
}

// A Controller is an open-page FR-FCFS memory controller for one channel:
// each cycle it refreshes a rank whose refresh is due (closing its rows
// first), else issues the oldest ready column command to an open row,
// else the oldest ready ACT or PRE. It never closes a row that a queued
// request still hits. It is a core.Component on the DRAM command clock.
type Controller struct {
	ch     *Channel
	t      *Timing
	o      Org
	src    Source
	fcfs   bool
	onDone func(tag uint64, cycle int64)
	q      []entry
	due    []int64 // per rank: cycle the next refresh is due
	stats  ControllerStats
	err    error
}

// NewController returns a controller of a fresh channel fed by src.
// Refreshes are staggered: rank r's first is due at (r+1)·tREFI/ranks.
func NewController(t *Timing, o Org, src Source) (*Controller, error) {
	ch, err := NewChannel(t, o)
	if err != nil {
		return nil, err
	}
	c := &Controller{ch: ch, t: t, o: o, src: src, q: make([]entry, 0, QueueEntries), due: make([]int64, o.Ranks)}
	for r := range c.due {
		c.due[r] = int64(r+1) * int64(t.REFI) / int64(o.Ranks)
	}
	return c, nil
}

// SetFCFS makes the controller serve requests strictly in arrival order
// (the DIMM-side controller of ENMC has no request prioritising).
func (c *Controller) SetFCFS(on bool) { c.fcfs = on }

// OnDone sets a function called, at issue, with each request's tag and
// the cycle after its last data beat.
func (c *Controller) OnDone(f func(tag uint64, cycle int64)) { c.onDone = f }

// Err returns the first error the controller met (a request outside the
// organisation, or an internal timing violation).
func (c *Controller) Err() error { return c.err }

// Stats returns the results so far; background cycles are final once the
// controller is idle.
func (c *Controller) Stats() ControllerStats {
	s := c.stats
	s.Commands = c.ch.Counts()
	s.ActiveCycles, s.StandbyCycles = 0, 0
	for i := range c.ch.ranks {
		r := &c.ch.ranks[i]
		act := r.activeCycles
		if r.openRows > 0 && s.Done > r.lastChange {
			act += s.Done - r.lastChange
		}
		act += r.refreshes * int64(c.t.RFC)
		act = min(act, s.Done)
		s.ActiveCycles += act
		s.StandbyCycles += s.Done - act
	}
	s.RefreshCycles = (c.ch.counts[REF] + s.IdleRefreshes) * int64(c.t.RFC)
	return s
}

var _ core.Component = (*Controller)(nil)

// Tick runs one command-clock cycle.
func (c *Controller) Tick(now int64) int64 {
	if c.err != nil {
		return core.Idle
	}
	for len(c.q) < QueueEntries {
		r, ok := c.src.Next()
		if !ok {
			break
		}
		if err := c.ch.check(r.Addr); err != nil {
			c.err = err
			return core.Idle
		}
		c.q = append(c.q, entry{req: r, arrive: now})
	}
	if len(c.q) == 0 {
		return core.Idle
	}
	// JESD79-4 lets a device postpone at most 8 refreshes; older ones fell
	// due while the controller slept and count as done then.
	for r := range c.due {
		for now-c.due[r] > 8*int64(c.t.REFI) {
			c.due[r] += int64(c.t.REFI)
			c.stats.IdleRefreshes++
		}
	}
	if !c.refresh(now) && !c.column(now) {
		c.rowCommand(now)
	}
	if c.err != nil {
		return core.Idle
	}
	return now + 1
}

// refreshing reports whether rank r has a refresh due.
func (c *Controller) refreshing(r int, now int64) bool { return now >= c.due[r] }

// refresh handles due refreshes and reports whether it used the bus.
func (c *Controller) refresh(now int64) bool {
	for r := range c.due {
		if !c.refreshing(r, now) {
			continue
		}
		a := Addr{Rank: r}
		if c.ch.ranks[r].openRows == 0 {
			if c.ch.earliest(REF, a) <= now {
				c.issue(REF, a, now)
				c.due[r] += int64(c.t.REFI)
				return true
			}
			continue
		}
		for g := 0; g < c.o.BankGroups; g++ {
			for b := 0; b < c.o.BanksPerGroup; b++ {
				a.BankGroup, a.Bank = g, b
				if open, _ := c.ch.Open(a); open && c.ch.earliest(PRE, a) <= now {
					c.issue(PRE, a, now)
					return true
				}
			}
		}
	}
	return false
}

// window is the part of the queue the scheduler may pick from.
func (c *Controller) window() int {
	if c.fcfs {
		return min(1, len(c.q))
	}
	return len(c.q)
}

// column issues the oldest ready read or write to an open row.
func (c *Controller) column(now int64) bool {
	for i := range c.window() {
		e := &c.q[i]
		a := e.req.Addr
		if c.refreshing(a.Rank, now) {
			continue
		}
		if open, row := c.ch.Open(a); !open || row != a.Row {
			continue
		}
		cmd := RD
		if e.req.Write {
			cmd = WR
		}
		if c.ch.earliest(cmd, a) > now {
			continue
		}
		c.issue(cmd, a, now)
		if !e.miss {
			c.stats.RowHits++
		}
		var end int64
		if e.req.Write {
			c.stats.Writes++
			end = now + int64(c.t.CWL+c.t.BL)
		} else {
			c.stats.Reads++
			end = now + int64(c.t.CL+c.t.BL)
			c.stats.LatencySum += end - e.arrive
		}
		c.stats.Done = max(c.stats.Done, end)
		if c.onDone != nil {
			c.onDone(e.req.Tag, end)
		}
		c.q = append(c.q[:i], c.q[i+1:]...)
		return true
	}
	return false
}

// rowCommand issues the oldest ready ACT, or PRE of a row no queued
// request hits.
func (c *Controller) rowCommand(now int64) {
	for i := range c.window() {
		e := &c.q[i]
		a := e.req.Addr
		if c.refreshing(a.Rank, now) {
			continue
		}
		open, row := c.ch.Open(a)
		switch {
		case !open:
			if c.ch.earliest(ACT, a) <= now {
				c.issue(ACT, a, now)
				e.miss = true
				return
			}
		case row != a.Row && !c.hitQueued(a, row) && c.ch.earliest(PRE, a) <= now:
			c.issue(PRE, a, now)
			e.miss = true
			return
		}
	}
}

// hitQueued reports whether a request the scheduler may pick reads row
// of a's bank. Under FCFS that is only the head, so the head's own
// conflict always closes the row (checking the whole queue would wait
// forever for a hit that cannot pass the head).
func (c *Controller) hitQueued(a Addr, row int) bool {
	for i := range c.window() {
		b := c.q[i].req.Addr
		if b.Rank == a.Rank && b.BankGroup == a.BankGroup && b.Bank == a.Bank && b.Row == row {
			return true
		}
	}
	return false
}

func (c *Controller) issue(cmd Command, a Addr, now int64) {
	if err := c.ch.Issue(cmd, a, now); err != nil && c.err == nil {
		c.err = fmt.Errorf("dram: controller: %w", err)
	}
}
