package core

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestConvert(t *testing.T) {
	dram := Clock{"dram", 1_200_000_000}
	logic := Clock{"logic", 400_000_000}
	odd := Clock{"odd", 1_333_333_333}
	for _, tc := range []struct {
		n        int64
		from, to Clock
		want     int64
	}{
		{0, dram, logic, 0},
		{3, dram, logic, 1},
		{4, dram, logic, 2}, // a partial logic cycle counts whole
		{1, logic, dram, 3},
		{1 << 40, logic, dram, 3 << 40},
		{7, dram, odd, 8}, // 7×1.333…/1.2 = 7.78 → 8
		{1<<62 - 1, dram, dram, 1<<62 - 1},
	} {
		got, err := Convert(tc.n, tc.from, tc.to)
		if err != nil || got != tc.want {
			t.Errorf("Convert(%d, %s, %s) = %d, %v; want %d", tc.n, tc.from.Name, tc.to.Name, got, err, tc.want)
		}
		// Converting back never loses time.
		back, err := Convert(got, tc.to, tc.from)
		if err != nil || back < tc.n {
			t.Errorf("round trip of %d %s cycles gives %d (%v)", tc.n, tc.from.Name, back, err)
		}
	}
	if _, err := Convert(1, Clock{"zero", 0}, dram); err == nil {
		t.Error("zero-frequency clock accepted")
	}
	if _, err := Convert(-1, dram, logic); err == nil {
		t.Error("negative count accepted")
	}
	if _, err := Convert(1<<62, logic, dram); err == nil {
		t.Error("overflow not reported")
	}
}

// counter ticks every cycle until n, recording the base ticks it saw.
type counter struct {
	e     *Engine
	n     int64
	seen  []int64
	trace *[]string
	name  string
}

func (c *counter) Tick(cyc int64) int64 {
	c.seen = append(c.seen, cyc)
	*c.trace = append(*c.trace, c.name)
	if cyc+1 >= c.n {
		return Idle
	}
	return cyc + 1
}

func TestEngineDomainsAndOrder(t *testing.T) {
	run := func() ([]string, int64) {
		e, err := NewEngine(Clock{"base", 1_200_000_000})
		if err != nil {
			t.Fatal(err)
		}
		var trace []string
		fast := &counter{e: e, n: 6, trace: &trace, name: "F"}
		slow := &counter{e: e, n: 2, trace: &trace, name: "S"}
		if _, err := e.Add(fast, Clock{"fast", 1_200_000_000}); err != nil {
			t.Fatal(err)
		}
		sid, err := e.Add(slow, Clock{"slow", 400_000_000})
		if err != nil {
			t.Fatal(err)
		}
		// An event at tick 4 fires before the components of tick 4 and
		// wakes the slow component again at its cycle 5 (tick 15).
		if err := e.At(4, func() { trace = append(trace, "E"); slow.n = 6; e.Wake(sid, 5) }); err != nil {
			t.Fatal(err)
		}
		last, err := e.Run(0)
		if err != nil {
			t.Fatal(err)
		}
		if got := slow.seen; len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 5 {
			t.Errorf("slow component ticked at cycles %v, want [0 1 5]", got)
		}
		return trace, last
	}
	tr, last := run()
	want := "F S F F F S E F F"
	if got := strings.Join(tr, " "); !strings.HasPrefix(got, want) || last != 15 {
		t.Errorf("trace %q (last tick %d), want prefix %q and last tick 15", got, last, want)
	}
	tr2, last2 := run()
	if strings.Join(tr, " ") != strings.Join(tr2, " ") || last != last2 {
		t.Error("two identical runs differ")
	}
}

func TestEngineErrors(t *testing.T) {
	e, _ := NewEngine(Clock{"base", 1_200_000_000})
	if _, err := e.Add(&counter{}, Clock{"x", 500_000_000}); err == nil {
		t.Error("clock that does not divide the base accepted")
	}
	if _, err := NewEngine(Clock{"z", 0}); err == nil {
		t.Error("zero base clock accepted")
	}
	var trace []string
	c := &counter{e: e, n: 1 << 40, trace: &trace}
	if _, err := e.Add(c, e.Base()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(100); !errors.Is(err, ErrLimit) {
		t.Errorf("run past the limit: %v, want ErrLimit", err)
	}
	if err := e.At(5, func() {}); err == nil {
		t.Error("event in the past accepted")
	}
}

func TestSRAMPortsAndBanks(t *testing.T) {
	s, err := NewSRAM(SRAMConfig{Name: "buf", Bytes: 256, Width: 8, Banks: 2, Ports: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Words 0 and 2 share bank 0; word 1 is bank 1.
	for i, tc := range []struct {
		c    int64
		addr int
		want int64
	}{
		{10, 0, 10},  // bank 0 free
		{10, 8, 10},  // bank 1 free: different banks in one cycle
		{10, 16, 11}, // bank 0 busy: one cycle later
		{10, 0, 12},  // and the next one after it, in order
		{20, 16, 20}, // free again
	} {
		got, err := s.Access(tc.c, tc.addr, i%2 == 0)
		if err != nil || got != tc.want {
			t.Errorf("access %d: served at %d (%v), want %d", i, got, err, tc.want)
		}
	}
	st := s.Stats()
	if st.Reads+st.Writes != 5 || st.Conflicts != 2 || st.StallCycles != 3 {
		t.Errorf("stats %+v, want 5 accesses, 2 conflicts, 3 stall cycles", st)
	}
	if _, err := s.Access(0, 256, false); err == nil {
		t.Error("address past the end accepted")
	}
	two, _ := NewSRAM(SRAMConfig{Name: "dual", Bytes: 64, Width: 8, Banks: 1, Ports: 2})
	a, _ := two.Access(0, 0, false)
	b, _ := two.Access(0, 8, true)
	c, _ := two.Access(0, 16, false)
	if a != 0 || b != 0 || c != 1 {
		t.Errorf("two ports: served at %d %d %d, want 0 0 1", a, b, c)
	}
	for _, bad := range []SRAMConfig{{Bytes: 0, Width: 8, Banks: 1, Ports: 1}, {Bytes: 100, Width: 8, Banks: 2, Ports: 1}} {
		if _, err := NewSRAM(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestEnergyTables(t *testing.T) {
	h := Horowitz45()
	fp, err := h.Lookup("fp32_mul")
	if err != nil || fp.PJ != 3.7 || fp.NodeNM != 45 || !fp.Published {
		t.Fatalf("fp32_mul = %+v, %v", fp, err)
	}
	s, err := h.Scaled("t28", 28, 0.5, "assumed")
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range s.Entries() {
		o := h.Entries()[i]
		if e.Published || e.NodeNM != 28 || math.Abs(e.PJ-0.5*o.PJ) > 1e-12 || !strings.Contains(e.Source, "assumed") {
			t.Errorf("scaled %s = %+v", e.Op, e)
		}
	}
	if _, err := h.Lookup("nope"); err == nil {
		t.Error("unknown op found")
	}
	if _, err := h.Scaled("x", 28, -1, "why"); err == nil {
		t.Error("negative factor accepted")
	}
	for _, bad := range []Energy{
		{Op: "a", PJ: math.NaN(), NodeNM: 1, Source: "s"},
		{Op: "a", PJ: -1, NodeNM: 1, Source: "s"},
		{Op: "a", PJ: 1, NodeNM: 1},
	} {
		if _, err := NewEnergyTable("bad", bad); err == nil {
			t.Errorf("entry %+v accepted", bad)
		}
	}
	if _, err := NewEnergyTable("dup", Energy{Op: "a", NodeNM: 1, Source: "s"}, Energy{Op: "a", NodeNM: 1, Source: "s"}); err == nil {
		t.Error("duplicate entry accepted")
	}
	l := NewLedger(h)
	if err := l.Charge("logic", "fp32_mul", 10); err != nil {
		t.Fatal(err)
	}
	l.AddPJ("static", 5)
	if got := l.Total(); math.Abs(got-42) > 1e-9 {
		t.Errorf("ledger total %v, want 42", got)
	}
	if err := l.Charge("logic", "nope", 1); err == nil {
		t.Error("charge of an unknown op accepted")
	}
}

func TestBoundsAndUtilisation(t *testing.T) {
	bw := Bound{"bandwidth", 1000, 64} // 16 cycles (15.6 rounded up)
	mac := Bound{"compute", 2048, 128} // 16 cycles
	if err := CheckBounds(16, bw, mac); err != nil {
		t.Error(err)
	}
	if err := CheckBounds(15, bw, mac); err == nil {
		t.Error("run faster than its bandwidth bound accepted")
	}
	if err := CheckBounds(10, Bound{"zero", 1, 0}); err == nil {
		t.Error("zero-rate bound accepted")
	}
	if u, err := Utilisation(3, 4); err != nil || u != 0.75 {
		t.Errorf("Utilisation(3,4) = %v, %v", u, err)
	}
	if _, err := Utilisation(5, 4); err == nil {
		t.Error("utilisation above 1 accepted")
	}
	c := Counters{}
	c.Add("b", 1)
	c.Add("a", 2)
	if n := c.Names(); len(n) != 2 || n[0] != "a" {
		t.Errorf("names %v", n)
	}
}

// wakeSelf wakes itself for the current cycle; the engine must not tick
// it twice in one cycle.
type wakeSelf struct {
	e     *Engine
	id    ComponentID
	ticks []int64
}

func (w *wakeSelf) Tick(c int64) int64 {
	w.ticks = append(w.ticks, c)
	if len(w.ticks) < 3 {
		w.e.Wake(w.id, c) // asks for this very cycle again
		return Idle
	}
	return Idle
}

func TestWakeOncePerCycle(t *testing.T) {
	e, _ := NewEngine(Clock{"base", 1_200_000_000})
	w := &wakeSelf{e: e}
	id, err := e.Add(w, Clock{"slow", 400_000_000})
	if err != nil {
		t.Fatal(err)
	}
	w.id = id
	if _, err := e.Run(0); err != nil {
		t.Fatal(err)
	}
	if len(w.ticks) != 3 || w.ticks[0] != 0 || w.ticks[1] != 1 || w.ticks[2] != 2 {
		t.Errorf("ticks %v, want [0 1 2]: a wake for a ticked cycle moves to the next", w.ticks)
	}
}

func TestPositive(t *testing.T) {
	if err := Positive("cfg", Param{"a", 1}, Param{"b", 2}); err != nil {
		t.Error(err)
	}
	err := Positive("cfg", Param{"a", 1}, Param{"b", 0}, Param{"c", -1})
	if err == nil || !strings.Contains(err.Error(), "cfg: b = 0") {
		t.Errorf("error %v, want the first bad parameter named", err)
	}
}
