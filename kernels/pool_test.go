package kernels

import (
	"sync/atomic"
	"testing"
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
