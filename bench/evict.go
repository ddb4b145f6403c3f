package bench

import "github.com/elasticml/elastic/kernels"

// lineWords is the number of uint64 words in a 64-byte cache line, the
// stride of an Evictor's pass.
const lineWords = 8

// An Evictor empties the CPU caches of everything but its own buffer, so
// that code timed right after Evict reads its data from memory, as it would
// on a server whose other work displaces it between calls.
//
// Evict increments one word of every cache line of a buffer larger than the
// last-level cache. The writes matter: on last-level caches filled only by
// lines leaving a core's private caches (non-inclusive victim caches),
// modified lines are always kept, while clean ones may bypass it. The price
// is that the timed code then pays the write-back of the dirty lines it
// displaces, as it would behind other layers that write their activations.
//
// An Evictor is safe for use by one caller at a time.
type Evictor struct {
	p   *kernels.Pool
	buf []uint64
}

// DefaultEvictBytes returns the buffer size of NewEvictor(p, 0): twice
// LastLevelCache, so a pass displaces the whole cache despite its
// replacement policy not being strictly least-recently-used.
func DefaultEvictBytes() int { return 2 * LastLevelCache() }

// NewEvictor returns an evictor over a buffer of size bytes, rounded up to
// whole 64-byte lines; size <= 0 means DefaultEvictBytes. Evict runs on p,
// or on the calling goroutine if p is nil: pass the pool of the timed code
// so the private caches of its cores are refilled too. The buffer's pages are
// touched here, so Evict takes no page faults.
func NewEvictor(p *kernels.Pool, size int) *Evictor {
	if size <= 0 {
		size = DefaultEvictBytes()
	}
	lines := (size + 8*lineWords - 1) / (8 * lineWords)
	e := &Evictor{p: p, buf: make([]uint64, lines*lineWords)}
	e.Evict()
	return e
}

// Bytes returns the size of the evictor's buffer.
func (e *Evictor) Bytes() int { return 8 * len(e.buf) }

// Evict writes to every cache line of the evictor's buffer.
func (e *Evictor) Evict() {
	lines := len(e.buf) / lineWords
	pass := func(lo, hi int) {
		b := e.buf[lo*lineWords : hi*lineWords]
		for i := 0; i < len(b); i += lineWords {
			b[i]++
		}
	}
	// 16K lines (1 MiB) per grain: few enough chunks to cost nothing,
	// enough for every worker of the pool to take a share.
	e.p.For(lines, 1<<14, pass)
}
