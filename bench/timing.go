package bench

import (
	"slices"
	"time"

	"github.com/elasticml/elastic/internal/rounds"
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
	ts, _ := measureRounds(time.Now, reps, nil, fn)
	return ts[0]
}

// MeasureRounds times several operations interleaved: each round calls
// every fn once, in order, so slow drifts of a shared machine (another
// process waking up, frequency changes) hit all of them alike. It returns
// each operation's distribution and the raw per-round times, from which
// paired ratios can be taken. One untimed warm-up round comes first.
func MeasureRounds(reps int, fns ...func(i int)) ([]Timing, [][]float64) {
	return measureRounds(time.Now, reps, nil, fns...)
}

// MeasureRoundsWith is MeasureRounds calling before, if not nil, ahead of
// every timed call of every fn, outside the timed interval; the warm-up
// round runs without it. With before an Evictor's Evict, every operation is
// timed with cold caches.
func MeasureRoundsWith(reps int, before func(), fns ...func(i int)) ([]Timing, [][]float64) {
	return measureRounds(time.Now, reps, before, fns...)
}

// measureRounds is MeasureRoundsWith reading the time from now.
func measureRounds(now func() time.Time, reps int, before func(), fns ...func(i int)) ([]Timing, [][]float64) {
	raw := rounds.Measure(now, reps, before, fns...)
	ts := make([]Timing, len(fns))
	for j := range raw {
		ts[j] = summarize(raw[j])
	}
	return ts, raw
}

// PairedRatio returns the median over rounds of num[i]/den[i]: the ratio
// of two operations measured side by side, robust to drift between rounds.
func PairedRatio(num, den []float64) float64 {
	r := make([]float64, min(len(num), len(den)))
	for i := range r {
		r[i] = num[i] / den[i]
	}
	return summarize(r).Median
}

func summarize(ms []float64) Timing {
	return Timing{Median: rounds.Median(ms), Min: slices.Min(ms), Max: slices.Max(ms), Reps: len(ms)}
}
