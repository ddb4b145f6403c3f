package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gemvShapes are the benchmarked weight matrices: a wide FFN projection and
// a vocabulary-sized output layer.
var gemvShapes = [][2]int{{6000, 3000}, {33278, 1500}, {1024, 1024}}

// coldBytes is the total size of the weight copies a cold benchmark cycles
// through; it exceeds twice the largest last-level cache we run on (260 MiB),
// so every call streams its weights from DRAM.
const coldBytes = 640 << 20

func benchFill(n int, seed uint64) []float32 {
	s := make([]float32, n)
	f := randFill(seed)
	for i := range s {
		s[i] = f(i)
	}
	return s
}

// weightCopies returns one matrix of n floats, or enough distinct copies of
// it to exceed coldBytes when cold is set.
func weightCopies(n int, cold bool) [][]float32 {
	w := benchFill(n, 1)
	ws := [][]float32{w}
	for cold && len(ws)*4*n < coldBytes {
		ws = append(ws, append([]float32(nil), w...))
	}
	return ws
}

func BenchmarkGemv(b *testing.B) {
	for _, sh := range gemvShapes {
		rows, cols := sh[0], sh[1]
		for _, cold := range []bool{false, true} {
			ws := weightCopies(rows*cols, cold)
			x := benchFill(cols, 2)
			bias := benchFill(rows, 3)
			y := make([]float32, rows)
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("%dx%d/threads=%d", rows, cols, threads)
				if cold {
					name += "/cold"
				}
				b.Run(name, func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					b.SetBytes(int64(4 * rows * cols))
					i := 0
					for b.Loop() {
						p.Gemv(y, ws[i%len(ws)], cols, x, bias)
						i++
					}
				})
			}
		}
	}
}

func BenchmarkGemvGather(b *testing.B) {
	for _, sh := range gemvShapes[:2] {
		rows, cols := sh[0], sh[1]
		w := benchFill(rows*cols, 1)
		x := benchFill(cols, 2)
		y := make([]float32, rows)
		// A quarter of the rows in sorted order, as a predictor selects them.
		r := rand.New(rand.NewPCG(7, 7))
		var idx []int32
		for i := range rows {
			if r.IntN(4) == 0 {
				idx = append(idx, int32(i))
			}
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dx%d/quarter/threads=%d", rows, cols, threads), func(b *testing.B) {
				p := NewPool(threads)
				defer p.Close()
				b.SetBytes(int64(4 * len(idx) * cols))
				for b.Loop() {
					p.GemvGather(y, w, cols, x, nil, idx)
				}
			})
		}
	}
}

// BenchmarkCopy is the memory-bandwidth yardstick for BenchmarkGemv: the
// bytes/s of copy over the same sizes, hot and cold.
func BenchmarkCopy(b *testing.B) {
	for _, sh := range gemvShapes[:2] {
		n := sh[0] * sh[1]
		for _, cold := range []bool{false, true} {
			ws := weightCopies(n, cold)
			dst := make([]float32, n)
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("%dx%d/threads=%d", sh[0], sh[1], threads)
				if cold {
					name += "/cold"
				}
				b.Run(name, func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					b.SetBytes(int64(4 * n))
					i := 0
					for b.Loop() {
						src := ws[i%len(ws)]
						p.For(n, 1<<16, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
						i++
					}
				})
			}
		}
	}
}

func BenchmarkDot(b *testing.B) {
	for _, n := range []int{64, 1024, 16384} {
		x, y := benchFill(n, 1), benchFill(n, 2)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				Dot(x, y)
			}
		})
	}
}

func BenchmarkAxpy(b *testing.B) {
	for _, n := range []int{1024, 16384} {
		x, y := benchFill(n, 1), benchFill(n, 2)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(12 * n))
			for b.Loop() {
				Axpy(0.5, x, y)
			}
		})
	}
}

// BenchmarkGemm reports GFLOP/s for the three products of a training step
// of a linear layer Y = X·Wᵀ with a batch of m rows: NT (forward), NN (input
// gradient) and TN (weight gradient).
func BenchmarkGemm(b *testing.B) {
	for _, sh := range [][3]int{{256, 1024, 1024}, {512, 3000, 1500}} {
		batch, out, in := sh[0], sh[1], sh[2]
		x := benchFill(batch*in, 1)
		w := benchFill(out*in, 2)
		dy := benchFill(batch*out, 3)
		y := make([]float32, batch*out)
		dx := make([]float32, batch*in)
		dw := make([]float32, out*in)
		for _, threads := range []int{1, 2} {
			p := NewPool(threads)
			for _, c := range []struct {
				name string
				run  func()
			}{
				{"NT", func() { p.Gemm(false, true, batch, out, in, 1, x, in, w, in, 0, y, out) }},
				{"NN", func() { p.Gemm(false, false, batch, in, out, 1, dy, out, w, in, 0, dx, in) }},
				{"TN", func() { p.Gemm(true, false, out, in, batch, 1, dy, out, x, in, 1, dw, in) }},
			} {
				b.Run(fmt.Sprintf("%s/%dx%dx%d/threads=%d", c.name, batch, out, in, threads), func(b *testing.B) {
					for b.Loop() {
						c.run()
					}
					flops := 2 * float64(batch) * float64(out) * float64(in)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
			p.Close()
		}
	}
}
