package kernels

import (
	"fmt"
	"strings"
	"testing"
)

// packedShapes are the (n, k) of op(B) that TestGemmPacked cycles through:
// n is never a multiple of a sliver width (4, 16, 32) and k covers one
// partial, one full-plus-partial and several k blocks of gemmKC = 192.
var packedShapes = [][2]int{{33, 17}, {47, 193}, {70, 385}, {5, 3}, {129, 64}, {1, 1}}

// packedScalars are the (alpha, beta) pairs cycled through; zero alpha
// must leave A and B unread and zero beta C unread (testGemmCase plants
// NaNs to check).
var packedScalars = [][2]float32{{1, 0}, {0.75, -0.5}, {-1.25, 1}, {0, 0.5}, {0.5, 0.25}}

// TestGemmPacked checks GemmPacked against the float64 reference for every
// row count 1..37 (partial and whole mr-row slivers of all kernels), both
// transpositions of A and of the packed B, and strided operands. One
// PackedB per implementation is repacked for every case, so reuse of its
// storage and scratch at growing and shrinking sizes is covered too.
func TestGemmPacked(t *testing.T) {
	runImpls(t, func(t *testing.T, im floatImpl) {
		pb := new(PackedB)
		ci := 0
		for m := 1; m <= 37; m++ {
			for _, si := range []int{m, m + 3} {
				sh := packedShapes[si%len(packedShapes)]
				sc := packedScalars[ci%len(packedScalars)]
				tc := gemmCase{m: m, n: sh[0], k: sh[1], alpha: sc[0], beta: sc[1], pad: ci % 3}
				for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
					testGemmCase(t, tc, ci, tr[0], tr[1], func(g *gemmArgs) {
						var gb *gemmArgs
						pb, gb = preparePackB("test", pb, im.gemm, g.transB, g.k, tc.n, g.b, g.ldb)
						pb.pack(gb, 0, tc.n)
						g.b = nil // GemmPacked must not touch the unpacked B
						pb.run(g, pb.kk, 0, tc.m, 0, tc.n)
					})
				}
				ci++
			}
		}
	})
}

// TestGemmPackedBits checks that the public and Pool forms of PackB and
// GemmPacked give exactly Gemm's bits: the packed layout and the k blocking
// are Gemm's own, and the workers split C on whole rows or slivers. The
// shapes include the forward (NT) and backward (NN) recurrent products of
// a 650-unit LSTM with a batch of 20.
func TestGemmPackedBits(t *testing.T) {
	shapes := [][3]int{{0, 3, 3}, {5, 7, 9}, {20, 2600, 650}, {20, 650, 2600}, {301, 97, 129}, {33, 700, 65}, {3, 0, 4}, {4, 5, 0}}
	for _, workers := range []int{1, 2, 3} {
		p := NewPool(workers)
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			var serial, pooled *PackedB
			for si, sz := range shapes {
				m, n, k := sz[0], sz[1], sz[2]
				for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
					lda, ldb := max(k, 1), max(n, 1)
					if tr[0] {
						lda = max(m, 1)
					}
					if tr[1] {
						ldb = max(k, 1)
					}
					a := benchFill(m*k, uint64(si))
					b := benchFill(k*n, uint64(si)+10)
					want := benchFill(m*n, uint64(si)+20)
					got := append([]float32(nil), want...)
					gotPool := append([]float32(nil), want...)
					Gemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, -1, want, max(n, 1))
					serial = PackB(serial, tr[1], k, n, b, ldb)
					pooled = p.PackB(pooled, tr[1], k, n, b, ldb)
					if pk, pn := pooled.Dims(); pk != k || pn != n {
						t.Fatalf("Dims() = %d, %d, want %d, %d", pk, pn, k, n)
					}
					GemmPacked(tr[0], m, 0.5, a, lda, serial, -1, got, max(n, 1))
					p.GemmPacked(tr[0], m, 0.5, a, lda, pooled, -1, gotPool, max(n, 1))
					what := fmt.Sprintf("%v %dx%dx%d", tr, m, n, k)
					assertSameBits(t, "GemmPacked "+what, got, want)
					assertSameBits(t, "Pool.GemmPacked "+what, gotPool, want)
				}
			}
		})
		p.Close()
	}
}

func TestGemmPackedPanics(t *testing.T) {
	v := make([]float32, 12)
	p := NewPool(2)
	defer p.Close()
	pb := PackB(nil, false, 3, 4, v, 4) // op(B) is 3×4
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"PackB negative", func() { PackB(nil, false, -1, 2, v, 2) }},
		{"PackB ldb", func() { PackB(nil, false, 3, 4, v, 3) }},
		{"PackB ldb trans", func() { PackB(nil, true, 3, 4, v, 2) }},
		{"PackB short b", func() { PackB(nil, false, 3, 4, v[:11], 4) }},
		{"Pool.PackB short b", func() { p.PackB(nil, true, 3, 4, v[:11], 3) }},
		{"GemmPacked nil", func() { GemmPacked(false, 1, 1, v, 3, nil, 0, v, 4) }},
		{"GemmPacked negative", func() { GemmPacked(false, -1, 1, v, 3, pb, 0, v, 4) }},
		{"GemmPacked lda", func() { GemmPacked(false, 2, 1, v, 2, pb, 0, v, 4) }},
		{"GemmPacked lda trans", func() { GemmPacked(true, 4, 1, v, 3, pb, 0, v, 4) }},
		{"GemmPacked short a", func() { GemmPacked(false, 2, 1, v[:5], 3, pb, 0, v, 4) }},
		{"GemmPacked ldc", func() { GemmPacked(false, 2, 1, v, 3, pb, 0, v, 3) }},
		{"Pool.GemmPacked short c", func() { p.GemmPacked(false, 3, 1, v, 3, pb, 0, v[:11], 4) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.f()
		})
	}
}

// TestGemmPackedAllocs checks that the packed A block comes from the
// PackedB's scratch rather than a fresh allocation per call.
func TestGemmPackedAllocs(t *testing.T) {
	const m, n, k = 20, 260, 65
	a := benchFill(m*k, 1)
	b := benchFill(n*k, 2)
	c := make([]float32, m*n)
	pb := PackB(nil, true, k, n, b, k)
	allocs := testing.AllocsPerRun(100, func() { GemmPacked(false, m, 1, a, k, pb, 0, c, n) })
	// One gemmArgs escapes per call; the scratch is reused. (sync.Pool may
	// drop it at a GC, hence the fraction.)
	if allocs > 1.5 {
		t.Fatalf("GemmPacked: %v allocations per call, want about 1", allocs)
	}
}

// BenchmarkGemmPacked compares Gemm with GemmPacked on the per-step
// recurrent products of a 650-unit LSTM with a batch of 20: H·W_hhᵀ (NT,
// 20×2600×650) in the forward pass and dG·W_hh (NN, 20×650×2600) in the
// backward pass. Gemm repacks the 6.8 MB W_hh on every call.
func BenchmarkGemmPacked(b *testing.B) {
	const batch, hidden = 20, 650
	const gates = 4 * hidden
	w := benchFill(gates*hidden, 1)
	h := benchFill(batch*hidden, 2)
	dg := benchFill(batch*gates, 3)
	g := make([]float32, batch*gates)
	dh := make([]float32, batch*hidden)
	for _, threads := range []int{1, 2} {
		p := NewPool(threads)
		nt := p.PackB(nil, true, hidden, gates, w, hidden)
		nn := p.PackB(nil, false, gates, hidden, w, hidden)
		for _, c := range []struct {
			name string
			run  func()
		}{
			// Packing is timed as a copy of W_hh (MB/s); the products in
			// GFLOP/s.
			{"NT/Gemm", func() { p.Gemm(false, true, batch, gates, hidden, 1, h, hidden, w, hidden, 1, g, gates) }},
			{"NT/Packed", func() { p.GemmPacked(false, batch, 1, h, hidden, nt, 1, g, gates) }},
			{"NN/Gemm", func() { p.Gemm(false, false, batch, hidden, gates, 1, dg, gates, w, hidden, 0, dh, hidden) }},
			{"NN/Packed", func() { p.GemmPacked(false, batch, 1, dg, gates, nn, 0, dh, hidden) }},
			{"NT/PackB", func() { p.PackB(nt, true, hidden, gates, w, hidden) }},
			{"NN/PackB", func() { p.PackB(nn, false, gates, hidden, w, hidden) }},
		} {
			b.Run(fmt.Sprintf("%s/threads=%d", c.name, threads), func(b *testing.B) {
				isPack := strings.HasSuffix(c.name, "PackB")
				if isPack {
					b.SetBytes(4 * gates * hidden)
				}
				for b.Loop() {
					c.run()
				}
				if !isPack {
					b.ReportMetric(2*batch*gates*hidden*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				}
			})
		}
		p.Close()
	}
}
