package budget

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime/debug"
)

// ErrMemory is returned, wrapped, when an estimate exceeds the limit.
var ErrMemory = errors.New("exceeds the memory limit")

// Limit returns the bytes the process may use: the runtime's soft memory
// limit, or without one the machine's RAM (math.MaxInt64 if unknown).
func Limit() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return l
	}
	if m := MemTotal(); m > 0 {
		return m
	}
	return math.MaxInt64
}

// Mul returns the product of its arguments, saturating at math.MaxInt64
// instead of overflowing; a negative argument gives math.MaxInt64 too, so
// an invalid size is never mistaken for a small one.
func Mul(xs ...int) int64 {
	p := uint64(1)
	for _, x := range xs {
		if x < 0 {
			return math.MaxInt64
		}
		hi, lo := bits.Mul64(p, uint64(x))
		if hi != 0 || lo > math.MaxInt64 {
			return math.MaxInt64
		}
		p = lo
	}
	return int64(p)
}

// Add returns the sum of its arguments, saturating at math.MaxInt64.
func Add(xs ...int64) int64 {
	var s int64
	for _, x := range xs {
		if x < 0 || s > math.MaxInt64-x {
			return math.MaxInt64
		}
		s += x
	}
	return s
}

// Check returns an error wrapping ErrMemory if need bytes exceed Limit.
// what names the source of the estimate, a flag or a file, for example
// "--classes 10000000 × --dim 512".
func Check(what string, need int64) error {
	return check(what, need, Limit())
}

func check(what string, need, limit int64) error {
	if need <= limit {
		return nil
	}
	return fmt.Errorf("%s needs about %s, above the %s memory limit (GOMEMLIMIT): %w", what, Size(need), Size(limit), ErrMemory)
}

// Size formats a byte count for an error message.
func Size(n int64) string {
	switch {
	case n == math.MaxInt64:
		return "more than 8 EiB"
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
