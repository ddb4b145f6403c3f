package kernels

import (
	"fmt"
	"math"
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

// projectRows returns x (rows×dim) times a seeded random ±1/√c matrix of
// dim×c: the predictor's low-dimensional view Q̃ or K̃ of synthetic data.
func projectRows(x []float32, rows, dim, c int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x9e37))
	p := make([]float32, dim*c)
	for i := range p {
		p[i] = float32(1 - 2*r.IntN(2))
	}
	y := make([]float32, rows*c)
	Gemm(false, false, rows, c, dim, 1, x, dim, p, c, 0, y, c)
	return y
}

// BenchmarkSparseAttention runs, per shape, sparsity and block, dense
// attention and DSA (the INT8 predictor with fused top-k over σ = 1/4
// projected keys, then the fused sparse attention on its pattern) round by
// round on the pool, and reports each one's mean time, the predictor's
// share and the paired speed-up dense/DSA. The data are synthetic
// (uniform q, k, v; a random ±1 projection).
func BenchmarkSparseAttention(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	for _, sh := range attnBenchShapes {
		r := rand.New(rand.NewPCG(1, 1))
		n := sh.heads * sh.l * sh.dim
		q, k, v := uniformFill(r, n, 1), uniformFill(r, n, 1), uniformFill(r, n, 1)
		c := sh.dim / 4
		pq := make([]*Int8Rows, sh.heads)
		pk := make([]*PackedInt8, sh.heads)
		hd := sh.l * sh.dim
		for h := range sh.heads {
			pq[h] = QuantizeRows(projectRows(q[h*hd:(h+1)*hd], sh.l, sh.dim, c, 1), sh.l, c)
			pk[h] = PackInt8(QuantizeRows(projectRows(k[h*hd:(h+1)*hd], sh.l, sh.dim, c, 1), sh.l, c))
		}
		out, dense := make([]float32, n), make([]float32, n)
		scale := float32(1 / math.Sqrt(float64(sh.dim)))
		for _, sparsity := range []float64{0.90, 0.95} {
			for _, block := range []int{1, 4, 8} {
				groups := (sh.l + block - 1) / block
				topk := max(1, int(math.Round((1-sparsity)*float64(groups))))
				idx := make([]int32, sh.heads*sh.l*topk)
				name := fmt.Sprintf("h%d_l%d_d%d_s%.2f_b%d", sh.heads, sh.l, sh.dim, sparsity, block)
				b.Run(name, func(b *testing.B) {
					var tDense, tPred, tSparse time.Duration
					for range b.N {
						t0 := time.Now()
						pool.Attention(dense, q, k, v, sh.heads, sh.l, sh.dim, false)
						t1 := time.Now()
						sps := make([]SparseRows, sh.heads)
						for h := range sh.heads {
							sps[h] = pool.PredictTopK(pq[h], pk[h], topk, block, idx[h*sh.l*topk:(h+1)*sh.l*topk])
						}
						t2 := time.Now()
						for h := range sh.heads {
							o := h * hd
							pool.SparseAttention(out[o:o+hd], q[o:o+hd], k[o:o+hd], v[o:o+hd], sh.dim, sh.dim, sps[h], scale)
						}
						t3 := time.Now()
						tDense += t1.Sub(t0)
						tPred += t2.Sub(t1)
						tSparse += t3.Sub(t2)
					}
					ms := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(b.N) }
					b.ReportMetric(ms(tDense), "dense-ms")
					b.ReportMetric(ms(tPred+tSparse), "dsa-ms")
					b.ReportMetric(ms(tPred), "predictor-ms")
					b.ReportMetric(float64(tDense)/float64(tPred+tSparse), "speedup")
					b.ReportMetric(float64(tPred)/float64(tDense), "predictor/dense")
				})
			}
		}
	}
}

// BenchmarkDecode runs one decoding step of 8 heads (batch 8) against
// caches of l keys, dense and DSA at 95% (the predictor over σ = 1/4
// projected INT8 keys, then the selected keys), round by round, and
// reports both times, the paired speed-up and the predictor's top-k
// recall of the exact scores on this synthetic data.
func BenchmarkDecode(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	const batch, dim = 8, 64
	const c = dim / 4
	for _, l := range []int{8192, 32768} {
		r := rand.New(rand.NewPCG(2, uint64(l)))
		q, k, v := uniformFill(r, batch*dim, 1), uniformFill(r, batch*l*dim, 1), uniformFill(r, batch*l*dim, 1)
		pq := QuantizeRows(projectRows(q, batch, dim, c, 3), batch, c)
		kp := QuantizeRows(projectRows(k, batch*l, dim, c, 3), batch*l, c)
		pk := make([]*PackedInt8, batch)
		for bi := range pk {
			pk[bi] = PackInt8(&Int8Rows{Rows: l, Cols: c, Q: kp.Q[bi*l*c : (bi+1)*l*c], Scales: kp.Scales[bi*l : (bi+1)*l]})
		}
		out := make([]float32, batch*dim)
		topk := l / 20
		sel := make([]int32, batch*topk)
		b.Run(fmt.Sprintf("l%d_s0.95", l), func(b *testing.B) {
			var tDense, tDSA time.Duration
			for range b.N {
				t0 := time.Now()
				pool.DecodeAttention(out, q, k, v, batch, l, dim, dim)
				t1 := time.Now()
				pool.SparseDecodeAttention(out, q, k, v, batch, l, dim, dim, pq, pk, topk, sel)
				tDense += t1.Sub(t0)
				tDSA += time.Since(t1)
			}
			ms := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(b.N) }
			b.ReportMetric(ms(tDense), "dense-ms")
			b.ReportMetric(ms(tDSA), "dsa-ms")
			b.ReportMetric(float64(tDense)/float64(tDSA), "speedup")
			b.ReportMetric(decodeRecall(q, k, batch, l, dim, topk, sel), "recall")
		})
	}
}

// decodeRecall is the share of each sequence's exact top-k keys by score
// that sel holds.
func decodeRecall(q, k []float32, batch, l, dim, topk int, sel []int32) float64 {
	y := make([]float32, l)
	work := make([]int32, l)
	hit := 0
	for bi := range batch {
		Gemv(y, k[bi*l*dim:(bi+1)*l*dim], dim, q[bi*dim:(bi+1)*dim], nil)
		exact, _ := TopK(work, y, topk, false)
		in := make(map[int32]bool, topk)
		for _, j := range sel[bi*topk : (bi+1)*topk] {
			in[j] = true
		}
		for _, j := range exact {
			if in[j] {
				hit++
			}
		}
	}
	return float64(hit) / float64(batch*topk)
}
