package rounds

import (
	"slices"
	"time"
)

// Measure calls every fn once untimed (fn(0), a warm-up), then reps rounds
// that each call every fn(i) in order, with before, if not nil, ahead of
// each timed call and outside the timed interval. It returns raw[j][i], the
// time of fn j in round i in milliseconds, read from now. reps < 1 counts
// as 1.
func Measure(now func() time.Time, reps int, before func(), fns ...func(i int)) [][]float64 {
	reps = max(reps, 1)
	for _, fn := range fns {
		fn(0)
	}
	raw := make([][]float64, len(fns))
	for j := range raw {
		raw[j] = make([]float64, reps)
	}
	for i := range reps {
		for j, fn := range fns {
			if before != nil {
				before()
			}
			t0 := now()
			fn(i)
			raw[j][i] = float64(now().Sub(t0).Nanoseconds()) / 1e6
		}
	}
	return raw
}

// Median returns the median of x, the mean of the middle two for an even
// length. It panics if x is empty.
func Median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[n/2]
}

// FakeClock is a clock for tests: it moves by Tick at every reading and by
// whatever Advance adds, so that the times Measure records are exact.
type FakeClock struct {
	T    time.Time
	Tick time.Duration
}

// Now advances c by c.Tick and returns it.
func (c *FakeClock) Now() time.Time {
	c.T = c.T.Add(c.Tick)
	return c.T
}

// Advance moves c on by d, as if d passed.
func (c *FakeClock) Advance(d time.Duration) { c.T = c.T.Add(d) }
