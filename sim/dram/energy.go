package dram

import "fmt"

// IDD holds a DRAM device's datasheet currents (mA) at one speed bin.
type IDD struct {
	Name   string
	VDD    float64 // volts
	IDD0   float64 // one-bank ACT–PRE cycling at tRC
	IDD2N  float64 // precharge standby
	IDD3N  float64 // active standby
	IDD4R  float64 // burst read
	IDD4W  float64 // burst write
	IDD5B  float64 // burst refresh at tRFC
	Source string
}

// MT40A1G8 returns the currents of Micron's 8Gb ×8 DDR4 device MT40A1G8
// at DDR4-2400, as transcribed from its datasheet in gem5's
// DRAMInterface.py (DDR4_2400_8x8; IDD5 there is the burst-refresh
// IDD5B). We have not checked them against the datasheet itself. The VPP
// (2.5 V) currents are left out: the transcription gives only IPP0 and
// IPP3N (3 mA each), whose difference, the only part a command adds, is 0.
func MT40A1G8() IDD {
	return IDD{Name: "MT40A1G8 DDR4-2400", VDD: 1.2,
		IDD0: 48, IDD2N: 34, IDD3N: 43, IDD4R: 135, IDD4W: 123, IDD5B: 250,
		Source: "Micron MT40A1G8 8Gb x8 DDR4 datasheet, DDR4-2400 column, via gem5 DRAMInterface.py DDR4_2400_8x8 (published; not re-checked here)"}
}

// Validate reports currents that cannot belong to a device: non-positive
// values, or command currents not above the standby they include.
func (p IDD) Validate(t *Timing) error {
	if !(p.VDD > 0 && p.IDD0 > 0 && p.IDD2N > 0 && p.IDD3N > 0 && p.IDD4R > 0 && p.IDD4W > 0 && p.IDD5B > 0) {
		return fmt.Errorf("dram: IDD %s: voltages and currents must be positive", p.Name)
	}
	if p.IDD4R <= p.IDD3N || p.IDD4W <= p.IDD3N || p.IDD5B <= p.IDD3N || p.IDD3N < p.IDD2N {
		return fmt.Errorf("dram: IDD %s: IDD4R, IDD4W, IDD5B must exceed IDD3N ≥ IDD2N", p.Name)
	}
	if p.actCharge(t) <= 0 {
		return fmt.Errorf("dram: IDD %s: IDD0 %.0f mA over tRC is not above the standby current it includes", p.Name, p.IDD0)
	}
	return nil
}

// actCharge is IDD0·tRC minus the standby it includes, in mA·nCK.
func (p IDD) actCharge(t *Timing) float64 {
	return p.IDD0*float64(t.RC) - (p.IDD3N*float64(t.RAS) + p.IDD2N*float64(t.RC-t.RAS))
}

// CommandEnergy is one rank's energy per command and per cycle of
// background, in pJ, by the Micron DDR4 power method (TN-40-07): each
// command's current above active standby, times VDD and its duration,
// times the devices of a rank. I/O and termination energy are not
// included.
type CommandEnergy struct {
	ActPre         float64 // one ACT with its PRE
	Read, Write    float64 // one burst
	Refresh        float64 // one REF (tRFC)
	ActiveStandby  float64 // per cycle, some row open (IDD3N)
	PrechargeStdby float64 // per cycle, all banks precharged (IDD2N)
}

// Energies returns p's per-command energies on timing t for o's ranks.
func (p IDD) Energies(t *Timing, o Org) (CommandEnergy, error) {
	if err := p.Validate(t); err != nil {
		return CommandEnergy{}, err
	}
	k := p.VDD * t.TCKps / 1000 * float64(o.Devices) // V × ns × devices: mA·nCK → pJ
	return CommandEnergy{
		ActPre:         k * p.actCharge(t),
		Read:           k * (p.IDD4R - p.IDD3N) * float64(t.BL),
		Write:          k * (p.IDD4W - p.IDD3N) * float64(t.BL),
		Refresh:        k * (p.IDD5B - p.IDD3N) * float64(t.RFC),
		ActiveStandby:  k * p.IDD3N,
		PrechargeStdby: k * p.IDD2N,
	}, nil
}

// EnergyParts names the components of CommandEnergy.Of, in a fixed order.
func EnergyParts() []string { return []string{"act_pre", "read", "write", "refresh", "background"} }

// Of returns the energy of a controller's run by component, in pJ:
// act_pre, read, write, refresh and background (standby over the run).
func (e CommandEnergy) Of(s ControllerStats) map[string]float64 {
	return map[string]float64{
		"act_pre":    float64(s.Commands[ACT]) * e.ActPre,
		"read":       float64(s.Reads) * e.Read,
		"write":      float64(s.Writes) * e.Write,
		"refresh":    float64(s.Commands[REF]+s.IdleRefreshes) * e.Refresh,
		"background": float64(s.ActiveCycles)*e.ActiveStandby + float64(s.StandbyCycles)*e.PrechargeStdby,
	}
}

// Split returns the static energy (standby and refresh) and the access
// energy (ACT/PRE and bursts), in pJ, of a controller's run over ranks
// ranks when the system runs for total cycles: a controller that finished
// early keeps its ranks in precharge standby, refreshing every tREFI,
// until the slowest finishes.
func (e CommandEnergy) Split(s ControllerStats, total int64, ranks int, t *Timing) (static, access float64) {
	s.StandbyCycles = max(0, total*int64(ranks)-s.ActiveCycles)
	s.IdleRefreshes += int64(ranks) * (max(0, total-s.Done) / int64(t.REFI))
	p := e.Of(s)
	return p["background"] + p["refresh"], p["act_pre"] + p["read"] + p["write"]
}
