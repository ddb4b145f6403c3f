package core

import (
	"errors"
	"fmt"
	"math/bits"
)

// A Clock is a named clock domain with an integer frequency in hertz.
// Integer frequencies keep cycle conversion exact (1200 MHz DRAM and
// 400 MHz logic share a 1200 MHz base with ratio 3).
type Clock struct {
	Name string
	Hz   uint64
}

// Validate reports a clock with no frequency.
func (c Clock) Validate() error {
	if c.Hz == 0 {
		return fmt.Errorf("core: clock %q has frequency 0", c.Name)
	}
	return nil
}

// Seconds returns the duration of n cycles of c.
func (c Clock) Seconds(n int64) float64 { return float64(n) / float64(c.Hz) }

// PeriodPS returns one cycle of c in picoseconds.
func (c Clock) PeriodPS() float64 { return 1e12 / float64(c.Hz) }

// errNegative is returned for negative cycle counts.
var errNegative = errors.New("core: negative cycle count")

// Convert returns the number of cycles of clock to that cover n cycles of
// clock from, rounded up: work that ends inside a cycle of the slower
// domain is visible only at that cycle's end.
func Convert(n int64, from, to Clock) (int64, error) {
	if err := from.Validate(); err != nil {
		return 0, err
	}
	if err := to.Validate(); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errNegative
	}
	hi, lo := bits.Mul64(uint64(n), to.Hz)
	if hi >= from.Hz {
		return 0, fmt.Errorf("core: converting %d cycles from %s to %s overflows", n, from.Name, to.Name)
	}
	q, r := bits.Div64(hi, lo, from.Hz)
	if r != 0 {
		q++
	}
	if q > 1<<63-1 {
		return 0, fmt.Errorf("core: converting %d cycles from %s to %s overflows", n, from.Name, to.Name)
	}
	return int64(q), nil
}
