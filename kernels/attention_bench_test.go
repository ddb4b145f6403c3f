package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// attnBenchShapes are the dense targets (heads 4–8, dim 64).
var attnBenchShapes = []struct{ heads, l, dim int }{{4, 2000, 64}, {8, 4096, 64}}

// BenchmarkAttention times the dense tiled attention on the pool and
// reports its GFLOPS beside the FMA peak probed just before, in the same
// process, and their ratio.
func BenchmarkAttention(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	for _, sh := range attnBenchShapes {
		b.Run(fmt.Sprintf("h%d_l%d_d%d", sh.heads, sh.l, sh.dim), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			n := sh.heads * sh.l * sh.dim
			q, k, v := uniformFill(r, n, 1), uniformFill(r, n, 1), uniformFill(r, n, 1)
			out := make([]float32, n)
			peak := PeakGFLOPS(pool, 100*time.Millisecond)
			b.ResetTimer()
			for range b.N {
				pool.Attention(out, q, k, v, sh.heads, sh.l, sh.dim, false)
			}
			secs := b.Elapsed().Seconds() / float64(b.N)
			g := AttentionFlops(sh.heads, sh.l, sh.dim, false) / secs / 1e9
			b.ReportMetric(g, "GFLOPS")
			b.ReportMetric(peak, "peak-GFLOPS")
			b.ReportMetric(g/peak, "of-peak")
		})
	}
}
