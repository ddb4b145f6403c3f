package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a fixed set of worker goroutines that run a range-splitting
// function in contiguous chunks. It exists so that the multithreaded kernels
// pay no goroutine start-up per call: a decoder step calls a GEMV thousands
// of times per second, and spawning goroutines each time costs more than a
// small GEMV.
//
// A Pool is safe for use by one caller at a time; concurrent callers must use
// separate pools. The zero value is not usable; call NewPool.
type Pool struct {
	workers int
	wake    []chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool

	// The call in progress, read by workers between wake and wg.Done;
	// kept here rather than in a closure so For does not allocate.
	fn      func(lo, hi int)
	n, size int
	chunks  int
	next    atomic.Int64
}

// NewPool returns a pool of n workers; n <= 0 means runtime.GOMAXPROCS(0).
// The calling goroutine counts as one worker, so n-1 goroutines are started.
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: n, wake: make([]chan struct{}, n-1)}
	for i := range p.wake {
		ch := make(chan struct{}, 1)
		p.wake[i] = ch
		go func() {
			for range ch {
				p.runChunks()
				p.wg.Done()
			}
		}()
	}
	return p
}

// Workers reports the number of workers, the caller included.
func (p *Pool) Workers() int { return p.workers }

// For calls fn over [0, n) split into contiguous chunks whose sizes are
// multiples of grain (except the last), and returns when all are done.
// Small n (under 2*grain) runs on the calling goroutine.
//
// There are up to chunksPerWorker times more chunks than workers, and
// workers claim them from a shared counter: on a shared machine one worker
// may be descheduled for a while, and the others then take over its share
// instead of waiting for it.
func (p *Pool) For(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	w := p.workers
	if w <= 1 || n < 2*grain {
		fn(0, n)
		return
	}
	units := (n + grain - 1) / grain
	chunks := min(units, w*chunksPerWorker)
	size := (units + chunks - 1) / chunks * grain
	chunks = (n + size - 1) / size
	w = min(w, chunks)
	p.mu.Lock()
	p.fn, p.n, p.size, p.chunks = fn, n, size, chunks
	p.next.Store(0)
	p.wg.Add(w - 1)
	for i := 1; i < w; i++ {
		p.wake[i-1] <- struct{}{}
	}
	p.runChunks()
	p.wg.Wait()
	p.fn = nil
	p.mu.Unlock()
}

// runChunks claims chunks of the call in progress until none are left.
func (p *Pool) runChunks() {
	for {
		c := int(p.next.Add(1) - 1)
		if c >= p.chunks {
			return
		}
		lo := c * p.size
		p.fn(lo, min(lo+p.size, p.n))
	}
}

// chunksPerWorker balances load on a shared machine against per-chunk
// overhead; chunks stay at least grain long either way.
const chunksPerWorker = 4

// Close stops the worker goroutines. The pool must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
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
