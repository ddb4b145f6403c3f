package nmp

import (
	"fmt"
	"math/bits"
	"sort"

	"github.com/elasticml/elastic/sim/core"
)

// Level is where a design's units sit, which decides the DRAM bandwidth
// they see.
type Level uint8

// The levels.
const (
	// RankLevel: one DRAM stream per rank, the rank's own chips behind
	// their own controller (19.2 GB/s at DDR4-2400), all ranks in
	// parallel — ENMC's placement.
	RankLevel Level = iota
	// DIMMLevel: one DRAM stream per DIMM, its ranks sharing the DIMM's
	// 64-bit bus (19.2 GB/s per DIMM; one 8-rank DIMM per channel).
	DIMMLevel
)

func (l Level) String() string {
	if l == DIMMLevel {
		return "dimm"
	}
	return "rank"
}

// Dataflow is how a unit computes a dot product.
type Dataflow uint8

// The dataflows.
const (
	// Vector: Lanes FP32 multiply-accumulate lanes over consecutive
	// elements (a SIMD unit built for element-wise embedding operations);
	// each dot product ends with log2(Lanes) shuffle-and-add steps that
	// reduce the lanes to one sum.
	Vector Dataflow = iota
	// CGRA: Lanes functional units, each one FP32 operation a cycle; a dot
	// product maps to Lanes/2 multipliers feeding an adder tree and an
	// accumulator, Lanes/2 MACs a cycle.
	CGRA
	// Systolic: an ArrayRows × ArrayCols output-stationary array computing
	// ArrayRows outputs for ArrayCols batch items at once, one MAC per PE
	// a cycle; fewer items than columns leave columns idle.
	Systolic
)

func (d Dataflow) String() string {
	switch d {
	case CGRA:
		return "cgra"
	case Systolic:
		return "systolic"
	}
	return "vector"
}

// A Design is a near-memory baseline: its placement, compute and buffers,
// and its Table 6.4 area and power per unit.
type Design struct {
	Name  string
	Level Level
	// Units is the compute units on one DRAM stream. With ByteLane each
	// sits in a data-buffer chip and sees only its 8-bit lane of every
	// burst (8 bytes of 64), so the units of a DIMM move in lockstep and
	// an operand every unit needs is stored once per lane; without it the
	// stream's bursts go whole to one unit and shared operands are
	// broadcast.
	Units    int
	ByteLane bool
	Dataflow Dataflow
	// Lanes is the FP32 operations a unit starts per cycle (VPU lanes,
	// CGRA FUs); ArrayRows × ArrayCols is a systolic array's shape.
	Lanes                int
	ArrayRows, ArrayCols int
	// Buffers per unit, in bytes: features (held as FP32: the datapath
	// has no INT4 arithmetic), streamed operands (weights, rows, spilled
	// partial sums in flight), partial sums.
	FeatureBytes, StreamBytes, PsumBytes int
	ClockHz                              uint64
	// Per unit, thesis Table 6.4 (control logic and DRAM controller
	// excluded, as there).
	AreaMM2, PowerMW float64
	// Where and Source cite the thesis's description and say what is
	// assumed.
	Where, Source string
}

// PeakMACs is the FP32 MACs a unit can complete per cycle.
func (d Design) PeakMACs() int {
	switch d.Dataflow {
	case CGRA:
		return d.Lanes / 2
	case Systolic:
		return d.ArrayRows * d.ArrayCols
	}
	return d.Lanes
}

// Validate reports a design that cannot be simulated.
func (d Design) Validate() error {
	ps := []core.Param{{Name: "units", Value: d.Units}, {Name: "feature bytes", Value: d.FeatureBytes},
		{Name: "stream bytes", Value: d.StreamBytes}, {Name: "psum bytes", Value: d.PsumBytes}}
	if d.Dataflow == Systolic {
		ps = append(ps, core.Param{Name: "array rows", Value: d.ArrayRows}, core.Param{Name: "array cols", Value: d.ArrayCols})
	} else {
		ps = append(ps, core.Param{Name: "lanes", Value: d.Lanes})
	}
	if err := core.Positive("nmp: design "+d.Name, ps...); err != nil {
		return err
	}
	switch {
	case d.Dataflow > Systolic || d.Level > DIMMLevel:
		return fmt.Errorf("nmp: design %s: unknown dataflow %d or level %d", d.Name, d.Dataflow, d.Level)
	case d.Dataflow == CGRA && d.Lanes < 2:
		return fmt.Errorf("nmp: design %s: a CGRA needs at least 2 FUs (a multiplier and an adder)", d.Name)
	case d.ClockHz == 0:
		return fmt.Errorf("nmp: design %s: clock 0 Hz", d.Name)
	case d.ByteLane && d.StreamBytes < 8 || !d.ByteLane && d.Units*d.StreamBytes < 64:
		return fmt.Errorf("nmp: design %s: the stream buffers hold no whole burst", d.Name)
	case d.FeatureBytes < 4 || d.PsumBytes < 4:
		return fmt.Errorf("nmp: design %s: feature and partial-sum buffers must hold a float", d.Name)
	case !(d.PowerMW >= 0) || !(d.AreaMM2 >= 0):
		return fmt.Errorf("nmp: design %s: negative area or power", d.Name)
	}
	return nil
}

// dot returns the cycles one unit needs for rows dot products of length
// k for each of items inputs.
func (d Design) dot(rows, k, items int) int64 {
	r, kk, b := int64(rows), int64(k), int64(items)
	switch d.Dataflow {
	case CGRA:
		return r * b * ceil(kk, int64(d.Lanes/2))
	case Systolic:
		return ceil(r, int64(d.ArrayRows)) * ceil(b, int64(d.ArrayCols)) * kk
	}
	return r * b * (ceil(kk, int64(d.Lanes)) + int64(bits.Len(uint(d.Lanes))-1))
}

// ops returns the cycles one unit needs for n independent element
// operations (threshold comparisons, exponential series terms).
func (d Design) ops(n int64) int64 {
	if n == 0 {
		return 0
	}
	lanes := int64(d.Lanes)
	if d.Dataflow == Systolic {
		lanes = int64(d.ArrayRows * d.ArrayCols)
	}
	return ceil(n, lanes)
}

func ceil(a, b int64) int64 { return (a + b - 1) / b }

// Table 6.4's per-unit budgets.
const (
	ndaArea, ndaPower             = 0.445, 293.6
	chameleonArea, chameleonPower = 0.398, 249.0
	tdArea, tdPower               = 0.457, 303.5
)

// NDA is thesis Table 6.4's NDA [158]: "4*4 functional units + 1 KB
// memory", a CGRA "stacking coarse-grain reconfigurable accelerators with
// DRAM devices" (§6.5.2). The devices of a rank are accessed in lockstep,
// so the accelerators of a rank together see that rank's bandwidth: one
// unit per rank. Assumed: FUs that each do one FP32 operation a cycle
// (a MAC takes a multiplier and an adder), the 1 KB split 512 B features
// / 256 B stream / 256 B partial sums, 400 MHz.
func NDA() Design {
	return Design{Name: "NDA", Level: RankLevel, Units: 1, Dataflow: CGRA, Lanes: 16,
		FeatureBytes: 512, StreamBytes: 256, PsumBytes: 256, ClockHz: 400_000_000,
		AreaMM2: ndaArea, PowerMW: ndaPower,
		Where: "rank: CGRA on the rank's DRAM devices (thesis §6.5.2, [158])",
		Source: "Table 6.4: 4×4 FUs + 1 KB, 0.445 mm², 293.6 mW; assumed: one FP32 op per FU per cycle " +
			"(8 MACs/cycle as multiplier + adder-tree), 1 KB = 512 B features + 256 B stream + 256 B psum, 400 MHz"}
}

// Chameleon is Table 6.4's Chameleon [159]: "4*4 systolic array + 1 KB
// memory", "similar to NDA ... a 2D architecture ... on how to integrate
// the accelerator with commercial DRAM" (§6.5.2); Chameleon puts its
// accelerators in an LRDIMM's data-buffer chips, each on one byte lane of
// the DIMM's bus. Assumed: 8 data buffers per DIMM (one per lane, the ECC
// lane unused) with a Table 6.4 budget each, an output-stationary array
// (4 rows × 4 batch items), the 1 KB split as NDA's, 400 MHz.
func Chameleon() Design {
	return Design{Name: "Chameleon", Level: DIMMLevel, Units: 8, ByteLane: true, Dataflow: Systolic,
		ArrayRows: 4, ArrayCols: 4, Lanes: 16,
		FeatureBytes: 512, StreamBytes: 256, PsumBytes: 256, ClockHz: 400_000_000,
		AreaMM2: chameleonArea, PowerMW: chameleonPower,
		Where: "DIMM data buffers: 8 per DIMM, each on one byte lane of the DIMM's bus ([159])",
		Source: "Table 6.4: 4×4 systolic array + 1 KB, 0.398 mm², 249.0 mW; assumed: 8 data buffers per DIMM, " +
			"output-stationary 4 rows × 4 items, 1 KB = 512 B features + 256 B stream + 256 B psum, 400 MHz"}
}

// TensorDIMM is Table 6.4's TensorDIMM [25]: "16-lane VPU + 512 B queue
// * 3", an NMP core that "leverages the VPU to accelerate the embedding
// operations" (§6.5.2), in the buffer device of each DIMM. Assumed: one
// core per DIMM (TensorDIMM's placement), queues for features, streamed
// operands and outputs, 400 MHz.
func TensorDIMM() Design {
	return Design{Name: "TensorDIMM", Level: DIMMLevel, Units: 1, Dataflow: Vector, Lanes: 16,
		FeatureBytes: 512, StreamBytes: 512, PsumBytes: 512, ClockHz: 400_000_000,
		AreaMM2: tdArea, PowerMW: tdPower,
		Where: "DIMM buffer device, one NMP core per DIMM ([25])",
		Source: "Table 6.4: 16-lane VPU + 3 × 512 B queues, 0.457 mm², 303.5 mW; assumed: one core per DIMM, " +
			"queues = features / stream / outputs, log2(16) shuffle-add steps per dot product, 400 MHz"}
}

// TensorDIMMLarge is TensorDIMM grown to ENMC's total logic budget: as
// many Table 6.4 cores per DIMM as ENMC has ranks per DIMM (8), sharing
// the buffer device's view of the DIMM. The thesis names TensorDIMM-Large
// (§6.6.2) without defining it; this definition is assumed.
func TensorDIMMLarge() Design {
	d := TensorDIMM()
	d.Name, d.Units = "TensorDIMM-Large", 8
	d.Where = "DIMM buffer device, 8 TensorDIMM cores per DIMM (ENMC's logic budget per DIMM)"
	d.Source = "assumed (the thesis does not define it): 8 × the Table 6.4 TensorDIMM core per DIMM; per core as TensorDIMM"
	return d
}

// TensorDIMMRank is a sensitivity variant, not a thesis design: a
// TensorDIMM core at every rank (ENMC's placement and unit count), the
// reading under which TensorDIMM sees rank-level bandwidth.
func TensorDIMMRank() Design {
	d := TensorDIMM()
	d.Name, d.Level = "TensorDIMM@rank", RankLevel
	d.Where = "rank (sensitivity variant: a TensorDIMM core at every rank, as ENMC)"
	d.Source = "assumed placement; per core as TensorDIMM"
	return d
}

// Designs returns the named designs: the four baselines of §6.6.2 and the
// rank-level TensorDIMM variant.
func Designs() map[string]func() Design {
	return map[string]func() Design{
		"nda": NDA, "chameleon": Chameleon, "tensordimm": TensorDIMM,
		"tensordimm-large": TensorDIMMLarge, "tensordimm-rank": TensorDIMMRank,
	}
}

// DesignNames lists Designs' keys, sorted.
func DesignNames() []string {
	var out []string
	for k := range Designs() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ByName returns a named design.
func ByName(name string) (Design, error) {
	f, ok := Designs()[name]
	if !ok {
		return Design{}, fmt.Errorf("nmp: unknown design %q (%v)", name, DesignNames())
	}
	return f(), nil
}
