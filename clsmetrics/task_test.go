package clsmetrics

import (
	"math"
	"testing"
	"time"
)

// Time runs Evict before each timed call of the full classification and of
// the method, and leaves its time out of both.
func TestTimeEvictsUntimed(t *testing.T) {
	const rows, cols, n, reps = 500, 16, 4, 3
	const evictSleep, methodSleep = 30 * time.Millisecond, 2 * time.Millisecond
	task, err := NewTask(nil, normals(rows*cols, 1), nil, rows, cols, normals(n*cols, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		evict     bool
		wantCalls int
	}{{false, 0}, {true, 2 * reps}} {
		calls, methodCalls := 0, 0
		task.Evict = nil
		if tc.evict {
			task.Evict = func() {
				calls++
				time.Sleep(evictSleep)
			}
		}
		ms, speedup := task.Time(nil, reps, func(int) {
			methodCalls++
			time.Sleep(methodSleep)
		})
		if calls != tc.wantCalls || methodCalls != reps+1 {
			t.Errorf("evict=%v: %d evictions and %d method calls, want %d and %d", tc.evict, calls, methodCalls, tc.wantCalls, reps+1)
		}
		// A 500×16 GEMV takes microseconds: the full query is far faster
		// than the method's sleep, and neither includes an eviction.
		if ms < methodSleep.Seconds()*1e3 || ms >= evictSleep.Seconds()*1e3 || !(speedup > 0 && speedup < 1) || math.IsInf(speedup, 0) {
			t.Errorf("evict=%v: %v ms, speed-up %v; want ms in [%v, %v) and a speed-up in (0, 1)", tc.evict, ms, speedup, methodSleep, evictSleep)
		}
	}
}
