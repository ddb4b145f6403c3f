package kernels

import (
	"slices"
	"testing"
)

// Prefetch is a hint: it must accept any slice and line count, read
// nothing past v's lines, and change nothing.
func TestPrefetchChangesNothing(t *testing.T) {
	v := make([]float32, 1000)
	for i := range v {
		v[i] = float32(i)
	}
	want := slices.Clone(v)
	for _, n := range []int{-1, 0, 1, 2, 63, 1000} {
		Prefetch(v, n)
		Prefetch(v[:1], n) // 4 bytes: one line at most
		Prefetch(v[999:], n)
		Prefetch[float32](nil, n)
		PrefetchAll(v[:3])
	}
	if !slices.Equal(v, want) {
		t.Fatal("Prefetch changed memory")
	}
	if n := testing.AllocsPerRun(10, func() { Prefetch(v, PrefetchLines) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
