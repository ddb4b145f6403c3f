package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// intColdBytes is how much weight data the cold benchmarks rotate through per
// format: about twice the 260 MiB L3 of the target machine, so every call
// streams its matrix from memory.
const intColdBytes = 512 << 20

// randBytes fills p from a seeded source, eight bytes per draw.
func randBytes(p []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0xb17e))
	for i := 0; i < len(p); i += 8 {
		v := r.Uint64()
		for j := i; j < min(i+8, len(p)); j++ {
			p[j] = byte(v)
			v >>= 8
		}
	}
}

// intBenchInput returns a quantized random input of n columns.
func intBenchInput(n int) ([]int8, float32) {
	x := make([]float32, n)
	fill := randFill(5)
	for i := range x {
		x[i] = fill(i)
	}
	xq := make([]int8, n)
	return xq, QuantizeInt8(xq, x)
}

// BenchmarkGemvIntCold compares the INT8 and INT4 GEMVs with the float32
// Gemv on matrices read from memory, cycling through enough copies that
// none stays in cache. SetBytes is the weight bytes one call reads, so
// MB/s is the achieved weight bandwidth and ns/op compares formats. The
// short-row shapes are an LSTM-1500 little module's projection (417×1500)
// and one gate's product (1500×834), and a 268K-class screener (×128),
// where the kernels' prefetch matters most.
func BenchmarkGemvIntCold(b *testing.B) {
	for _, sh := range [][2]int{{6000, 3000}, {33278, 1500}, {417, 1500}, {1500, 834}, {267744, 128}} {
		rows, cols := sh[0], sh[1]
		xq, xs := intBenchInput(cols)
		x := make([]float32, cols)
		for j, v := range xq {
			x[j] = float32(v) * xs
		}
		y := make([]float32, rows)
		scales := make([]float32, rows)
		for i := range scales {
			scales[i] = 1.0 / 256
		}
		b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
			b.Run("f32", func(b *testing.B) {
				size := rows * cols
				w := make([][]float32, max(2, intColdBytes/(4*size)))
				fill := randFill(6)
				for i := range w {
					w[i] = make([]float32, size)
					if i == 0 {
						for j := range w[0] {
							w[0][j] = fill(j)
						}
					} else {
						copy(w[i], w[0])
					}
				}
				coldThreads(b, int64(4*size), func(p *Pool, k int) {
					p.Gemv(y, w[k%len(w)], cols, x, nil)
				})
			})
			b.Run("int8", func(b *testing.B) {
				size := rows * cols
				q := make([][]int8, max(2, intColdBytes/size))
				raw := make([]byte, size)
				randBytes(raw, 7)
				for i := range q {
					q[i] = make([]int8, size)
					copy(q[i], asInt8(raw))
				}
				coldThreads(b, int64(size), func(p *Pool, k int) {
					p.GemvInt8(y, q[k%len(q)], scales, cols, xq, xs, nil)
				})
			})
			b.Run("int4", func(b *testing.B) {
				size := rows * int4RowBytes(cols)
				q := make([][]byte, max(2, intColdBytes/size))
				for i := range q {
					q[i] = make([]byte, size)
					if i == 0 {
						randBytes(q[0], 8)
					} else {
						copy(q[i], q[0])
					}
				}
				coldThreads(b, int64(size), func(p *Pool, k int) {
					p.GemvInt4(y, q[k%len(q)], scales, cols, xq, xs, nil)
				})
			})
		})
	}
}

// coldThreads runs call with pools of one and two workers, passing the
// iteration number so call can pick the next copy of its weights.
func coldThreads(b *testing.B, bytes int64, call func(p *Pool, k int)) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("t%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			b.SetBytes(bytes)
			k := 0
			for b.Loop() {
				call(p, k)
				k++
			}
		})
	}
}

// BenchmarkGemvIntImpl times each implementation single-threaded on a
// matrix that fits in cache, which shows compute speed rather than memory
// bandwidth.
func BenchmarkGemvIntImpl(b *testing.B) {
	const rows, cols = 512, 1000
	xq, xs := intBenchInput(cols)
	y := make([]float32, rows)
	scales := make([]float32, rows)
	q8 := make([]byte, rows*cols)
	randBytes(q8, 9)
	q4 := make([]byte, rows*int4RowBytes(cols))
	randBytes(q4, 10)
	for _, im := range int8Impls() {
		b.Run("int8/"+im.name, func(b *testing.B) {
			b.SetBytes(int64(len(q8)))
			for b.Loop() {
				im.fn(y, asInt8(q8), scales, cols, xq, xs, nil, nil)
			}
		})
	}
	for _, im := range int4Impls() {
		b.Run("int4/"+im.name, func(b *testing.B) {
			b.SetBytes(int64(len(q4)))
			for b.Loop() {
				im.fn(y, q4, scales, cols, xq, xs, nil, nil)
			}
		})
	}
}

// BenchmarkGemvIntGather reads a random quarter of the rows, as a
// predicted-sparse layer does.
func BenchmarkGemvIntGather(b *testing.B) {
	const rows, cols = 8192, 1500
	xq, xs := intBenchInput(cols)
	y := make([]float32, rows)
	scales := make([]float32, rows)
	idx := intSubset(rand.New(rand.NewPCG(11, 11)), rows, rows/4)
	q8 := make([]byte, rows*cols)
	randBytes(q8, 12)
	q4 := make([]byte, rows*int4RowBytes(cols))
	randBytes(q4, 13)
	b.Run("int8", func(b *testing.B) {
		b.SetBytes(int64(len(idx) * cols))
		for b.Loop() {
			GemvInt8Gather(y, asInt8(q8), scales, cols, xq, xs, nil, idx)
		}
	})
	b.Run("int4", func(b *testing.B) {
		b.SetBytes(int64(len(idx) * int4RowBytes(cols)))
		for b.Loop() {
			GemvInt4Gather(y, q4, scales, cols, xq, xs, nil, idx)
		}
	})
}

func BenchmarkQuantizeInt8(b *testing.B) {
	x := make([]float32, 3000)
	fill := randFill(14)
	for i := range x {
		x[i] = fill(i)
	}
	xq := make([]int8, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		QuantizeInt8(xq, x)
	}
}

// BenchmarkGemvIntShort times the integer GEMVs, single-threaded, on the
// short-row shapes where per-row overhead rather than bytes can dominate:
// the INT8 little module of an LSTM-1500 layer (6000×417, dense and a
// sorted half of the rows), its INT4 twin, and INT4 approximate screening (128 columns,
// 64 bytes a row, over 268K to 1M rows). The matrices fit the 260 MiB L3
// of the target, as they do when a model runs step after step; MB/s is
// the weight bytes read per second.
func BenchmarkGemvIntShort(b *testing.B) {
	b.Run("int8/6000x417", func(b *testing.B) {
		const rows, cols = 6000, 417
		xq, xs := intBenchInput(cols)
		y := make([]float32, rows)
		scales := make([]float32, rows)
		bias := make([]float32, rows)
		q := make([]byte, rows*cols)
		randBytes(q, 15)
		b.Run("dense", func(b *testing.B) {
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				GemvInt8(y, asInt8(q), scales, cols, xq, xs, bias)
			}
		})
		idx := intSubset(rand.New(rand.NewPCG(16, 16)), rows, rows/2)
		slices.Sort(idx)
		b.Run("gather50", func(b *testing.B) {
			b.SetBytes(int64(len(idx) * cols))
			for b.Loop() {
				GemvInt8Gather(y, asInt8(q), scales, cols, xq, xs, bias, idx)
			}
		})
	})
	b.Run("int4/6000x417", func(b *testing.B) {
		const rows, cols = 6000, 417
		xq, xs := intBenchInput(cols)
		y := make([]float32, rows)
		scales := make([]float32, rows)
		bias := make([]float32, rows)
		q := make([]byte, rows*int4RowBytes(cols))
		randBytes(q, 18)
		b.SetBytes(int64(len(q)))
		for b.Loop() {
			GemvInt4(y, q, scales, cols, xq, xs, bias)
		}
	})
	for _, rows := range []int{268000, 670000, 1000000} {
		b.Run(fmt.Sprintf("int4/%dx128", rows), func(b *testing.B) {
			const cols = 128
			xq, xs := intBenchInput(cols)
			y := make([]float32, rows)
			scales := make([]float32, rows)
			bias := make([]float32, rows)
			q := make([]byte, rows*int4RowBytes(cols))
			randBytes(q, 17)
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				GemvInt4(y, q, scales, cols, xq, xs, bias)
			}
		})
	}
}
