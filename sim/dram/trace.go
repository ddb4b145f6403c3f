package dram

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TraceRecord is one line of a DRAM trace.
type TraceRecord struct {
	Write bool
	Addr  uint64 // byte address
}

// MaxTraceRecords bounds a trace so a malformed or hostile file cannot
// exhaust memory.
const MaxTraceRecords = 1 << 26

// ParseTrace reads a DRAM trace: one access per line, "R <addr>" or
// "W <addr>", the byte address in decimal or 0x-prefixed hex; blank lines
// and lines starting with # are ignored. Errors name the line.
func ParseTrace(r io.Reader) ([]TraceRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	var out []TraceRecord
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("dram: trace line %d: want \"R|W <address>\", got %q", n, line)
		}
		var rec TraceRecord
		switch f[0] {
		case "R", "r":
		case "W", "w":
			rec.Write = true
		default:
			return nil, fmt.Errorf("dram: trace line %d: access %q is not R or W", n, f[0])
		}
		a, err := strconv.ParseUint(f[1], 0, 64)
		if err != nil {
			return nil, fmt.Errorf("dram: trace line %d: address %q: %w", n, f[1], err)
		}
		rec.Addr = a
		if len(out) == MaxTraceRecords {
			return nil, fmt.Errorf("dram: trace longer than %d records", MaxTraceRecords)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dram: reading trace: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dram: trace has no records")
	}
	return out, nil
}

type sliceSource struct {
	reqs []Request
	i    int
}

func (s *sliceSource) Next() (Request, bool) {
	if s.i >= len(s.reqs) {
		return Request{}, false
	}
	s.i++
	return s.reqs[s.i-1], true
}

// RunTrace replays trace: each record goes, in order, to the channel its
// address maps to. Options.Pattern, Requests, WriteFraction and Seed are
// ignored.
func RunTrace(opts Options, trace []TraceRecord) (*Report, error) {
	cfg, err := opts.config()
	if err != nil {
		return nil, err
	}
	per := make([][]Request, cfg.o.Channels)
	for i, rec := range trace {
		a, err := cfg.m.Decode(cfg.o, rec.Addr)
		if err != nil {
			return nil, fmt.Errorf("dram: trace record %d: %w", i+1, err)
		}
		per[a.Channel] = append(per[a.Channel], Request{Addr: a, Write: rec.Write})
	}
	srcs := make([]Source, len(per))
	for i := range per {
		srcs[i] = &sliceSource{reqs: per[i]}
	}
	return cfg.simulate("trace", srcs)
}
