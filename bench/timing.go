package bench

import (
	"slices"
	"time"
)

// Timing summarises repeated measurements of one operation, in milliseconds.
type Timing struct {
	Median, Min, Max float64
	Reps             int
}

// Measure calls fn(i) for i in [0, reps) and returns the distribution of
// per-call wall times. A single untimed warm-up call (i = -1 is never
// passed; the warm-up uses i = 0) precedes the timed ones.
func Measure(reps int, fn func(i int)) Timing {
	if reps < 1 {
		reps = 1
	}
	fn(0)
	ms := make([]float64, reps)
	for i := range ms {
		t0 := time.Now()
		fn(i)
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	return summarize(ms)
}

func summarize(ms []float64) Timing {
	s := slices.Clone(ms)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Timing{Median: med, Min: s[0], Max: s[n-1], Reps: n}
}
