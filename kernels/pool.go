package kernels

import (
	"runtime"
	"sync"
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
	tasks   []chan task
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
}

type task struct {
	fn     func(lo, hi int)
	lo, hi int
}

// NewPool returns a pool of n workers; n <= 0 means runtime.GOMAXPROCS(0).
// The calling goroutine counts as one worker, so n-1 goroutines are started.
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: n, tasks: make([]chan task, n-1)}
	for i := range p.tasks {
		ch := make(chan task, 1)
		p.tasks[i] = ch
		go func() {
			for t := range ch {
				t.fn(t.lo, t.hi)
				p.wg.Done()
			}
		}()
	}
	return p
}

// Workers reports the number of workers, the caller included.
func (p *Pool) Workers() int { return p.workers }

// For calls fn over [0, n) split into at most Workers() contiguous chunks
// whose sizes are multiples of grain (except the last). It returns when all
// chunks are done. Small n (under 2*grain) runs on the calling goroutine.
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
	if units < w {
		w = units
	}
	per := units / w
	extra := units % w
	p.mu.Lock()
	lo := 0
	// Chunk 0 runs on the caller; chunks 1..w-1 go to workers.
	first := (per + b2i(extra > 0)) * grain
	lo = first
	for i := 1; i < w; i++ {
		size := (per + b2i(i < extra)) * grain
		hi := min(lo+size, n)
		p.wg.Add(1)
		p.tasks[i-1] <- task{fn: fn, lo: lo, hi: hi}
		lo = hi
	}
	fn(0, min(first, n))
	p.wg.Wait()
	p.mu.Unlock()
}

// Close stops the worker goroutines. The pool must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.tasks {
		close(ch)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
