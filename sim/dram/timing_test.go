package dram

import (
	"errors"
	"testing"
)

type step struct {
	cmd Command
	a   Addr
	at  int64
}

func bk(rank, bg, ba int) Addr { return Addr{Rank: rank, BankGroup: bg, Bank: ba, Row: 7} }

// TestTimingConstraints issues a setup sequence, then checks that the
// probe command is refused one cycle before the constraint allows it and
// accepted at exactly that cycle. Expected cycles are the DDR4-2400R
// numbers worked by hand (see the comments), not recomputed from Timing.
func TestTimingConstraints(t *testing.T) {
	b000, b001, b010, b020, b030, b100 := bk(0, 0, 0), bk(0, 0, 1), bk(0, 1, 0), bk(0, 2, 0), bk(0, 3, 0), bk(1, 0, 0)
	long := DDR4_2400R()
	long.RC = 60 // tRC above tRAS + tRP, so tRC alone binds
	for _, tc := range []struct {
		name  string
		tm    *Timing
		setup []step
		probe step
		want  int64
	}{
		{"tRCD ACT→RD", nil, []step{{ACT, b000, 100}}, step{cmd: RD, a: b000}, 116},
		{"tRCD ACT→WR", nil, []step{{ACT, b000, 100}}, step{cmd: WR, a: b000}, 116},
		{"tRAS ACT→PRE", nil, []step{{ACT, b000, 100}}, step{cmd: PRE, a: b000}, 139},
		{"tRP PRE→ACT", nil, []step{{ACT, b000, 100}, {PRE, b000, 200}}, step{cmd: ACT, a: b000}, 216},
		{"tRC = tRAS+tRP", nil, []step{{ACT, b000, 100}, {PRE, b000, 139}}, step{cmd: ACT, a: b000}, 155},
		{"tRC alone (60)", long, []step{{ACT, b000, 100}, {PRE, b000, 139}}, step{cmd: ACT, a: b000}, 160},
		{"tRRD_L same group", nil, []step{{ACT, b000, 100}}, step{cmd: ACT, a: b001}, 106},
		{"tRRD_S other group", nil, []step{{ACT, b000, 100}}, step{cmd: ACT, a: b010}, 104},
		{"no ACT spacing across ranks", nil, []step{{ACT, b000, 100}}, step{cmd: ACT, a: b100}, 101},
		// Four ACTs at 100..112 (tRRD_S apart); the fifth waits for the
		// window to slide past the first: 100 + 26.
		{"tFAW", nil, []step{{ACT, b000, 100}, {ACT, b010, 104}, {ACT, b020, 108}, {ACT, b030, 112}},
			step{cmd: ACT, a: b001}, 126},
		{"tCCD_L RD→RD", nil, []step{{ACT, b000, 0}, {ACT, b001, 6}, {RD, b000, 100}}, step{cmd: RD, a: b001}, 106},
		{"tCCD_S RD→RD", nil, []step{{ACT, b000, 0}, {ACT, b010, 4}, {RD, b000, 100}}, step{cmd: RD, a: b010}, 104},
		{"tCCD_L WR→WR", nil, []step{{ACT, b000, 0}, {ACT, b001, 6}, {WR, b000, 100}}, step{cmd: WR, a: b001}, 106},
		{"tCCD_S WR→WR", nil, []step{{ACT, b000, 0}, {ACT, b010, 4}, {WR, b000, 100}}, step{cmd: WR, a: b010}, 104},
		// Rank switch: the burst (4) plus tRTRS (2).
		{"RD→RD other rank", nil, []step{{ACT, b000, 0}, {ACT, b100, 1}, {RD, b000, 100}}, step{cmd: RD, a: b100}, 106},
		{"WR→WR other rank", nil, []step{{ACT, b000, 0}, {ACT, b100, 1}, {WR, b000, 100}}, step{cmd: WR, a: b100}, 106},
		// RD→WR: CL 16 + 4 + 2 − CWL 12 = 10.
		{"RD→WR same rank", nil, []step{{ACT, b000, 0}, {RD, b000, 100}}, step{cmd: WR, a: b000}, 110},
		{"RD→WR other rank", nil, []step{{ACT, b000, 0}, {ACT, b100, 1}, {RD, b000, 100}}, step{cmd: WR, a: b100}, 110},
		// WR→RD: CWL 12 + 4 + tWTR_L 9 / tWTR_S 3; other rank 12 + 4 + 2 − 16.
		{"tWTR_L WR→RD", nil, []step{{ACT, b000, 0}, {ACT, b001, 6}, {WR, b000, 100}}, step{cmd: RD, a: b001}, 125},
		{"tWTR_S WR→RD", nil, []step{{ACT, b000, 0}, {ACT, b010, 4}, {WR, b000, 100}}, step{cmd: RD, a: b010}, 119},
		{"WR→RD other rank", nil, []step{{ACT, b000, 0}, {ACT, b100, 1}, {WR, b000, 100}}, step{cmd: RD, a: b100}, 102},
		{"tRTP RD→PRE", nil, []step{{ACT, b000, 0}, {RD, b000, 100}}, step{cmd: PRE, a: b000}, 109},
		// WR→PRE: CWL 12 + 4 + tWR 18.
		{"tWR WR→PRE", nil, []step{{ACT, b000, 0}, {WR, b000, 100}}, step{cmd: PRE, a: b000}, 134},
		{"tRP PRE→REF", nil, []step{{ACT, b000, 0}, {PRE, b000, 100}}, step{cmd: REF, a: b000}, 116},
		{"tRFC REF→ACT", nil, []step{{REF, b000, 100}}, step{cmd: ACT, a: b001}, 520},
		{"tRFC REF→REF", nil, []step{{REF, b000, 100}}, step{cmd: REF, a: b000}, 520},
		{"refresh leaves other ranks alone", nil, []step{{REF, b000, 100}}, step{cmd: ACT, a: b100}, 101},
		{"one command per bus cycle", nil, []step{{ACT, b000, 100}}, step{cmd: ACT, a: bk(2, 0, 0)}, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := tc.tm
			if tm == nil {
				tm = DDR4_2400R()
			}
			c, err := NewChannel(tm, Table63())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.setup {
				if err := c.Issue(s.cmd, s.a, s.at); err != nil {
					t.Fatalf("setup %v at %d: %v", s.cmd, s.at, err)
				}
			}
			got, err := c.Earliest(tc.probe.cmd, tc.probe.a)
			if err != nil || got != tc.want {
				t.Fatalf("earliest %v = %d (%v), want %d", tc.probe.cmd, got, err, tc.want)
			}
			if err := c.Issue(tc.probe.cmd, tc.probe.a, tc.want-1); !errors.Is(err, ErrTiming) {
				t.Fatalf("%v one cycle early: %v, want ErrTiming", tc.probe.cmd, err)
			}
			if err := c.Issue(tc.probe.cmd, tc.probe.a, tc.want); err != nil {
				t.Fatalf("%v at the earliest cycle: %v", tc.probe.cmd, err)
			}
		})
	}
}

func TestBankState(t *testing.T) {
	c, err := NewChannel(DDR4_2400R(), Table63())
	if err != nil {
		t.Fatal(err)
	}
	a := bk(0, 0, 0)
	if err := c.Issue(RD, a, 10); !errors.Is(err, ErrState) {
		t.Errorf("read of a closed bank: %v", err)
	}
	if err := c.Issue(PRE, a, 10); !errors.Is(err, ErrState) {
		t.Errorf("precharge of a closed bank: %v", err)
	}
	if err := c.Issue(ACT, a, 10); err != nil {
		t.Fatal(err)
	}
	if err := c.Issue(ACT, a, 100); !errors.Is(err, ErrState) {
		t.Errorf("ACT of an open bank: %v", err)
	}
	other := a
	other.Row = 8
	if err := c.Issue(RD, other, 100); !errors.Is(err, ErrState) {
		t.Errorf("read of another row: %v", err)
	}
	if err := c.Issue(REF, a, 100); !errors.Is(err, ErrState) {
		t.Errorf("REF with a row open: %v", err)
	}
	if err := c.Issue(RD, Addr{Rank: 8}, 200); err == nil {
		t.Error("rank 8 of 8 accepted")
	}
	if _, err := c.Earliest(numCommands, a); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestTimingValidate(t *testing.T) {
	for _, p := range Presets() {
		tm, err := Preset(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := tm.Validate(); err != nil {
			t.Errorf("preset %s: %v", p, err)
		}
		for _, f := range []string{"CL", "CWL", "RCD", "RP", "RAS", "RC", "CCDS", "CCDL", "RRDS", "RRDL", "FAW", "WR", "RTP", "WTRS", "WTRL", "RTRS", "RFC", "REFI"} {
			if tm.Source[f] == "" {
				t.Errorf("preset %s: t%s has no source", p, f)
			}
		}
	}
	if _, err := Preset("DDR5-6400"); err == nil {
		t.Error("unknown preset accepted")
	}
	if tm, err := Preset("ddr4-2400r"); err != nil || tm.Name != "DDR4-2400R" {
		t.Errorf("case-insensitive preset: %v", err)
	}
	for name, mod := range map[string]func(*Timing){
		"tRC < tRAS+tRP":  func(t *Timing) { t.RC = 40 },
		"tCCD_S < burst":  func(t *Timing) { t.CCDS = 2 },
		"tCCD_L < tCCD_S": func(t *Timing) { t.CCDL = 3; t.CCDS = 4 },
		"tRRD_L < tRRD_S": func(t *Timing) { t.RRDL = 2 },
		"tWTR_L < tWTR_S": func(t *Timing) { t.WTRL = 1 },
		"tRFC ≥ tREFI":    func(t *Timing) { t.RFC = t.REFI },
		"zero CL":         func(t *Timing) { t.CL = 0 },
		"tRAS < tRCD":     func(t *Timing) { t.RAS = 10; t.RC = 100 },
		"no clock":        func(t *Timing) { t.TCKps = 0 },
		"negative tRTRS":  func(t *Timing) { t.RTRS = -1 },
	} {
		tm := DDR4_2400R()
		mod(tm)
		if err := tm.Validate(); err == nil {
			t.Errorf("%s accepted", name)
		}
		if _, err := NewChannel(tm, Table63()); err == nil {
			t.Errorf("channel with %s built", name)
		}
	}
}
