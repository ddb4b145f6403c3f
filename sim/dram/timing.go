package dram

import (
	"fmt"
	"sort"
	"strings"

	"github.com/elasticml/elastic/sim/core"
)

// Timing holds a DDR4 speed bin's timing parameters in clock cycles (nCK)
// of the command clock, which runs at half the data rate.
type Timing struct {
	Name    string
	RateMTs int     // data rate, mega-transfers per second
	TCKps   float64 // clock period in picoseconds
	BL      int     // burst length in nCK (BL8 on a DDR bus = 4 nCK)
	CL      int     // read latency (CAS latency, AL = 0)
	CWL     int     // write latency
	RCD     int     // ACT → RD/WR, same bank
	RP      int     // PRE → ACT, same bank
	RAS     int     // ACT → PRE, same bank
	RC      int     // ACT → ACT, same bank
	CCDS    int     // RD→RD / WR→WR, different bank group
	CCDL    int     // RD→RD / WR→WR, same bank group
	RRDS    int     // ACT → ACT, different bank group
	RRDL    int     // ACT → ACT, same bank group
	FAW     int     // window holding at most four ACTs per rank
	WR      int     // write recovery: end of write data → PRE
	RTP     int     // RD → PRE
	WTRS    int     // end of write data → RD, different bank group
	WTRL    int     // end of write data → RD, same bank group
	RTRS    int     // rank-to-rank data-bus switch
	RFC     int     // REF → any command to the rank
	REFI    int     // average refresh interval per rank
	Source  map[string]string
}

// PeakBytesPerSecond is the data-bus peak of one 64-bit channel.
func (t *Timing) PeakBytesPerSecond() float64 {
	return float64(t.RateMTs) * 1e6 * 8
}

// DDR4_2400R is JEDEC DDR4-2400R (CL-tRCD-tRP 16-16-16, tCK 0.833 ns) for
// 8Gb ×8 devices (1 KB page), the configuration of thesis Table 6.3.
// Nanosecond limits are converted with nCK = ⌈t/tCK⌉ (JESD79-4's rounding
// uses a small guard band; the results below agree with it and with
// Ramulator's DDR4_2400R table).
func DDR4_2400R() *Timing {
	const jedec = "JESD79-4 DDR4-2400R speed bin"
	return &Timing{
		Name: "DDR4-2400R", RateMTs: 2400, TCKps: 1e6 / 1200,
		BL: 4, CL: 16, CWL: 12, RCD: 16, RP: 16, RAS: 39, RC: 55,
		CCDS: 4, CCDL: 6, RRDS: 4, RRDL: 6, FAW: 26,
		WR: 18, RTP: 9, WTRS: 3, WTRL: 9, RTRS: 2,
		RFC: 420, REFI: 9360,
		Source: map[string]string{
			"BL":   "JESD79-4: BL8 on a double-data-rate bus = 4 nCK",
			"CL":   jedec + ": CL 16 (13.32 ns); Table 6.3 16-16-16",
			"CWL":  jedec + ": CWL 12 (1 nCK write preamble)",
			"RCD":  jedec + ": tRCD 13.32 ns = 16 nCK; Table 6.3",
			"RP":   jedec + ": tRP 13.32 ns = 16 nCK; Table 6.3",
			"RAS":  jedec + ": tRAS min 32 ns = 39 nCK",
			"RC":   jedec + ": tRC = tRAS + tRP = 45.32 ns = 55 nCK; Table 6.3 tRC=55",
			"CCDS": "JESD79-4: tCCD_S = 4 nCK; Table 6.3 tCCD=4",
			"CCDL": "JESD79-4 DDR4-2400: tCCD_L = max(5 nCK, 5 ns) = 6 nCK",
			"RRDS": "JESD79-4 DDR4-2400, 1 KB page: tRRD_S = max(4 nCK, 3.3 ns) = 4 nCK; Table 6.3 tRRD=4",
			"RRDL": "JESD79-4 DDR4-2400, 1 KB page: tRRD_L = max(4 nCK, 4.9 ns) = 6 nCK",
			"FAW":  "JESD79-4 DDR4-2400, 1 KB page: tFAW = max(20 nCK, 21 ns) = 26 nCK (Table 6.3 prints tFAW=6, read here as a typo)",
			"WR":   "JESD79-4: tWR = 15 ns = 18 nCK",
			"RTP":  "JESD79-4: tRTP = max(4 nCK, 7.5 ns) = 9 nCK",
			"WTRS": "JESD79-4: tWTR_S = max(2 nCK, 2.5 ns) = 3 nCK",
			"WTRL": "JESD79-4: tWTR_L = max(4 nCK, 7.5 ns) = 9 nCK",
			"RTRS": "assumed: 2 nCK rank-to-rank bus turnaround (Ramulator's DDR4 default; not a JEDEC parameter)",
			"RFC":  "JESD79-4, 8 Gb device: tRFC1 = 350 ns = 420 nCK",
			"REFI": "JESD79-4: tREFI = 7.8 µs (0–85 °C) = 9360 nCK",
		},
	}
}

// DDR4_2666V is JEDEC DDR4-2666V (CL-tRCD-tRP 19-19-19, tCK 0.75 ns), 8Gb
// ×8, the memory of the thesis's Xeon 8280 baseline (6×DDR4-2666).
func DDR4_2666V() *Timing {
	t := &Timing{
		Name: "DDR4-2666V", RateMTs: 2666, TCKps: 1e6 / 1333,
		BL: 4, CL: 19, CWL: 14, RCD: 19, RP: 19, RAS: 43, RC: 62,
		CCDS: 4, CCDL: 7, RRDS: 4, RRDL: 7, FAW: 28,
		WR: 20, RTP: 10, WTRS: 4, WTRL: 10, RTRS: 2,
		RFC: 467, REFI: 10400,
		Source: map[string]string{},
	}
	const jedec = "JESD79-4 DDR4-2666V speed bin (tCK 0.75 ns), nCK = ⌈t/tCK⌉ of the JESD79-4 ns limits"
	for _, k := range []string{"BL", "CL", "CWL", "RCD", "RP", "RAS", "RC", "CCDS", "CCDL", "RRDS", "RRDL", "FAW", "WR", "RTP", "WTRS", "WTRL", "RFC", "REFI"} {
		t.Source[k] = jedec
	}
	t.Source["RTRS"] = "assumed: 2 nCK rank-to-rank bus turnaround"
	return t
}

// presets maps preset names to constructors; a function, not a variable,
// keeps the package free of mutable state.
func presets() map[string]func() *Timing {
	return map[string]func() *Timing{
		"DDR4-2400R": DDR4_2400R,
		"DDR4-2666V": DDR4_2666V,
	}
}

// Presets returns the names of the known timing presets.
func Presets() []string {
	var out []string
	for k := range presets() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Preset returns the timing preset called name (case-insensitive).
func Preset(name string) (*Timing, error) {
	for k, f := range presets() {
		if strings.EqualFold(k, name) {
			return f(), nil
		}
	}
	return nil, fmt.Errorf("dram: unknown timing preset %q (known: %s)", name, strings.Join(Presets(), ", "))
}

// Validate reports timing sets no DDR4 device can have: non-positive
// values, a row cycle shorter than its active and precharge parts,
// same-bank-group spacings below the cross-group ones, column spacing
// below the burst (two bursts would collide on the data bus), a refresh
// longer than its interval.
func (t *Timing) Validate() error {
	if err := core.Positive("dram: timing "+t.Name+" (nCK)",
		core.Param{Name: "BL", Value: t.BL}, core.Param{Name: "CL", Value: t.CL}, core.Param{Name: "CWL", Value: t.CWL},
		core.Param{Name: "tRCD", Value: t.RCD}, core.Param{Name: "tRP", Value: t.RP}, core.Param{Name: "tRAS", Value: t.RAS},
		core.Param{Name: "tRC", Value: t.RC}, core.Param{Name: "tCCD_S", Value: t.CCDS}, core.Param{Name: "tCCD_L", Value: t.CCDL},
		core.Param{Name: "tRRD_S", Value: t.RRDS}, core.Param{Name: "tRRD_L", Value: t.RRDL}, core.Param{Name: "tFAW", Value: t.FAW},
		core.Param{Name: "tWR", Value: t.WR}, core.Param{Name: "tRTP", Value: t.RTP}, core.Param{Name: "tWTR_S", Value: t.WTRS},
		core.Param{Name: "tWTR_L", Value: t.WTRL}, core.Param{Name: "tRFC", Value: t.RFC}, core.Param{Name: "tREFI", Value: t.REFI}); err != nil {
		return err
	}
	switch {
	case t.RateMTs <= 0 || !(t.TCKps > 0):
		return fmt.Errorf("dram: timing %s: data rate %d MT/s and tCK %v ps must be positive", t.Name, t.RateMTs, t.TCKps)
	case t.RTRS < 0:
		return fmt.Errorf("dram: timing %s: tRTRS = %d nCK is negative", t.Name, t.RTRS)
	case t.RC < t.RAS+t.RP:
		return fmt.Errorf("dram: timing %s: tRC %d < tRAS %d + tRP %d", t.Name, t.RC, t.RAS, t.RP)
	case t.RAS < t.RCD:
		return fmt.Errorf("dram: timing %s: tRAS %d < tRCD %d", t.Name, t.RAS, t.RCD)
	case t.CCDS < t.BL:
		return fmt.Errorf("dram: timing %s: tCCD_S %d < burst %d nCK: bursts would overlap on the data bus", t.Name, t.CCDS, t.BL)
	case t.CCDL < t.CCDS:
		return fmt.Errorf("dram: timing %s: tCCD_L %d < tCCD_S %d", t.Name, t.CCDL, t.CCDS)
	case t.RRDL < t.RRDS:
		return fmt.Errorf("dram: timing %s: tRRD_L %d < tRRD_S %d", t.Name, t.RRDL, t.RRDS)
	case t.WTRL < t.WTRS:
		return fmt.Errorf("dram: timing %s: tWTR_L %d < tWTR_S %d", t.Name, t.WTRL, t.WTRS)
	case t.RFC >= t.REFI:
		return fmt.Errorf("dram: timing %s: tRFC %d ≥ tREFI %d leaves no time between refreshes", t.Name, t.RFC, t.REFI)
	}
	return nil
}
