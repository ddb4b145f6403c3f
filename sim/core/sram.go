package core

import "fmt"

// SRAMConfig describes an on-chip buffer: Bytes of capacity split over
// Banks banks interleaved at Width-byte words, each bank with Ports
// accesses per cycle.
type SRAMConfig struct {
	Name  string
	Bytes int
	Width int // bytes per access (one word)
	Banks int
	Ports int
}

// Validate reports a configuration that cannot be built.
func (c SRAMConfig) Validate() error {
	switch {
	case c.Bytes <= 0 || c.Width <= 0 || c.Banks <= 0 || c.Ports <= 0:
		return fmt.Errorf("core: SRAM %q: bytes, width, banks and ports must be positive (got %d, %d, %d, %d)",
			c.Name, c.Bytes, c.Width, c.Banks, c.Ports)
	case c.Bytes%(c.Width*c.Banks) != 0:
		return fmt.Errorf("core: SRAM %q: %d bytes is not a whole number of %d-byte words in each of %d banks",
			c.Name, c.Bytes, c.Width, c.Banks)
	}
	return nil
}

// SRAMStats counts a buffer's accesses.
type SRAMStats struct {
	Reads, Writes int64
	// Conflicts is the number of accesses delayed because their bank's
	// ports were taken; StallCycles is the total delay.
	Conflicts, StallCycles int64
}

// An SRAM is a banked buffer model: it grants accesses in request order,
// at most Ports per bank per cycle, word-interleaved across banks.
type SRAM struct {
	cfg   SRAMConfig
	cycle []int64 // per bank: the latest cycle with a granted access
	used  []int   // per bank: ports used at that cycle
	stats SRAMStats
}

// NewSRAM returns an empty buffer.
func NewSRAM(cfg SRAMConfig) (*SRAM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &SRAM{cfg: cfg, cycle: make([]int64, cfg.Banks), used: make([]int, cfg.Banks)}
	for i := range s.cycle {
		s.cycle[i] = -1
	}
	return s, nil
}

// Config returns the buffer's configuration.
func (s *SRAM) Config() SRAMConfig { return s.cfg }

// Stats returns the access counts so far.
func (s *SRAM) Stats() SRAMStats { return s.stats }

// Access requests one word at byte address addr at cycle c and returns the
// cycle at which it is served: c, or later when the bank's ports are busy.
// Requests to a bank are served in the order made.
func (s *SRAM) Access(c int64, addr int, write bool) (int64, error) {
	if addr < 0 || addr >= s.cfg.Bytes {
		return 0, fmt.Errorf("core: SRAM %q: address %d outside [0, %d)", s.cfg.Name, addr, s.cfg.Bytes)
	}
	if c < 0 {
		return 0, errNegative
	}
	b := (addr / s.cfg.Width) % s.cfg.Banks
	at := c
	switch {
	case s.cycle[b] > at:
		at = s.cycle[b] // an earlier request was pushed past c: keep order
		fallthrough
	case s.cycle[b] == at:
		if s.used[b] >= s.cfg.Ports {
			at++
		}
	}
	if at != s.cycle[b] {
		s.cycle[b], s.used[b] = at, 0
	}
	s.used[b]++
	if at > c {
		s.stats.Conflicts++
		s.stats.StallCycles += at - c
	}
	if write {
		s.stats.Writes++
	} else {
		s.stats.Reads++
	}
	return at, nil
}
