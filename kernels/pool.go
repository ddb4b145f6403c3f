package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a fixed set of worker goroutines that run a range-splitting
// function in contiguous chunks. It exists so that the multithreaded kernels
// pay no goroutine start-up per call: a decoder step calls a GEMV thousands
// of times per second, and spawning goroutines each time costs more than a
// small GEMV.
//
// A Pool is safe for use by one caller at a time; concurrent callers must use
// separate pools. The zero value is not usable; call NewPool.
//
// A nil *Pool is usable and means "no pool": every method runs on the
// calling goroutine with the serial kernel of the same name (Pool.Gemv
// calls Gemv, Pool.TernaryApplyBatch calls Ternary.ApplyBatch), For calls
// fn(0, n), Workers reports 1 and Close does nothing. Code that may or may
// not have a pool passes what it has instead of branching on nil; the
// check costs one branch at the top of each method.
type Pool struct {
	workers int
	wake    []chan struct{}
	idle    []idleFlag // per worker goroutine: parked or about to park
	// pending counts the workers other than the caller still running
	// the call in progress.
	pending atomic.Int32
	mu      sync.Mutex
	closed  bool
	quit    atomic.Bool

	// call is the number of the call in progress (shifted up by 16 bits)
	// and how many workers take part in it (the low 16 bits), published
	// in one word so that a worker never pairs one call's number with
	// another's count.
	call atomic.Uint64
	// busy is set while a call runs; workers spinning for the next call
	// do not count that time against spinWait (see await).
	busy atomic.Bool

	// joinWait holds the number of the call whose caller stopped spinning
	// in join and parks on done (0 for none); the worker that ends that
	// call claims it and sends a token. A number, not a flag, so that a
	// worker delayed between its decrement and its claim cannot take the
	// next call's flag.
	joinWait atomic.Uint64
	done     chan struct{}

	// now is the clock the spin budgets are measured on: time.Now, or a
	// test's fake.
	now func() time.Time

	// gemmB is Gemm's packed copy of op(B), kept between calls so that a
	// training step's products reuse one buffer (and its packed-A
	// scratch) instead of allocating the largest B's size each call. A
	// pool serves one caller at a time, so one buffer suffices; it holds
	// the largest op(B) seen, 22 MB for an 8k×650 decoder.
	gemmB PackedB

	// The call in progress, read by workers between seeing it in call and
	// their decrement of pending; kept here rather than in a closure so
	// For does not allocate. One of fn and fnw is set.
	fn      func(lo, hi int)
	fnw     func(w, lo, hi int)
	n, size int
	chunks  int
	next    atomic.Int64
}

// idleFlag is padded to a cache line so that workers parking do not
// contend with each other's flags.
type idleFlag struct {
	atomic.Bool
	_ [63]byte
}

// spinWait is how long a worker keeps looking for the next call, after
// the last one has ended, before it parks. Waking a parked goroutine's
// thread takes from ten microseconds to a tenth of a millisecond on a
// virtual machine, more than many calls last; kernels called back to back
// (a decoder step, screening's GEMV after its projection) find the
// workers still looking. The clock starts when the call ends, not when a
// worker runs out of chunks: a worker that finishes early may wait the
// length of a chunk for the caller, and a call of one large GEMV that
// left it parked made the next short call run on the caller alone. With
// this rule, join below and the update on the pool (dmi.Layer), `elastic
// bench dmi --bits 4 --eps 0.7` gives an LSTM-1500 little module of
// 0.12-0.14 ms; with the old pool it took 0.26 ms.
const spinWait = 100 * time.Microsecond

// joinSpin is how long a caller that has run out of chunks spins for the
// workers still running theirs before it parks. On an idle machine they
// end within microseconds of each other, and parking would add a wake-up
// (tens of microseconds on a virtual machine) to every call. When other
// processes compete for the cores, a worker may have been descheduled in
// the middle of a chunk; a spinning caller then holds its core for a whole
// time slice while the worker waits in the run queue, but a parked one
// lets the kernel run the worker there at once. Two busy loops sharing the
// two cores made the dense LSTM-1500 step 3.9 times slower with a caller
// that only spun (issue 10).
const joinSpin = 50 * time.Microsecond

// MaxWorkers is the largest pool NewPool accepts.
const MaxWorkers = 1 << 15

// NewPool returns a pool of n workers; n <= 0 means runtime.GOMAXPROCS(0).
// The calling goroutine counts as one worker, so n-1 goroutines are started.
// It panics if n > MaxWorkers.
func NewPool(n int) *Pool { return newPool(n, time.Now) }

func newPool(n int, now func() time.Time) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if n > MaxWorkers {
		panic(fmt.Sprintf("kernels: NewPool(%d): too many workers", n))
	}
	p := &Pool{workers: n, wake: make([]chan struct{}, n-1), idle: make([]idleFlag, n),
		done: make(chan struct{}, 1), now: now}
	for i := range p.wake {
		ch := make(chan struct{}, 1)
		p.wake[i] = ch
		go p.work(i+1, ch)
	}
	return p
}

// work is worker w's loop: wait for a call, and run its chunks if w takes
// part in it.
func (p *Pool) work(w int, wake chan struct{}) {
	var seen uint64
	for {
		c, ok := p.await(w, seen, wake)
		if !ok {
			return
		}
		seen = c >> 16
		if w < int(c&0xffff) {
			p.runChunks(w)
			if p.pending.Add(-1) == 0 && p.joinWait.CompareAndSwap(seen, 0) {
				p.done <- struct{}{}
			}
		}
	}
}

// await returns the call word of the first call after call number seen,
// spinning for spinWait and then parking on wake, or false once the pool
// is closed. A caller wakes a parked worker by claiming its idle flag and
// sending on wake; a worker that sees a new call after raising its flag
// takes the flag back, or, if the caller claimed it first, takes the
// token. Either the worker's second look sees the call or the caller sees
// the flag, so no call is missed and every token is received. A token may
// come late, for a call the worker has already seen while spinning, so
// after one the worker looks again rather than trusting it.
func (p *Pool) await(w int, seen uint64, wake chan struct{}) (uint64, bool) {
	f := &p.idle[w].Bool
	for {
		start := p.now()
		for i := 0; ; i++ {
			if c := p.call.Load(); c>>16 != seen {
				return c, true
			}
			if i%32 != 31 {
				continue
			}
			if p.quit.Load() {
				return 0, false
			}
			if p.busy.Load() {
				start = p.now()
			} else if p.now().Sub(start) > spinWait {
				break
			}
			// Let other goroutines run on this P, in case there are
			// fewer Ps than workers: the caller may be waiting for one.
			runtime.Gosched()
		}
		f.Store(true)
		if c := p.call.Load(); c>>16 != seen && f.CompareAndSwap(true, false) {
			return c, true
		}
		if _, ok := <-wake; !ok {
			return 0, false
		}
	}
}

// Workers reports the number of workers, the caller included: 1 for a nil
// pool.
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return p.workers
}

// For calls fn over [0, n) split into contiguous chunks whose sizes are
// multiples of grain (except the last), and returns when all are done.
// Small n (under 2*grain), and any n on a nil pool, runs on the calling
// goroutine.
//
// There are up to chunksPerWorker times more chunks than workers, and
// workers claim them from a shared counter: on a shared machine one worker
// may be descheduled for a while, and the others then take over its share
// instead of waiting for it.
func (p *Pool) For(n, grain int, fn func(lo, hi int)) {
	p.run(n, grain, chunksPerWorker, fn, nil)
}

// forWorker is For with up to perWorker chunks per worker, calling fn with
// the number w in [0, Workers()) of the worker running the chunk, so that
// fn can keep per-worker state without locking. A worker claims chunks in
// increasing order, so its state sees [0, n) in order. Small n runs as
// fn(0, 0, n) on the calling goroutine.
func (p *Pool) forWorker(n, grain, perWorker int, fn func(w, lo, hi int)) {
	p.run(n, grain, perWorker, nil, fn)
}

func (p *Pool) run(n, grain, perWorker int, fn func(lo, hi int), fnw func(w, lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	if p == nil || p.workers <= 1 || n < 2*grain {
		if fn != nil {
			fn(0, n)
		} else {
			fnw(0, 0, n)
		}
		return
	}
	w := p.workers
	units := (n + grain - 1) / grain
	chunks := min(units, w*perWorker)
	size := (units + chunks - 1) / chunks * grain
	chunks = (n + size - 1) / size
	w = min(w, chunks)
	p.mu.Lock()
	p.fn, p.fnw, p.n, p.size, p.chunks = fn, fnw, n, size, chunks
	p.next.Store(0)
	p.pending.Store(int32(w - 1))
	p.busy.Store(true)
	p.call.Store((p.call.Load()>>16+1)<<16 | uint64(w))
	for i := 1; i < w; i++ {
		if p.idle[i].CompareAndSwap(true, false) {
			p.wake[i-1] <- struct{}{}
		}
	}
	p.runChunks(0)
	p.join()
	p.busy.Store(false)
	p.fn, p.fnw = nil, nil
	p.mu.Unlock()
}

// join waits for the workers of the call in progress. The caller spins
// for joinSpin rather than parking at once: a parked caller is made
// runnable by the last worker's goroutine, on that worker's P, and the
// scheduler then moves the worker to whichever thread wakes first, so the
// next call found its worker tens of microseconds late. Past joinSpin it
// parks (see joinSpin), with the handshake of await: the caller raises
// joinWait and looks again; the worker that ends the call claims the flag
// and sends a token, so either the caller's second look sees the call done
// or it receives the token. Call numbers start at 1, so 0 means no one
// waits.
func (p *Pool) join() {
	start := p.now()
	for i := 0; p.pending.Load() != 0; i++ {
		if i%32 != 31 || p.now().Sub(start) <= joinSpin {
			continue
		}
		call := p.call.Load() >> 16
		p.joinWait.Store(call)
		if p.pending.Load() == 0 && p.joinWait.CompareAndSwap(call, 0) {
			return
		}
		<-p.done
		return
	}
}

// runChunks claims chunks of the call in progress for worker w until none
// are left.
func (p *Pool) runChunks(w int) {
	for {
		c := int(p.next.Add(1) - 1)
		if c >= p.chunks {
			return
		}
		lo := c * p.size
		hi := min(lo+p.size, p.n)
		if p.fn != nil {
			p.fn(lo, hi)
		} else {
			p.fnw(w, lo, hi)
		}
	}
}

// chunksPerWorker balances load on a shared machine against per-chunk
// overhead; chunks stay at least grain long either way.
const chunksPerWorker = 4

// Close stops the worker goroutines. The pool must not be used afterwards.
// Closing a nil pool does nothing.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.quit.Store(true)
	for _, ch := range p.wake {
		close(ch)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
