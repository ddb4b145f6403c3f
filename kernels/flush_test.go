package kernels

import (
	"slices"
	"testing"
	"time"
)

// Flush must accept any slice, unaligned and of any length, touch no line
// outside it (a fault would crash the test), change nothing and report
// CanFlush. That it evicts cannot be asserted without a clock: a Flush
// that did nothing would pass here. BenchmarkFlush shows the eviction
// (the flushed sum reads memory), and elastic demo's --evict copies, which
// flushes nothing, is the end-to-end check on the flush's cold times.
func TestFlushChangesNothing(t *testing.T) {
	v := make([]byte, 10000)
	for i := range v {
		v[i] = byte(i * 7)
	}
	want := slices.Clone(v)
	for _, r := range [][2]int{{0, 0}, {0, 1}, {1, 2}, {63, 65}, {3, 9999}, {0, 10000}, {9999, 10000}} {
		if got := Flush(v[r[0]:r[1]]); got != CanFlush() {
			t.Fatalf("Flush(v[%d:%d]) = %v, CanFlush %v", r[0], r[1], got, CanFlush())
		}
	}
	f := make([]float32, 1000)
	Flush(f[1:])
	Flush[float64](nil)
	if !slices.Equal(v, want) {
		t.Fatal("Flush changed memory")
	}
	if n := testing.AllocsPerRun(10, func() { Flush(v) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// BenchmarkFlush shows that Flush evicts: summing 32 MiB after flushing it
// reads memory, so it takes longer than summing it warm (compare the
// warm/ and flushed/ ns/op; the flushed time excludes the flush).
func BenchmarkFlush(b *testing.B) {
	v := make([]float32, 8<<20)
	for i := range v {
		v[i] = float32(i)
	}
	var s float32
	sum := func() {
		for i := 0; i < len(v); i += 16 {
			s += v[i]
		}
	}
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			sum()
		}
	})
	b.Run("flushed", func(b *testing.B) {
		var d time.Duration
		for b.Loop() {
			b.StopTimer()
			Flush(v)
			b.StartTimer()
			t0 := time.Now()
			sum()
			d += time.Since(t0)
		}
	})
	b.Run("flush", func(b *testing.B) {
		b.SetBytes(int64(4 * len(v)))
		for b.Loop() {
			Flush(v)
		}
	})
	_ = s
}
