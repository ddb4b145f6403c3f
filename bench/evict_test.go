package bench

import (
	"fmt"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

// Every pass writes every cache line of the buffer once, and nothing else,
// with or without a pool.
func TestEvictorWritesEveryLine(t *testing.T) {
	p := kernels.NewPool(2)
	defer p.Close()
	for _, tc := range []struct {
		pool      *kernels.Pool
		size      int
		wantBytes int
	}{
		{nil, 1, 64},
		{nil, 1000, 1024},
		{p, 64 << 10, 64 << 10},
		{p, 3<<20 + 1, 3<<20 + 64},
	} {
		e := NewEvictor(tc.pool, tc.size)
		if got := e.Bytes(); got != tc.wantBytes {
			t.Errorf("NewEvictor(%d bytes).Bytes() = %d, want %d", tc.size, got, tc.wantBytes)
		}
		e.Evict()
		e.Evict()
		// NewEvictor's own pass and two more.
		for i, v := range e.buf {
			want := uint64(0)
			if i%lineWords == 0 {
				want = 3
			}
			if v != want {
				t.Fatalf("size %d, pool %v: word %d is %d after 3 passes, want %d", tc.size, tc.pool != nil, i, v, want)
			}
		}
	}
}

func ExampleEvictor() {
	// A small evictor for the example; NewEvictor(p, 0) spans twice the
	// last-level cache.
	e := NewEvictor(nil, 1<<20)
	data := make([]float32, 1<<16)
	sum := func(int) {
		var s float32
		for _, v := range data {
			s += v
		}
		data[0] = s
	}
	ts, raw := MeasureRoundsWith(5, e.Evict, sum)
	fmt.Println(e.Bytes(), ts[0].Reps, len(raw[0]))
	// Output: 1048576 5 5
}

// BenchmarkEvictor reports the cost of one default-size pass, paid before
// every timed call of a cold run.
func BenchmarkEvictor(b *testing.B) {
	p := kernels.NewPool(0)
	defer p.Close()
	e := NewEvictor(p, 0)
	b.SetBytes(int64(e.Bytes()))
	for b.Loop() {
		e.Evict()
	}
}

// BenchmarkColdGemv times a 16 MiB GEMV, a matrix the last-level cache of
// a server holds, after an Evict (cold) and right after the previous GEMV
// (warm).
func BenchmarkColdGemv(b *testing.B) {
	const rows, cols = 8192, 512
	p := kernels.NewPool(0)
	defer p.Close()
	e := NewEvictor(p, 0)
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	x := make([]float32, cols)
	z := make([]float32, rows)
	for _, cold := range []bool{false, true} {
		name := "warm"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(w)))
			p.Gemv(z, w, cols, x, nil)
			for i := 0; i < b.N; i++ {
				if cold {
					b.StopTimer()
					e.Evict()
					b.StartTimer()
				}
				p.Gemv(z, w, cols, x, nil)
			}
		})
	}
}
