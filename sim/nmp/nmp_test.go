package nmp

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/elasticml/elastic/sim/enmc"
)

// smallTask is 64×300 classes (300 rows per rank, 2400 per DIMM) of dim
// 128 with a k = 32 screener.
func smallTask(t *testing.T, batch, m int) *enmc.Task {
	t.Helper()
	task, err := enmc.SyntheticTask(64*300, 128, 32, batch, m, 5)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func TestDotCycles(t *testing.T) {
	vec, cgra, sys := TensorDIMM(), NDA(), Chameleon()
	for _, c := range []struct {
		d               Design
		rows, k, items  int
		want            int64
		why             string
		peak            int
		opsN, opsCycles int64
		opsWhy          string
	}{
		{vec, 10, 128, 2, 10 * 2 * (8 + 4), "8 vector MACs + log2(16) reduction steps per dot product", 16, 33, 3, "33 compares on 16 lanes"},
		{cgra, 10, 128, 2, 10 * 2 * 16, "8 MACs a cycle (8 multipliers, adder tree)", 8, 16, 1, "16 compares on 16 FUs"},
		{sys, 10, 128, 2, 3 * 1 * 128, "⌈10/4⌉ row tiles × one item tile × k", 16, 17, 2, "17 compares on 16 PEs"},
		{sys, 10, 128, 4, 3 * 1 * 128, "4 items fill the 4 columns at no extra cost", 16, 0, 0, "nothing to compare"},
		{sys, 10, 128, 5, 3 * 2 * 128, "a fifth item needs a second column tile", 16, 1, 1, "one compare"},
	} {
		if got := c.d.dot(c.rows, c.k, c.items); got != c.want {
			t.Errorf("%s dot(%d, %d, %d) = %d, want %d (%s)", c.d.Name, c.rows, c.k, c.items, got, c.want, c.why)
		}
		if got := c.d.PeakMACs(); got != c.peak {
			t.Errorf("%s peak %d MACs/cycle, want %d", c.d.Name, got, c.peak)
		}
		if got := c.d.ops(c.opsN); got != c.opsCycles {
			t.Errorf("%s ops(%d) = %d, want %d (%s)", c.d.Name, c.opsN, got, c.opsCycles, c.opsWhy)
		}
	}
}

// Table 6.4's budgets are what the presets carry, with their sources.
func TestTable64(t *testing.T) {
	for _, c := range []struct {
		d           Design
		area, power float64
	}{{NDA(), 0.445, 293.6}, {Chameleon(), 0.398, 249.0}, {TensorDIMM(), 0.457, 303.5}, {TensorDIMMLarge(), 0.457, 303.5}} {
		if c.d.AreaMM2 != c.area || c.d.PowerMW != c.power {
			t.Errorf("%s: %v mm², %v mW, Table 6.4 says %v, %v", c.d.Name, c.d.AreaMM2, c.d.PowerMW, c.area, c.power)
		}
		if !strings.Contains(c.d.Source, "assumed") || c.d.Where == "" {
			t.Errorf("%s: source %q does not say what is assumed", c.d.Name, c.d.Source)
		}
		if err := c.d.Validate(); err != nil {
			t.Error(err)
		}
	}
	if NDA().PeakMACs() != 8 || TensorDIMM().PeakMACs() != 16 || Chameleon().PeakMACs() != 16 {
		t.Error("16 FP32 units per Table 6.4 budget")
	}
}

func TestRunInvariants(t *testing.T) {
	for _, name := range DesignNames() {
		d, err := ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 4} {
			task := smallTask(t, batch, 40)
			r, err := Run(task, d)
			if err != nil {
				t.Fatalf("%s batch %d: %v", name, batch, err)
			}
			if r.Cycles < r.ComputeBound || r.Cycles < r.BandwidthBound || r.ComputeBound <= 0 {
				t.Errorf("%s batch %d: %d cycles, bounds compute %d bandwidth %d", name, batch, r.Cycles, r.ComputeBound, r.BandwidthBound)
			}
			if r.ExecMACs != int64(task.NumCandidates()*task.Dim) || r.Candidates != task.NumCandidates() {
				t.Errorf("%s: %d FP32 MACs at full precision for %d candidates × %d", name, r.ExecMACs, task.NumCandidates(), task.Dim)
			}
			if r.ScreenMACs != int64(task.Classes*task.K*batch) || r.ScreenBytes < int64(task.Classes*task.K/2) {
				t.Errorf("%s: screening %d MACs over %d bytes", name, r.ScreenMACs, r.ScreenBytes)
			}
			if r.ExecBytes < int64(task.NumCandidates()*task.Dim*4) {
				t.Errorf("%s: %d bytes of candidate rows for %d candidates", name, r.ExecBytes, task.NumCandidates())
			}
			if !(r.ComputeUtil > 0 && r.ComputeUtil <= 1) {
				t.Errorf("%s: utilisation %v", name, r.ComputeUtil)
			}
			logic := d.PowerMW * 1e-3 * float64(r.Units) * r.TimeUS
			if math.Abs(r.EnergyPartsUJ["logic"]-logic) > 1e-9*logic || r.EnergyPartsUJ["dram_static"] <= 0 || r.EnergyPartsUJ["dram_access"] <= 0 {
				t.Errorf("%s: energy %v, logic should be %v", name, r.EnergyPartsUJ, logic)
			}
			again, err := Run(task, d)
			if err != nil || !reflect.DeepEqual(r, again) {
				t.Errorf("%s: two runs differ (%v)", name, err)
			}
		}
	}
}

// A batch of FP32 features that does not fit the feature buffer splits k;
// each row's partial sums then go to DRAM after every chunk but the last
// and come back before every chunk but the first.
func TestPartialSumSpill(t *testing.T) {
	d := NDA() // 512 B of features: 128 floats
	for _, c := range []struct{ batch, k, chunks int }{{1, 128, 1}, {2, 128, 2}, {4, 128, 4}, {4, 32, 1}} {
		task, err := enmc.SyntheticTask(64*300, 128, c.k, c.batch, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(task, d)
		if err != nil {
			t.Fatal(err)
		}
		// 300 rows per rank × batch × 4 bytes, in whole bursts, twice per
		// chunk boundary, 64 ranks.
		per := int64((300*c.batch*4 + 63) / 64 * 64)
		if want := 64 * 2 * int64(c.chunks-1) * per; r.FeatureChunks != c.chunks || r.SpillBytes != want {
			t.Errorf("batch %d k %d: %d chunks, %d spill bytes; want %d, %d", c.batch, c.k, r.FeatureChunks, r.SpillBytes, c.chunks, want)
		}
	}
}

// An output-stationary 4-column array computes up to 4 items in the time
// of one; a vector unit takes 4 times as long for 4.
func TestBatchScaling(t *testing.T) {
	screen := func(d Design, batch int) int64 {
		task := smallTask(t, batch, 0)
		p, err := compile(d, task, 0, 8, 1<<36)
		if err != nil {
			t.Fatal(err)
		}
		return p.computeCyc
	}
	// Only the threshold filter (⌈300·B/16⌉ cycles for the busiest data
	// buffer's 300 rows) grows with the batch.
	c := Chameleon()
	if a, b := screen(c, 1), screen(c, 4); b-a != c.ops(300*4)-c.ops(300) {
		t.Errorf("Chameleon screening: batch 1 %d cycles, batch 4 %d; want equal but for the filter", a, b)
	}
	d := TensorDIMM()
	d.FeatureBytes = 4096 // no k split
	if a, b := screen(d, 1), screen(d, 4); b < 4*a-64 || b > 4*a {
		t.Errorf("vector screening: batch 1 %d cycles, batch 4 %d; want ≈ 4×", a, b)
	}
}

// Where a unit sits decides its bandwidth: a design fast enough to be
// bandwidth-bound screens ≈ 8× slower behind a DIMM's shared bus than at
// every rank; data-buffer units store shared features once per lane.
func TestPlacement(t *testing.T) {
	wide := Design{Name: "wide", Level: RankLevel, Units: 1, Dataflow: CGRA, Lanes: 1024,
		FeatureBytes: 4096, StreamBytes: 4096, PsumBytes: 1024, ClockHz: 400_000_000}
	task, err := enmc.SyntheticTask(64*4000, 128, 128, 1, 0, 5) // 256 KB of screener per rank
	if err != nil {
		t.Fatal(err)
	}
	rank, err := Run(task, wide)
	if err != nil {
		t.Fatal(err)
	}
	wide.Level = DIMMLevel
	dimm, err := Run(task, wide)
	if err != nil {
		t.Fatal(err)
	}
	if ratio := float64(dimm.Cycles) / float64(rank.Cycles); ratio < 6 || ratio > 9 {
		t.Errorf("DIMM-level %d cycles, rank-level %d: ratio %.2f, want ≈ 8", dimm.Cycles, rank.Cycles, ratio)
	}
	if rank.Cycles > rank.BandwidthBound*3/2 {
		t.Errorf("the wide design is not bandwidth-bound: %d cycles, bound %d", rank.Cycles, rank.BandwidthBound)
	}
	lane := Chameleon()
	whole := lane
	whole.ByteLane = false
	a, err := Run(task, lane)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(task, whole)
	if err != nil {
		t.Fatal(err)
	}
	// 64 bytes of INT4 features: one burst broadcast, 8 at 8 bytes a lane.
	if a.FeatureBytes != 8*b.FeatureBytes || b.FeatureBytes != 64*int64(b.Streams) {
		t.Errorf("byte-lane features %d bytes, broadcast %d: want 8×", a.FeatureBytes, b.FeatureBytes)
	}
	large, err := Run(task, TensorDIMMLarge())
	if err != nil {
		t.Fatal(err)
	}
	td, err := Run(task, TensorDIMM())
	if err != nil {
		t.Fatal(err)
	}
	if large.Cycles >= td.Cycles {
		t.Errorf("8 cores per DIMM (%d cycles) not faster than 1 (%d)", large.Cycles, td.Cycles)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := ByName("tpu"); err == nil {
		t.Error("unknown design accepted")
	}
	task := smallTask(t, 1, 5)
	for name, d := range map[string]Design{
		"no lanes":      func() Design { d := TensorDIMM(); d.Lanes = 0; return d }(),
		"no clock":      func() Design { d := NDA(); d.ClockHz = 0; return d }(),
		"tiny stream":   func() Design { d := TensorDIMM(); d.StreamBytes = 32; return d }(),
		"odd clock":     func() Design { d := NDA(); d.ClockHz = 350_000_000; return d }(),
		"features":      func() Design { d := NDA(); d.FeatureBytes = 2; return d }(),
		"bad dataflow":  func() Design { d := NDA(); d.Dataflow = 9; return d }(),
		"negative area": func() Design { d := NDA(); d.AreaMM2 = -1; return d }(),
	} {
		if _, err := Run(task, d); err == nil {
			t.Errorf("%s: ran", name)
		}
	}
	big := smallTask(t, 8, 1)
	d := NDA()
	d.FeatureBytes = 16 // 4 floats for 8 items
	if _, err := Run(big, d); err == nil || !strings.Contains(err.Error(), "batch") {
		t.Errorf("batch above the feature buffer: %v", err)
	}
	bad := *task
	bad.Candidates = [][]int32{{int32(task.Classes)}}
	if _, err := Run(&bad, NDA()); err == nil {
		t.Error("candidate outside the classes accepted")
	}
}
