package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/elasticml/elastic/internal/rounds"
)

// The hook runs once before each timed call, never before the warm-up
// calls, and its time is in no timing; each call's time is exactly what it
// spent on the clock.
func TestMeasureRoundsWithHook(t *testing.T) {
	const reps = 3
	var clk rounds.FakeClock
	var log []string
	hook := func() {
		log = append(log, "hook")
		clk.Advance(time.Second)
	}
	// a spends i+1 ms in round i, b 10 times as long.
	fn := func(name string, scale time.Duration) func(int) {
		return func(i int) {
			log = append(log, fmt.Sprintf("%s%d", name, i))
			clk.Advance(scale * time.Duration(i+1) * time.Millisecond)
		}
	}
	ts, raw := measureRounds(clk.Now, reps, hook, fn("a", 1), fn("b", 10))
	want := []string{"a0", "b0"} // warm-up
	for i := range reps {
		for _, name := range []string{"a", "b"} {
			want = append(want, "hook", fmt.Sprintf("%s%d", name, i))
		}
	}
	if !slices.Equal(log, want) {
		t.Fatalf("calls %q, want %q", log, want)
	}
	wantRaw := [][]float64{{1, 2, 3}, {10, 20, 30}}
	wantTs := []Timing{{Median: 2, Min: 1, Max: 3, Reps: reps}, {Median: 20, Min: 10, Max: 30, Reps: reps}}
	for j := range wantRaw {
		if !slices.Equal(raw[j], wantRaw[j]) || ts[j] != wantTs[j] {
			t.Errorf("fn %d: %+v, raw %v; want %+v, raw %v", j, ts[j], raw[j], wantTs[j], wantRaw[j])
		}
	}
	if r := PairedRatio(raw[1], raw[0]); r != 10 {
		t.Errorf("paired ratio b/a = %v, want 10", r)
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
