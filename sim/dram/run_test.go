package dram

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// oneChannel is Table 6.3 with one channel, to keep tests short; the
// channels are independent, so per-channel results carry over.
func oneChannel() Org {
	o := Table63()
	o.Channels = 1
	return o
}

func TestStreamMeetsRefreshBound(t *testing.T) {
	r, err := Run(Options{Org: oneChannel(), Pattern: "stream", Requests: 40000})
	if err != nil {
		t.Fatal(err)
	}
	// Peak 2400 MT/s × 8 B = 19.2 GB/s, less tRFC/tREFI = 420/9360.
	bound := 19.2 * (1 - 420.0/9360)
	if math.Abs(r.GBpsPerChannel-bound)/bound > 0.05 {
		t.Errorf("stream %.3f GB/s per channel, want within 5%% of %.3f", r.GBpsPerChannel, bound)
	}
	if r.GBpsPerChannel > 19.2 {
		t.Errorf("stream %.3f GB/s beats the 19.2 GB/s data bus", r.GBpsPerChannel)
	}
	if math.Abs(r.RefreshShare-420.0/9360)/(420.0/9360) > 0.15 {
		t.Errorf("refresh share %.4f, want ≈ %.4f", r.RefreshShare, 420.0/9360)
	}
	if r.RowHitRate < 0.95 {
		t.Errorf("stream row hit rate %.3f", r.RowHitRate)
	}
}

func TestBankGroupMappingPaysCCDL(t *testing.T) {
	fast, err := Run(Options{Org: oneChannel(), Pattern: "stream", Requests: 20000, Mapping: "bg-interleaved"})
	if err != nil {
		t.Fatal(err)
	}
	slow, err := Run(Options{Org: oneChannel(), Pattern: "stream", Requests: 20000, Mapping: "bg-high"})
	if err != nil {
		t.Fatal(err)
	}
	// Bursts of one bank group are tCCD_L = 6 cycles apart instead of 4:
	// at most 19.2 × 4/6 = 12.8 GB/s, except where FR-FCFS overlaps the
	// end of one bank group's run with the next one's (5% slack).
	if slow.GBpsPerChannel > 12.8*1.05 || slow.GBpsPerChannel < 12.8*(1-420.0/9360)*0.95 {
		t.Errorf("bg-high stream %.3f GB/s, want ≈ 12.8 × (1 − refresh)", slow.GBpsPerChannel)
	}
	if slow.GBpsPerChannel > 0.8*fast.GBpsPerChannel {
		t.Errorf("bg-high %.3f GB/s vs bg-interleaved %.3f: no tCCD_L penalty", slow.GBpsPerChannel, fast.GBpsPerChannel)
	}
}

func TestDeterministic(t *testing.T) {
	opts := Options{Org: oneChannel(), Pattern: "random", Requests: 3000, Seed: 7, WriteFraction: 0.3}
	a, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("same options, different reports")
	}
	opts.Seed = 8
	c, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cycles == a.Cycles && c.EnergyPJ["total"] == a.EnergyPJ["total"] {
		t.Error("a different seed changed nothing")
	}
	if w := a.Commands["WR"]; w < 700 || w > 1100 {
		t.Errorf("%d writes of 3000 at fraction 0.3", w)
	}
	if a.RowHitRate > 0.05 {
		t.Errorf("random row hit rate %.3f over 2^20 rows per bank", a.RowHitRate)
	}
}

func TestTraceReplay(t *testing.T) {
	var b strings.Builder
	b.WriteString("# a stream then the same lines written\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "R %#x\n", i*64)
	}
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "W %d\n", i*64)
	}
	tr, err := ParseTrace(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := RunTrace(Options{}, tr)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := RunTrace(Options{}, tr)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Cycles != r2.Cycles || r1.Requests != 2500 || r1.Commands["WR"] != 500 {
		t.Errorf("replay: cycles %d/%d, %d requests, %d writes", r1.Cycles, r2.Cycles, r1.Requests, r1.Commands["WR"])
	}
	// 2000 lines over 8 channels by bg-interleaved, 250 each.
	if r1.Channels != 8 {
		t.Errorf("channels %d", r1.Channels)
	}
	if _, err := RunTrace(Options{}, []TraceRecord{{Addr: 1 << 40}}); err == nil {
		t.Error("address beyond the capacity accepted")
	}
}

func TestParseTraceErrors(t *testing.T) {
	for _, bad := range []string{"", "# only a comment\n", "X 0x10\n", "R\n", "R 0x10 extra\n", "R -5\n", "R 0xzz\n", "R 99999999999999999999999\n", strings.Repeat("R", 5000)} {
		if _, err := ParseTrace(strings.NewReader(bad)); err == nil {
			t.Errorf("trace %.20q accepted", bad)
		}
	}
}

func FuzzParseTrace(f *testing.F) {
	f.Add([]byte("R 0x40\nW 128\n# c\n\n"))
	f.Add([]byte("r 0\nw 0xffffffffffffffff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ParseTrace(bytes.NewReader(data))
		if err != nil {
			return
		}
		// What parsed prints back to a trace that parses the same.
		var b strings.Builder
		for _, r := range recs {
			k := "R"
			if r.Write {
				k = "W"
			}
			fmt.Fprintf(&b, "%s %#x\n", k, r.Addr)
		}
		again, err := ParseTrace(strings.NewReader(b.String()))
		if err != nil || !reflect.DeepEqual(recs, again) {
			t.Fatalf("round trip: %v", err)
		}
		// Replaying never panics; out-of-range addresses are errors.
		if len(recs) <= 64 {
			_, _ = RunTrace(Options{Org: oneChannel()}, recs)
		}
	})
}

func TestRunErrors(t *testing.T) {
	for name, o := range map[string]Options{
		"unknown pattern": {Pattern: "zigzag", Requests: 10},
		"unknown preset":  {Pattern: "stream", Requests: 10, Preset: "DDR3-1600"},
		"bad mapping":     {Pattern: "stream", Requests: 10, Mapping: "ro-ra-ba-co-ch"},
		"no requests":     {Pattern: "stream"},
		"write fraction":  {Pattern: "stream", Requests: 10, WriteFraction: 1.5},
		"NaN writes":      {Pattern: "stream", Requests: 10, WriteFraction: math.NaN()},
		"bad org":         {Pattern: "stream", Requests: 10, Org: Org{Channels: 1}},
	} {
		if _, err := Run(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMapping(t *testing.T) {
	o := Table63()
	for _, name := range []string{"bg-interleaved", "bg-high", "ch-ra-bg-ba-ro-co"} {
		m, err := ParseMapping(name)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[Addr]bool{}
		for _, addr := range []uint64{0, 64, 128, 4096, 1 << 20, 1 << 33, uint64(o.CapacityBytes()) - 64} {
			a, err := m.Decode(o, addr)
			if err != nil {
				t.Fatal(err)
			}
			if seen[a] {
				t.Errorf("%s: two addresses decode to %+v", name, a)
			}
			seen[a] = true
		}
	}
	m, _ := ParseMapping("bg-interleaved")
	for i := int64(0); i < 8; i++ {
		if a := m.Local(o, 3, i); a.BankGroup != int(i%4) || a.Channel != 3 || a.Column != int(i/4) {
			t.Errorf("bg-interleaved local line %d = %+v", i, a)
		}
	}
	h, _ := ParseMapping("bg-high")
	if a := h.Local(o, 0, 5); a.BankGroup != 0 || a.Column != 5 {
		t.Errorf("bg-high local line 5 = %+v", a)
	}
	for _, bad := range []string{"", "ro-ra-ba-co-ch", "ro-ra-ba-co-ch-ch", "ro-ra-ba-co-ch-xx", "bg-low"} {
		if _, err := ParseMapping(bad); err == nil {
			t.Errorf("mapping %q accepted", bad)
		}
	}
	if _, err := m.Decode(o, uint64(o.CapacityBytes())); err == nil {
		t.Error("address at the capacity accepted")
	}
	if o.CapacityBytes() != 8*64<<30 {
		t.Errorf("capacity %d, want 8 channels × 64 GB", o.CapacityBytes())
	}
}

func TestCommandEnergy(t *testing.T) {
	e, err := MT40A1G8().Energies(DDR4_2400R(), Table63())
	if err != nil {
		t.Fatal(err)
	}
	// By hand, 8 devices × 1.2 V × 0.8333 ns per nCK:
	// ACT–PRE (48·55 − 43·39 − 34·16) = 419 mA·nCK → 3352 pJ;
	// read (135 − 43)·4 → 2944 pJ; write (123 − 43)·4 → 2560 pJ;
	// refresh (250 − 43)·420 → 695 520 pJ; standby 43 → 344, 34 → 272 pJ.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"ACT-PRE", e.ActPre, 3352}, {"read", e.Read, 2944}, {"write", e.Write, 2560},
		{"refresh", e.Refresh, 695520}, {"active standby", e.ActiveStandby, 344}, {"precharge standby", e.PrechargeStdby, 272},
	} {
		if math.Abs(c.got-c.want) > 1e-6*c.want {
			t.Errorf("%s: %.3f pJ, want %.0f", c.name, c.got, c.want)
		}
	}
	bad := MT40A1G8()
	bad.IDD0 = 30
	if _, err := bad.Energies(DDR4_2400R(), Table63()); err == nil {
		t.Error("IDD0 below its standby accepted")
	}
	bad = MT40A1G8()
	bad.IDD4R = 40
	if err := bad.Validate(DDR4_2400R()); err == nil {
		t.Error("IDD4R below IDD3N accepted")
	}
}

type listSource struct {
	reqs []Request
	i    int
}

func (s *listSource) Next() (Request, bool) {
	if s.i == len(s.reqs) {
		return Request{}, false
	}
	s.i++
	return s.reqs[s.i-1], true
}

// FCFS serves in arrival order and still makes progress when a later
// request hits the row the head must close.
func TestFCFSOrderAndProgress(t *testing.T) {
	o := oneChannel()
	a := Addr{Row: 1}
	b := Addr{Row: 2} // same bank, conflicting row
	reqs := []Request{{Addr: a, Tag: 0}, {Addr: b, Tag: 1}, {Addr: a, Tag: 2}, {Addr: b, Tag: 3}}
	for _, fcfs := range []bool{true, false} {
		c, err := NewController(DDR4_2400R(), o, &listSource{reqs: reqs})
		if err != nil {
			t.Fatal(err)
		}
		c.SetFCFS(fcfs)
		var order []uint64
		c.OnDone(func(tag uint64, _ int64) { order = append(order, tag) })
		for cyc := int64(0); cyc < 2000 && len(order) < 4; cyc++ {
			c.Tick(cyc)
		}
		if err := c.Err(); err != nil {
			t.Fatal(err)
		}
		want := []uint64{0, 2, 1, 3} // FR-FCFS: the row hit first
		if fcfs {
			want = []uint64{0, 1, 2, 3}
		}
		if !reflect.DeepEqual(order, want) {
			t.Errorf("fcfs=%v: served %v, want %v", fcfs, order, want)
		}
	}
}

// After a long idle period the controller owes at most 8 refreshes per
// rank (JEDEC's postponement limit); the rest count as done while idle.
func TestRefreshAfterIdle(t *testing.T) {
	o := oneChannel()
	tm := DDR4_2400R()
	src := &listSource{reqs: []Request{{Addr: Addr{Row: 1}}}}
	c, err := NewController(tm, o, src)
	if err != nil {
		t.Fatal(err)
	}
	for cyc := int64(0); cyc < 100; cyc++ {
		c.Tick(cyc)
	}
	wake := int64(100 * tm.REFI)
	src.reqs = append(src.reqs, Request{Addr: Addr{Row: 2}, Tag: 1})
	var doneAt int64 = -1
	c.OnDone(func(tag uint64, end int64) {
		if tag == 1 {
			doneAt = end
		}
	})
	for cyc := wake; doneAt < 0 && cyc < wake+100000; cyc++ {
		c.Tick(cyc)
	}
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	// Rank r's refreshes fall due at (r+1)·tREFI/8 + n·tREFI: 100 per
	// rank by the wake-up, of which at most 8 per rank are issued live.
	if total := s.Commands[REF] + s.IdleRefreshes; total < 8*99 || total > 8*101 {
		t.Errorf("%d refreshes (%d live, %d idle), want ≈ 800", total, s.Commands[REF], s.IdleRefreshes)
	}
	if s.Commands[REF] > 8*9 {
		t.Errorf("%d refreshes issued after the wake-up, at most 8 per rank allowed", s.Commands[REF])
	}
	// The request waits for at most the rank's owed refreshes.
	if lim := wake + int64(9*tm.RFC+200); doneAt < 0 || doneAt > lim {
		t.Errorf("request done at %d, want by %d", doneAt, lim)
	}
}

// The controller issues each command at the first cycle the constraints
// allow; reads end CL + burst = 20 cycles after issue. FCFS gives
// commands to the oldest request only: ACT at 0, RD at 16 (tRCD), the
// second read at 22 (tCCD_L), then bank group 1's ACT at 23 and its read
// at 39 (tRCD). FR-FCFS activates bank group 1 at 4 (tRRD_S) meanwhile
// and takes the oldest *ready* read: bank group 1 at 20 (tRCD after its
// ACT, tCCD_S after the first read), then the second bank-group-0 read at
// 24 (tCCD_L from 16 allows 22, tCCD_S from 20 allows 24).
func TestControllerIssuesAtEarliest(t *testing.T) {
	reqs := []Request{
		{Addr: Addr{Row: 3, Column: 0}, Tag: 0},
		{Addr: Addr{Row: 3, Column: 1}, Tag: 1},
		{Addr: Addr{BankGroup: 1, Row: 5}, Tag: 2},
	}
	for _, tc := range []struct {
		fcfs bool
		want map[uint64]int64
	}{
		{true, map[uint64]int64{0: 36, 1: 42, 2: 59}},
		{false, map[uint64]int64{0: 36, 2: 40, 1: 44}},
	} {
		c, err := NewController(DDR4_2400R(), oneChannel(), &listSource{reqs: reqs})
		if err != nil {
			t.Fatal(err)
		}
		c.SetFCFS(tc.fcfs)
		end := map[uint64]int64{}
		c.OnDone(func(tag uint64, e int64) { end[tag] = e })
		for cyc := int64(0); cyc < 200; cyc++ {
			c.Tick(cyc)
		}
		if !reflect.DeepEqual(end, tc.want) {
			t.Errorf("fcfs=%v: read ends %v, want %v", tc.fcfs, end, tc.want)
		}
	}
}
