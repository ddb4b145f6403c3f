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

// fakeClock is a clock that moves only when told to, and counts how often
// it is read.
type fakeClock struct{ ns, reads atomic.Int64 }

func (c *fakeClock) now() time.Time {
	c.reads.Add(1)
	return time.Unix(0, c.ns.Load())
}

func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// waitFor polls cond until it holds; the limit only keeps a broken pool
// from hanging the suite, and no correct run comes near it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// TestPoolSpinsThroughLongCall checks, on a fake clock, that a worker
// which finishes its part of a call early keeps spinning when the call
// ends later than spinWait after that: its clock starts at the end of the
// call. It parks only once the clock has moved spinWait past the end.
func TestPoolSpinsThroughLongCall(t *testing.T) {
	var clk fakeClock
	p := newPool(2, clk.now)
	defer p.Close()
	var workerDone atomic.Bool
	p.forWorker(2, 1, 1, func(w, lo, hi int) {
		if w != 0 {
			workerDone.Store(true)
			return
		}
		// The caller's chunk: let the worker finish first, then run
		// three spin budgets long, in steps the spinning worker sees, as
		// it sees real time pass.
		waitFor(t, "the worker's chunk", workerDone.Load)
		for range 300 {
			clk.advance(spinWait / 100)
			r := clk.reads.Load()
			waitFor(t, "the worker to read the clock", func() bool { return clk.reads.Load() > r+1 || p.idle[1].Load() })
		}
	})
	// Let the worker look at the clock many times; a worker timing its
	// spin from the end of its own chunk would park now.
	r := clk.reads.Load()
	waitFor(t, "the worker to spin", func() bool { return clk.reads.Load() > r+1000 || p.idle[1].Load() })
	if p.idle[1].Load() {
		t.Fatal("worker parked although the clock moved less than spinWait since the call ended")
	}
	clk.advance(spinWait + time.Microsecond)
	waitFor(t, "the worker to park", p.idle[1].Load)
	// A parked worker is woken by the next call and runs its chunk.
	workerDone.Store(false)
	p.forWorker(2, 1, 1, func(w, lo, hi int) {
		if w != 0 {
			workerDone.Store(true)
			return
		}
		waitFor(t, "the woken worker's chunk", workerDone.Load)
	})
}

// TestPoolJoinParks has a worker run its chunk far longer than joinSpin,
// so that the caller parks in join; it must return only after the
// worker's chunk is done, on every call.
func TestPoolJoinParks(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	for i := range 20 {
		var started, done atomic.Bool
		p.forWorker(2, 1, 1, func(w, lo, hi int) {
			if w != 0 {
				started.Store(true)
				time.Sleep(3 * joinSpin)
				done.Store(true)
				return
			}
			// Keep the caller from taking the worker's chunk too.
			waitFor(t, "the worker's chunk", started.Load)
		})
		if !done.Load() {
			t.Fatalf("call %d: join returned before the worker's chunk ended", i)
		}
	}
}
