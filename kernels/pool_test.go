package kernels

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolForCoversRangeOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		p := NewPool(workers)
		for _, tc := range []struct{ n, grain int }{{0, 1}, {1, 1}, {7, 1}, {100, 8}, {1001, 16}, {5, 64}} {
			hits := make([]int32, tc.n)
			p.For(tc.n, tc.grain, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("workers=%d n=%d grain=%d: index %d visited %d times", workers, tc.n, tc.grain, i, h)
				}
			}
		}
		p.Close()
	}
}

func TestPoolForWorker(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		p := NewPool(workers)
		for _, tc := range []struct{ n, grain, per int }{{0, 1, 4}, {1, 1, 4}, {100, 8, 64}, {10001, 16, 64}, {5, 64, 1}} {
			hits := make([]int32, tc.n)
			last := make([]int, workers) // per worker, the end of its last chunk
			var bad atomic.Int32
			p.forWorker(tc.n, tc.grain, tc.per, func(w, lo, hi int) {
				// Each worker's entry of last is only touched by that worker.
				if w < 0 || w >= workers || lo < last[w] {
					bad.Add(1)
					return
				}
				last[w] = hi
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			if bad.Load() != 0 {
				t.Fatalf("workers=%d n=%d: a chunk ran on a bad worker number or out of order", workers, tc.n)
			}
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("workers=%d n=%d grain=%d: index %d visited %d times", workers, tc.n, tc.grain, i, h)
				}
			}
		}
		p.Close()
	}
}

// TestPoolParkAndWake alternates calls that find the workers spinning
// with calls after a pause longer than spinWait, which find them parked,
// on more workers than there are Ps; every call must cover its range once.
func TestPoolParkAndWake(t *testing.T) {
	for _, workers := range []int{2, 5} {
		p := NewPool(workers)
		hits := make([]int32, 64)
		for i := range 60 {
			if i%3 == 0 {
				time.Sleep(spinWait + spinWait/2)
			}
			n := 2 + i%len(hits)
			p.For(n, 1, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					atomic.AddInt32(&hits[j], 1)
				}
			})
			for j := range hits {
				want := int32(b2i(j < n))
				if h := atomic.SwapInt32(&hits[j], 0); h != want {
					t.Fatalf("workers=%d call %d: index %d visited %d times, want %d", workers, i, j, h, want)
				}
			}
		}
		p.Close()
	}
}

// TestPoolSpinsThroughLongCall checks that a worker which finishes its
// part of a call early is still spinning, not parked, when a call longer
// than spinWait ends: its clock starts at the end of the call. A worker
// descheduled at the wrong moment may still park, so most of the tries,
// not all, must find it spinning; without the rule none would.
func TestPoolSpinsThroughLongCall(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	spinning := 0
	const tries = 5
	for range tries {
		p.forWorker(2, 1, 1, func(w, lo, hi int) {
			if w == 0 {
				time.Sleep(3 * spinWait)
			}
		})
		spinning += 1 - b2i(p.idle[1].Load())
	}
	if spinning < 3 {
		t.Errorf("worker spinning after %d of %d long calls, want most", spinning, tries)
	}
}
