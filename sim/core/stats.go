package core

import (
	"fmt"
	"math"
	"sort"
)

// Counters is a set of named event counts.
type Counters map[string]int64

// Add adds n to counter name.
func (c Counters) Add(name string, n int64) { c[name] += n }

// Names returns the counter names, sorted, for deterministic reports.
func (c Counters) Names() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Utilisation returns busy/total and an error when it is not in [0, 1]:
// a unit busy for more cycles than elapsed is a simulator bug.
func Utilisation(busy, total int64) (float64, error) {
	if total <= 0 {
		return 0, fmt.Errorf("core: utilisation over %d cycles", total)
	}
	if busy < 0 || busy > total {
		return 0, fmt.Errorf("core: unit busy %d of %d cycles", busy, total)
	}
	return float64(busy) / float64(total), nil
}

// A Bound is a lower bound on run time: Work units at Rate units per
// cycle (MACs at MACs/cycle, bytes at bytes/cycle).
type Bound struct {
	Name string
	Work float64
	Rate float64
}

// Cycles returns the bound in cycles, ⌈Work/Rate⌉.
func (b Bound) Cycles() float64 { return math.Ceil(b.Work / b.Rate) }

// CheckBounds returns an error when cycles is below any bound: no run may
// beat its compute bound or its bandwidth bound.
func CheckBounds(cycles int64, bounds ...Bound) error {
	for _, b := range bounds {
		if !(b.Rate > 0) || b.Work < 0 {
			return fmt.Errorf("core: bound %s: work %v at rate %v", b.Name, b.Work, b.Rate)
		}
		if float64(cycles) < b.Cycles() {
			return fmt.Errorf("core: %d cycles beat the %s bound of %.0f cycles", cycles, b.Name, b.Cycles())
		}
	}
	return nil
}

// A Param is a named integer parameter of a configuration.
type Param struct {
	Name  string
	Value int
}

// Positive returns an error naming the first parameter that is not
// positive; what says whose parameters they are.
func Positive(what string, ps ...Param) error {
	for _, p := range ps {
		if p.Value <= 0 {
			return fmt.Errorf("%s: %s = %d, must be positive", what, p.Name, p.Value)
		}
	}
	return nil
}
