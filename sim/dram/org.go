package dram

import (
	"fmt"
	"strings"

	"github.com/elasticml/elastic/sim/core"
)

// Org is a memory system's organisation.
type Org struct {
	Channels      int
	Ranks         int // per channel
	BankGroups    int // per rank
	BanksPerGroup int
	Rows          int // per bank
	Columns       int // per row, in device columns
	DeviceWidth   int // bits per device
	Devices       int // per rank; Devices × DeviceWidth is the bus width
	BurstLength   int // transfers per burst (BL8)
}

// Table63 is the organisation of thesis Table 6.3: DDR4 8Gb ×8 devices
// (4 bank groups × 4 banks, 64K rows, 1K columns: JEDEC's 8 Gb ×8
// addressing), 8 devices per rank on a 64-bit channel, 8 ranks per
// channel (64 GB), 8 channels.
func Table63() Org {
	return Org{Channels: 8, Ranks: 8, BankGroups: 4, BanksPerGroup: 4,
		Rows: 1 << 16, Columns: 1 << 10, DeviceWidth: 8, Devices: 8, BurstLength: 8}
}

// Validate reports an organisation that cannot be built.
func (o Org) Validate() error {
	if err := core.Positive("dram: organisation",
		core.Param{Name: "channels", Value: o.Channels}, core.Param{Name: "ranks", Value: o.Ranks},
		core.Param{Name: "bank groups", Value: o.BankGroups}, core.Param{Name: "banks per group", Value: o.BanksPerGroup},
		core.Param{Name: "rows", Value: o.Rows}, core.Param{Name: "columns", Value: o.Columns},
		core.Param{Name: "device width", Value: o.DeviceWidth}, core.Param{Name: "devices", Value: o.Devices},
		core.Param{Name: "burst length", Value: o.BurstLength}); err != nil {
		return err
	}
	if o.Columns%o.BurstLength != 0 {
		return fmt.Errorf("dram: organisation: %d columns is not a whole number of %d-column bursts", o.Columns, o.BurstLength)
	}
	if o.DeviceWidth*o.Devices != 64 {
		return fmt.Errorf("dram: organisation: %d devices × %d bits is not a 64-bit channel", o.Devices, o.DeviceWidth)
	}
	return nil
}

// LineBytes is the bytes one burst moves on a channel (64 for DDR4 BL8).
func (o Org) LineBytes() int { return o.BurstLength * o.DeviceWidth * o.Devices / 8 }

// Banks is the number of banks per rank.
func (o Org) Banks() int { return o.BankGroups * o.BanksPerGroup }

// LinesPerChannel is the channel capacity in bursts.
func (o Org) LinesPerChannel() int64 {
	return int64(o.Ranks) * int64(o.Banks()) * int64(o.Rows) * int64(o.Columns/o.BurstLength)
}

// CapacityBytes is the capacity of all channels.
func (o Org) CapacityBytes() int64 {
	return int64(o.Channels) * o.LinesPerChannel() * int64(o.LineBytes())
}

// Addr is a decoded burst address. Column counts bursts, not device
// columns.
type Addr struct {
	Channel, Rank, BankGroup, Bank, Row, Column int
}

// field names a mapping field.
type field byte

const (
	fCh field = iota
	fRa
	fBg
	fBa
	fRo
	fCo
	nFields
)

var fieldNames = [nFields]string{"ch", "ra", "bg", "ba", "ro", "co"}

// A Mapping splits a byte address into DRAM coordinates: the burst offset
// is the lowest bits, then the fields from the last listed (lowest) to
// the first listed (highest), each a mixed-radix digit of its size.
type Mapping struct {
	Name   string
	fields [nFields]field // most significant first
}

// MappingPresets lists the named mappings: bg-interleaved puts the bank
// group in the lowest bits above the burst (consecutive bursts alternate
// bank groups, so tCCD_S spaces them), bg-high puts it above bank and
// column (consecutive bursts share a bank group and pay tCCD_L).
func MappingPresets() map[string]string {
	return map[string]string{
		"bg-interleaved": "ro-ra-ba-co-ch-bg",
		"bg-high":        "ro-ra-bg-ba-co-ch",
	}
}

// ParseMapping returns a preset mapping by name, or parses a field list
// such as "ro-ra-ba-co-ch-bg" (most significant first; each of ch, ra,
// bg, ba, ro, co exactly once).
func ParseMapping(s string) (Mapping, error) {
	name := s
	if f, ok := MappingPresets()[s]; ok {
		s = f
	}
	parts := strings.Split(strings.ToLower(s), "-")
	if len(parts) != int(nFields) {
		return Mapping{}, fmt.Errorf("dram: mapping %q: want a preset (bg-interleaved, bg-high) or six fields like ro-ra-ba-co-ch-bg", name)
	}
	m := Mapping{Name: name}
	var seen [nFields]bool
	for i, p := range parts {
		f := field(nFields)
		for j, n := range fieldNames {
			if p == n {
				f = field(j)
			}
		}
		if f == nFields {
			return Mapping{}, fmt.Errorf("dram: mapping %q: unknown field %q (fields: ch ra bg ba ro co)", name, p)
		}
		if seen[f] {
			return Mapping{}, fmt.Errorf("dram: mapping %q: field %q twice", name, p)
		}
		seen[f] = true
		m.fields[i] = f
	}
	return m, nil
}

// String returns the field list.
func (m Mapping) String() string {
	var b strings.Builder
	for i, f := range m.fields {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(fieldNames[f])
	}
	return b.String()
}

func (o Org) size(f field) int64 {
	switch f {
	case fCh:
		return int64(o.Channels)
	case fRa:
		return int64(o.Ranks)
	case fBg:
		return int64(o.BankGroups)
	case fBa:
		return int64(o.BanksPerGroup)
	case fRo:
		return int64(o.Rows)
	default:
		return int64(o.Columns / o.BurstLength)
	}
}

func (a *Addr) set(f field, v int) {
	switch f {
	case fCh:
		a.Channel = v
	case fRa:
		a.Rank = v
	case fBg:
		a.BankGroup = v
	case fBa:
		a.Bank = v
	case fRo:
		a.Row = v
	default:
		a.Column = v
	}
}

// Decode splits byte address addr, which must lie inside the capacity.
func (m Mapping) Decode(o Org, addr uint64) (Addr, error) {
	if addr >= uint64(o.CapacityBytes()) {
		return Addr{}, fmt.Errorf("dram: address %#x beyond the %d-byte capacity", addr, o.CapacityBytes())
	}
	line := int64(addr / uint64(o.LineBytes()))
	var a Addr
	for i := int(nFields) - 1; i >= 0; i-- {
		f := m.fields[i]
		n := o.size(f)
		a.set(f, int(line%n))
		line /= n
	}
	return a, nil
}

// Local returns the address of burst number line (< LinesPerChannel) of
// channel ch, counting in the mapping's order with the channel field
// left out: a sequential stream within one channel.
func (m Mapping) Local(o Org, ch int, line int64) Addr {
	a := Addr{Channel: ch}
	for i := int(nFields) - 1; i >= 0; i-- {
		f := m.fields[i]
		if f == fCh {
			continue
		}
		n := o.size(f)
		a.set(f, int(line%n))
		line /= n
	}
	return a
}
