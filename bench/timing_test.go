package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The hook runs once before each timed call, never before the warm-up
// calls, and its time is in no timing.
func TestMeasureRoundsWithHook(t *testing.T) {
	const reps, hookSleep, fnSleep = 3, 30 * time.Millisecond, time.Millisecond
	var log []string
	hook := func() {
		log = append(log, "hook")
		time.Sleep(hookSleep)
	}
	fn := func(name string) func(int) {
		return func(i int) {
			log = append(log, fmt.Sprintf("%s%d", name, i))
			time.Sleep(fnSleep)
		}
	}
	ts, raw := MeasureRoundsWith(reps, hook, fn("a"), fn("b"))
	want := []string{"a0", "b0"} // warm-up
	for i := range reps {
		for _, name := range []string{"a", "b"} {
			want = append(want, "hook", fmt.Sprintf("%s%d", name, i))
		}
	}
	if !slices.Equal(log, want) {
		t.Fatalf("calls %q, want %q", log, want)
	}
	for j, tm := range ts {
		// A sleep never returns early; one overshooting by the hook's
		// sleep would need a badly overloaded machine.
		if tm.Median < fnSleep.Seconds()*1e3 || tm.Median >= hookSleep.Seconds()*1e3 || tm.Reps != reps || len(raw[j]) != reps {
			t.Errorf("fn %d: %+v, %d raw times; want the median in [%v, %v) over %d rounds", j, tm, len(raw[j]), fnSleep, hookSleep, reps)
		}
	}
}

func TestMeasureRoundsNoHook(t *testing.T) {
	calls := make([]int, 2)
	fns := []func(int){func(int) { calls[0]++ }, func(int) { calls[1]++ }}
	for _, measure := range []func() ([]Timing, [][]float64){
		func() ([]Timing, [][]float64) { return MeasureRounds(4, fns...) },
		func() ([]Timing, [][]float64) { return MeasureRoundsWith(4, nil, fns...) },
	} {
		clear(calls)
		ts, raw := measure()
		if len(ts) != 2 || len(raw) != 2 || calls[0] != 5 || calls[1] != 5 {
			t.Errorf("%d timings, %d raw series, calls %v; want 2, 2, [5 5] (4 rounds and a warm-up)", len(ts), len(raw), calls)
		}
	}
}
