package dram

import (
	"errors"
	"fmt"
)

// Command is a DDR4 command.
type Command uint8

// The commands the model issues.
const (
	ACT Command = iota // activate a row
	PRE                // precharge (close) a bank
	RD                 // read burst
	WR                 // write burst
	REF                // all-bank refresh of a rank
	numCommands
)

var commandNames = [numCommands]string{"ACT", "PRE", "RD", "WR", "REF"}

func (c Command) String() string {
	if c < numCommands {
		return commandNames[c]
	}
	return fmt.Sprintf("Command(%d)", c)
}

// Scope is the part of a channel a timing constraint binds.
type Scope uint8

// Scopes, from narrow to wide.
const (
	SameBank      Scope = iota
	SameBankGroup       // any bank of the issuing bank group
	SameRank            // any bank of the issuing rank
	OtherRanks          // every other rank on the channel
)

var scopeNames = [...]string{"same bank", "same bank group", "same rank", "other ranks"}

func (s Scope) String() string { return scopeNames[s] }

// A Constraint says that after From, command To in Scope waits Cycles.
type Constraint struct {
	From, To Command
	Scope    Scope
	Cycles   int
	Rule     string // the rule in JEDEC terms
}

// Constraints derives the command-to-command spacings from t, in the
// JESD79-4 forms (RL = CL and WL = CWL since AL = 0; a write's data ends
// WL + BL after the command). tFAW is a window, not a pairwise spacing;
// the channel enforces it separately.
func (t *Timing) Constraints() []Constraint {
	return []Constraint{
		{ACT, ACT, SameBank, t.RC, "tRC"},
		{ACT, ACT, SameBankGroup, t.RRDL, "tRRD_L"},
		{ACT, ACT, SameRank, t.RRDS, "tRRD_S"},
		{ACT, RD, SameBank, t.RCD, "tRCD"},
		{ACT, WR, SameBank, t.RCD, "tRCD"},
		{ACT, PRE, SameBank, t.RAS, "tRAS"},
		{PRE, ACT, SameBank, t.RP, "tRP"},
		{PRE, REF, SameRank, t.RP, "tRP (all banks precharged before REF)"},
		{RD, RD, SameBankGroup, t.CCDL, "tCCD_L"},
		{RD, RD, SameRank, t.CCDS, "tCCD_S"},
		{RD, RD, OtherRanks, t.BL + t.RTRS, "BL/2 + tRTRS"},
		{WR, WR, SameBankGroup, t.CCDL, "tCCD_L"},
		{WR, WR, SameRank, t.CCDS, "tCCD_S"},
		{WR, WR, OtherRanks, t.BL + t.RTRS, "BL/2 + tRTRS"},
		{RD, WR, SameRank, t.CL + t.BL + 2 - t.CWL, "RL + BL/2 + 2 − WL"},
		{RD, WR, OtherRanks, t.CL + t.BL + t.RTRS - t.CWL, "RL + BL/2 + tRTRS − WL"},
		{WR, RD, SameBankGroup, t.CWL + t.BL + t.WTRL, "WL + BL/2 + tWTR_L"},
		{WR, RD, SameRank, t.CWL + t.BL + t.WTRS, "WL + BL/2 + tWTR_S"},
		{WR, RD, OtherRanks, t.CWL + t.BL + t.RTRS - t.CL, "WL + BL/2 + tRTRS − RL"},
		{RD, PRE, SameBank, t.RTP, "tRTP"},
		{WR, PRE, SameBank, t.CWL + t.BL + t.WR, "WL + BL/2 + tWR"},
		{REF, ACT, SameRank, t.RFC, "tRFC"},
		{REF, REF, SameRank, t.RFC, "tRFC"},
	}
}

// ErrTiming is wrapped by Issue when a command violates a constraint.
var ErrTiming = errors.New("dram: timing violation")

// ErrState is wrapped by Issue when a command does not fit the bank state
// (a read of a closed bank, an ACT of an open one, REF with a row open).
var ErrState = errors.New("dram: command does not fit the bank state")

type earliest [numCommands]int64

func (e *earliest) raise(c Command, at int64) {
	if at > e[c] {
		e[c] = at
	}
}

type bank struct {
	open bool
	row  int
	next earliest
}

type rank struct {
	next     earliest
	acts     [4]int64 // issue cycles of the last four ACTs, a ring
	nacts    int
	openRows int
	// background accounting: cycles with a row open, since lastChange
	lastChange, activeCycles int64
	refreshes                int64
}

// Counts are a channel's issued commands.
type Counts [numCommands]int64

// A Channel is the timing state of one DDR4 channel: what each bank
// holds and the earliest cycle each command may issue at each scope.
// Issue refuses a command that violates a constraint or the bank state.
type Channel struct {
	t       *Timing
	o       Org
	cons    [numCommands][]Constraint
	banks   []bank // rank-major, then bank group, then bank
	groups  []earliest
	ranks   []rank
	busNext int64 // the command bus carries one command per cycle
	last    int64
	counts  Counts
}

// NewChannel returns a channel with every bank precharged at cycle 0.
func NewChannel(t *Timing, o Org) (*Channel, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c := &Channel{t: t, o: o,
		banks:  make([]bank, o.Ranks*o.Banks()),
		groups: make([]earliest, o.Ranks*o.BankGroups),
		ranks:  make([]rank, o.Ranks),
		last:   -1,
	}
	for _, k := range t.Constraints() {
		if k.Cycles < 0 {
			return nil, fmt.Errorf("dram: timing %s: %v→%v (%s) is %d cycles", t.Name, k.From, k.To, k.Rule, k.Cycles)
		}
		c.cons[k.From] = append(c.cons[k.From], k)
	}
	for i := range c.ranks {
		for j := range c.ranks[i].acts {
			c.ranks[i].acts[j] = -1 << 40
		}
	}
	return c, nil
}

func (c *Channel) check(a Addr) error {
	if a.Rank < 0 || a.Rank >= c.o.Ranks || a.BankGroup < 0 || a.BankGroup >= c.o.BankGroups ||
		a.Bank < 0 || a.Bank >= c.o.BanksPerGroup || a.Row < 0 || a.Row >= c.o.Rows ||
		a.Column < 0 || a.Column >= c.o.Columns/c.o.BurstLength {
		return fmt.Errorf("dram: address %+v outside the organisation", a)
	}
	return nil
}

func (c *Channel) bankIndex(a Addr) int {
	return (a.Rank*c.o.BankGroups+a.BankGroup)*c.o.BanksPerGroup + a.Bank
}

// Earliest returns the first cycle, after the last issued command, at
// which cmd to a satisfies every timing constraint. It ignores the bank
// state; Issue checks that too.
func (c *Channel) Earliest(cmd Command, a Addr) (int64, error) {
	if err := c.check(a); err != nil {
		return 0, err
	}
	if cmd >= numCommands {
		return 0, fmt.Errorf("dram: unknown command %d", cmd)
	}
	return c.earliest(cmd, a), nil
}

func (c *Channel) earliest(cmd Command, a Addr) int64 {
	r := &c.ranks[a.Rank]
	at := max(c.busNext, r.next[cmd])
	if cmd != REF {
		at = max(at, c.groups[a.Rank*c.o.BankGroups+a.BankGroup][cmd], c.banks[c.bankIndex(a)].next[cmd])
	}
	if cmd == ACT {
		at = max(at, r.acts[r.nacts%4]+int64(c.t.FAW)) // the oldest of the last four
	}
	return at
}

// Open returns whether a's bank is open and on which row.
func (c *Channel) Open(a Addr) (bool, int) {
	b := &c.banks[c.bankIndex(a)]
	return b.open, b.row
}

// Issue issues cmd to a at cycle at.
func (c *Channel) Issue(cmd Command, a Addr, at int64) error {
	if err := c.check(a); err != nil {
		return err
	}
	if cmd >= numCommands {
		return fmt.Errorf("dram: unknown command %d", cmd)
	}
	b := &c.banks[c.bankIndex(a)]
	r := &c.ranks[a.Rank]
	switch {
	case cmd == ACT && b.open:
		return fmt.Errorf("%w: ACT to rank %d bank group %d bank %d with row %d open", ErrState, a.Rank, a.BankGroup, a.Bank, b.row)
	case cmd == PRE && !b.open:
		return fmt.Errorf("%w: PRE to a closed bank", ErrState)
	case (cmd == RD || cmd == WR) && (!b.open || b.row != a.Row):
		return fmt.Errorf("%w: %v to row %d, bank holds open=%v row %d", ErrState, cmd, a.Row, b.open, b.row)
	case cmd == REF && r.openRows > 0:
		return fmt.Errorf("%w: REF to rank %d with %d rows open", ErrState, a.Rank, r.openRows)
	}
	if e := c.earliest(cmd, a); at < e {
		return fmt.Errorf("%w: %v to %+v at cycle %d, earliest %d", ErrTiming, cmd, a, at, e)
	}
	for _, k := range c.cons[cmd] {
		when := at + int64(k.Cycles)
		switch k.Scope {
		case SameBank:
			b.next.raise(k.To, when)
		case SameBankGroup:
			c.groups[a.Rank*c.o.BankGroups+a.BankGroup].raise(k.To, when)
		case SameRank:
			r.next.raise(k.To, when)
		case OtherRanks:
			for i := range c.ranks {
				if i != a.Rank {
					c.ranks[i].next.raise(k.To, when)
				}
			}
		}
	}
	switch cmd {
	case ACT:
		c.account(r, at)
		b.open, b.row = true, a.Row
		r.openRows++
		r.acts[r.nacts%4] = at
		r.nacts++
	case PRE:
		c.account(r, at)
		b.open = false
		r.openRows--
	case REF:
		r.refreshes++
	}
	c.busNext, c.last = at+1, at
	c.counts[cmd]++
	return nil
}

// account adds the cycles since the rank's last state change to its
// active-standby time when a row was open.
func (c *Channel) account(r *rank, at int64) {
	if r.openRows > 0 {
		r.activeCycles += at - r.lastChange
	}
	r.lastChange = at
}

// Counts returns the commands issued so far.
func (c *Channel) Counts() Counts { return c.counts }

// Last returns the cycle of the last issued command (-1 before any).
func (c *Channel) Last() int64 { return c.last }
