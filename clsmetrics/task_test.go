package clsmetrics

import (
	"testing"
	"time"

	"github.com/elasticml/elastic/internal/rounds"
)

// Time runs Evict before each timed call of the full classification and of
// the method, and leaves its time out of both. On a clock that moves 1 ms
// per reading and 1 s per eviction, the full query (which does not touch
// the clock) takes exactly 1 ms and the method 1 ms plus what it spends.
func TestTimeEvictsUntimed(t *testing.T) {
	const rows, cols, n, reps = 500, 16, 4, 3
	task, err := NewTask(nil, normals(rows*cols, 1), nil, rows, cols, normals(n*cols, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		evict     bool
		wantCalls int
	}{{false, 0}, {true, 2 * reps}} {
		clk := rounds.FakeClock{Tick: time.Millisecond}
		calls, methodCalls := 0, 0
		task.Evict = nil
		if tc.evict {
			task.Evict = func() {
				calls++
				clk.Advance(time.Second)
			}
		}
		// The method spends 1, 3, 2 ms in rounds 0, 1, 2 (and 1 ms warming
		// up): 2, 4, 3 ms timed, median 3 ms; speed-ups 1/2, 1/4, 1/3.
		spend := []time.Duration{1, 3, 2}
		ms, speedup := task.timeOn(clk.Now, nil, reps, func(i int) {
			methodCalls++
			clk.Advance(spend[i] * time.Millisecond)
		})
		if calls != tc.wantCalls || methodCalls != reps+1 {
			t.Errorf("evict=%v: %d evictions and %d method calls, want %d and %d", tc.evict, calls, methodCalls, tc.wantCalls, reps+1)
		}
		if ms != 3 || speedup != 1.0/3 {
			t.Errorf("evict=%v: %v ms, speed-up %v; want 3 ms and 1/3", tc.evict, ms, speedup)
		}
	}
}
