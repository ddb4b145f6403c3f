package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// floatImpl is one implementation of the float32 kernels, so each can be
// tested directly whatever the dispatcher would pick on this CPU.
type floatImpl struct {
	name   string
	ok     bool // the CPU can run it
	dot    func(x, y []float32) float32
	axpy   func(alpha float32, x, y []float32)
	gemv   func(y, w []float32, cols int, x []float32)
	gather func(y, w []float32, cols int, x []float32, idx []int32)
	gemm   gemmKernel
}

func genericFloatImpl() floatImpl {
	return floatImpl{
		name: "generic", ok: true,
		dot: dotGeneric, axpy: axpyGeneric, gemv: gemvGeneric, gather: gemvGatherGeneric, gemm: gemmGeneric(),
	}
}

// runImpls runs f once per implementation the CPU supports.
func runImpls(t *testing.T, f func(t *testing.T, im floatImpl)) {
	for _, im := range floatImpls() {
		t.Run(im.name, func(t *testing.T) {
			if !im.ok {
				t.Skipf("CPU lacks %s", im.name)
			}
			f(t, im)
		})
	}
}

// signedFill returns values of magnitude in [0.5, 1) with random sign, so
// every product is at least 1/4 in size and a skipped element always shows.
func signedFill(seed uint64) func(int) float32 {
	r := rand.New(rand.NewPCG(seed, 0xf10a7))
	return func(int) float32 {
		v := float32(0.5 + 0.5*r.Float64())
		if r.IntN(2) == 0 {
			return -v
		}
		return v
	}
}

// dotTol bounds the float32 error of a length-n dot product whose terms sum
// in magnitude to mag: FMA and the kernels' partial sums reorder the sum, so
// results agree with float64 only to a few units of float32 rounding per
// partial sum, far below the size of any one term.
func dotTol(mag float64) float64 { return 2e-6*mag + 1e-30 }

func dot64(x, y []float32) (sum, mag float64) {
	for i := range x {
		p := float64(x[i]) * float64(y[i])
		sum += p
		mag += math.Abs(p)
	}
	return sum, mag
}

func TestFloatDot(t *testing.T) {
	runImpls(t, func(t *testing.T, im floatImpl) {
		for _, n := range oddLengths {
			for _, al := range alignments {
				x, cx := guarded(n, al, signedFill(uint64(n)))
				y, cy := guarded(n, (al+1)%4, signedFill(uint64(n)+1000))
				got := im.dot(x, y)
				cx(t, "x")
				cy(t, "y")
				want, mag := dot64(x, y)
				if d := math.Abs(float64(got) - want); !(d <= dotTol(mag)) {
					t.Fatalf("n=%d align=%d: got %v, want %v (|diff| %g > %g)", n, al, got, want, d, dotTol(mag))
				}
			}
		}
	})
}

func TestFloatAxpy(t *testing.T) {
	runImpls(t, func(t *testing.T, im floatImpl) {
		const alpha = -0.625
		for _, n := range oddLengths {
			for _, al := range alignments {
				x, cx := guarded(n, al, signedFill(uint64(n)))
				y, cy := guarded(n, (al+2)%4, signedFill(uint64(n)+7))
				y0 := append([]float32(nil), y...)
				im.axpy(alpha, x, y)
				cx(t, "x")
				cy(t, "y")
				for i := range y {
					want := float64(y0[i]) + alpha*float64(x[i])
					tol := 1.2e-7 * (math.Abs(float64(y0[i])) + math.Abs(alpha*float64(x[i])))
					if d := math.Abs(float64(y[i]) - want); !(d <= tol) {
						t.Fatalf("n=%d align=%d: y[%d]=%v, want %v", n, al, i, y[i], want)
					}
				}
			}
		}
	})
}

// checkRow compares y to the float64 dot product of row w and x.
func checkRow(t *testing.T, what string, got float32, w, x []float32) {
	t.Helper()
	want, mag := dot64(w, x)
	if d := math.Abs(float64(got) - want); !(d <= dotTol(mag)) {
		t.Fatalf("%s: got %v, want %v (|diff| %g > %g)", what, got, want, d, dotTol(mag))
	}
}

func TestFloatGemv(t *testing.T) {
	runImpls(t, func(t *testing.T, im floatImpl) {
		testGemv(t, []int{0, 1, 3, 4, 5, 9}, oddLengths, guarded, im.gemv, checkRow)
	})
}

func TestFloatGemvGather(t *testing.T) {
	runImpls(t, func(t *testing.T, im floatImpl) {
		testGather(t, []int{1, 5, 13}, oddLengths, guarded, im.gather, checkRow)
	})
}

// The GEMV conformance drivers, shared by float32 and float16 weights:
// guardW makes a guarded weight slice of W from float32 values, and check
// compares an output with the float64 dot product of its row and x.
type (
	guardFunc[W float32 | uint16] func(n, align int, fill func(i int) float32) ([]W, func(t *testing.T, name string))
	rowCheck[W float32 | uint16]  func(t *testing.T, what string, got float32, w []W, x []float32)
)

// testGemv runs gemv at every shape and alignment, with guards around w, x
// and y.
func testGemv[W float32 | uint16](t *testing.T, rowsList, colsList []int, guardW guardFunc[W], gemv func(y []float32, w []W, cols int, x []float32), check rowCheck[W]) {
	t.Helper()
	for _, rows := range rowsList {
		for _, cols := range colsList {
			for _, al := range alignments {
				w, cw := guardW(rows*cols, al, signedFill(uint64(rows*cols)))
				x, cx := guarded(cols, (al+1)%4, signedFill(uint64(cols)+3))
				y, cy := guarded(rows, (al+3)%4, func(int) float32 { return 99 })
				gemv(y, w, cols, x)
				cw(t, "w")
				cx(t, "x")
				cy(t, "y")
				for i := range rows {
					check(t, fmt.Sprintf("rows=%d cols=%d align=%d y[%d]", rows, cols, al, i), y[i], w[i*cols:(i+1)*cols], x)
				}
			}
		}
	}
}

// testGather runs gather at every shape and alignment on index lists that
// are empty, a random subset in random order, or drawn with replacement
// (unsorted, with repeats). Rows not listed hold NaN weights, so reading
// one shows, and must keep their sentinel output.
func testGather[W float32 | uint16](t *testing.T, rowsList, colsList []int, guardW guardFunc[W], gather func(y []float32, w []W, cols int, x []float32, idx []int32), check rowCheck[W]) {
	t.Helper()
	sentinel := math.Float32frombits(0x7fc0beef)
	r := rand.New(rand.NewPCG(1, 2))
	for _, rows := range rowsList {
		for _, cols := range colsList {
			for _, al := range alignments {
				for trial := range 4 {
					var idx []int32
					switch trial {
					case 1:
						idx = randomSubset(r, rows)
					case 2, 3:
						idx = make([]int32, r.IntN(2*rows+1))
						for j := range idx {
							idx[j] = int32(r.IntN(rows))
						}
					}
					selected := make([]bool, rows)
					for _, i := range idx {
						selected[i] = true
					}
					fill := signedFill(uint64(rows*cols + trial))
					w, cw := guardW(rows*cols, al, func(i int) float32 {
						if !selected[i/max(cols, 1)] {
							return float32(math.NaN())
						}
						return fill(i)
					})
					x, cx := guarded(cols, (al+1)%4, signedFill(uint64(cols)+5))
					y, cy := guarded(rows, (al+3)%4, func(int) float32 { return sentinel })
					gather(y, w, cols, x, idx)
					cw(t, "w")
					cx(t, "x")
					cy(t, "y")
					for i := range rows {
						what := fmt.Sprintf("rows=%d cols=%d align=%d idx=%v y[%d]", rows, cols, al, idx, i)
						if !selected[i] {
							if math.Float32bits(y[i]) != math.Float32bits(sentinel) {
								t.Fatalf("%s: unlisted row written: %v", what, y[i])
							}
							continue
						}
						check(t, what, y[i], w[i*cols:(i+1)*cols], x)
					}
				}
			}
		}
	}
}

// randomSubset returns a random subset of [0, n) in random order; its size
// is drawn uniformly from [0, n], so empty and full subsets both occur.
func randomSubset(r *rand.Rand, n int) []int32 {
	perm := r.Perm(n)
	idx := make([]int32, r.IntN(n+1))
	for j := range idx {
		idx[j] = int32(perm[j])
	}
	return idx
}

// gemmCase is one Gemm problem; the strides exceed their minimum by pad.
type gemmCase struct {
	m, n, k     int
	alpha, beta float32
	pad         int
}

var gemmCases = []gemmCase{
	{0, 3, 5, 1, 0, 0},
	{3, 0, 5, 1, 0, 1},
	{3, 5, 0, 0.5, -2, 1},
	{1, 1, 1, 1, 0, 0},
	{7, 9, 3, 0.75, -0.5, 2},
	{15, 33, 17, 0.75, -0.5, 3},
	{29, 65, 31, -1.25, 0, 5},
	{14, 32, 64, 0.5, 1, 0},
	{43, 17, 300, 0.75, 0.25, 1}, // two k blocks
	{500, 19, 9, 1.5, -0.5, 2},   // two m blocks
	{6, 4100, 5, 0.75, -0.5, 1},  // two n blocks
	{9, 11, 13, 0, 0.5, 1},       // alpha zero: A and B unread
}

// gemmOperand allocates a guarded rows×cols matrix with stride ld; the
// padding after each row holds guard values.
func gemmOperand(rows, cols, ld, align int, fill func(int) float32) ([]float32, func(*testing.T, string)) {
	n := 0
	if rows > 0 {
		n = (rows-1)*ld + cols
	}
	return guarded(n, align, func(i int) float32 {
		if i%ld >= cols {
			return guardVal
		}
		return fill(i)
	})
}

func TestFloatGemm(t *testing.T) {
	runImpls(t, func(t *testing.T, im floatImpl) {
		for ci, tc := range gemmCases {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				testGemmCase(t, tc, ci, tr[0], tr[1], func(g *gemmArgs) { g.run(im.gemm, 0, tc.m, 0, tc.n) })
			}
		}
	})
}

func testGemmCase(t *testing.T, tc gemmCase, ci int, transA, transB bool, run func(*gemmArgs)) {
	t.Helper()
	m, n, k := tc.m, tc.n, tc.k
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := max(ac, 1)+tc.pad, max(bc, 1)+tc.pad, max(n, 1)+tc.pad
	a, ca := gemmOperand(ar, ac, lda, 1, randFill(uint64(ci)))
	b, cb := gemmOperand(br, bc, ldb, 2, randFill(uint64(ci)+100))
	c, cc := gemmOperand(m, n, ldc, 3, randFill(uint64(ci)+200))
	if tc.beta == 0 {
		// C must not be read when beta is zero.
		for i := range c {
			if i%ldc < n {
				c[i] = float32(math.NaN())
			}
		}
	}
	if tc.alpha == 0 {
		// Nor A and B when alpha is zero.
		for i := range a {
			a[i] = float32(math.NaN())
		}
		for i := range b {
			b[i] = float32(math.NaN())
		}
	}
	c0 := append([]float32(nil), c...)
	opA := func(i, p int) float64 {
		if transA {
			return float64(a[p*lda+i])
		}
		return float64(a[i*lda+p])
	}
	opB := func(p, j int) float64 {
		if transB {
			return float64(b[j*ldb+p])
		}
		return float64(b[p*ldb+j])
	}
	g := &gemmArgs{transA, transB, k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc}
	run(g)
	what := fmt.Sprintf("case %d %+v transA=%v transB=%v", ci, tc, transA, transB)
	ca(t, what+" a")
	cb(t, what+" b")
	cc(t, what+" c")
	for i := range m {
		for j := range n {
			var sum, mag float64
			if tc.alpha != 0 {
				for p := range k {
					v := float64(tc.alpha) * opA(i, p) * opB(p, j)
					sum += v
					mag += math.Abs(v)
				}
			}
			if tc.beta != 0 {
				v := float64(tc.beta) * float64(c0[i*ldc+j])
				sum += v
				mag += math.Abs(v)
			}
			got := c[i*ldc+j]
			if d := math.Abs(float64(got) - sum); !(d <= dotTol(mag)) {
				t.Fatalf("%s: C[%d,%d]=%v, want %v", what, i, j, got, sum)
			}
		}
	}
}

// TestFloatPool checks that the threaded kernels give bit-identical results
// to the serial ones: the work is split on whole rows (GEMV), whole index
// groups (gather) or whole tiles (GEMM), so every output sums in the same
// order.
func TestFloatPool(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		p := NewPool(workers)
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			for _, sz := range [][2]int{{0, 5}, {7, 3}, {3001, 65}, {4099, 129}, {200, 1500}} {
				rows, cols := sz[0], sz[1]
				w, _ := guarded(rows*cols, 0, signedFill(1))
				x, _ := guarded(cols, 0, signedFill(2))
				bias, _ := guarded(rows, 0, signedFill(3))
				want := make([]float32, rows)
				got := make([]float32, rows)
				Gemv(want, w, cols, x, bias)
				p.Gemv(got, w, cols, x, bias)
				assertSameBits(t, fmt.Sprintf("Gemv %dx%d", rows, cols), got, want)

				idx := randomSubset(rand.New(rand.NewPCG(uint64(rows), 9)), rows)
				for i := range want {
					want[i], got[i] = -7, -7
				}
				GemvGather(want, w, cols, x, bias, idx)
				p.GemvGather(got, w, cols, x, bias, idx)
				assertSameBits(t, fmt.Sprintf("GemvGather %dx%d", rows, cols), got, want)
			}
			for _, sz := range [][3]int{{0, 3, 3}, {5, 7, 9}, {301, 97, 129}, {33, 700, 65}} {
				m, n, k := sz[0], sz[1], sz[2]
				for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
					a, _ := guarded(m*k, 0, randFill(4))
					b, _ := guarded(k*n, 0, randFill(5))
					want, _ := guarded(m*n, 0, randFill(6))
					got := append([]float32(nil), want...)
					lda, ldb := k, n
					if tr[0] {
						lda = m
					}
					if tr[1] {
						ldb = k
					}
					Gemm(tr[0], tr[1], m, n, k, 0.5, a, max(lda, 1), b, max(ldb, 1), -1, want, max(n, 1))
					p.Gemm(tr[0], tr[1], m, n, k, 0.5, a, max(lda, 1), b, max(ldb, 1), -1, got, max(n, 1))
					assertSameBits(t, fmt.Sprintf("Gemm %v %dx%dx%d", tr, m, n, k), got, want)
				}
			}
		})
		p.Close()
	}
}

func assertSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, serial gives %v", what, i, got[i], want[i])
		}
	}
}

// TestFloatPublic checks the exported entry points (bias, dispatch) against
// the float64 reference on one shape per kernel.
func TestFloatPublic(t *testing.T) {
	const rows, cols = 37, 129
	w, _ := guarded(rows*cols, 1, signedFill(11))
	x, _ := guarded(cols, 2, signedFill(12))
	bias, _ := guarded(rows, 3, signedFill(13))
	y := make([]float32, rows)
	Gemv(y, w, cols, x, bias)
	for i := range rows {
		checkRow(t, fmt.Sprintf("Gemv y[%d]", i), y[i]-bias[i], w[i*cols:(i+1)*cols], x)
	}
	idx := []int32{36, 0, 5}
	clear(y)
	GemvGather(y, w, cols, x, bias, idx)
	for i := range rows {
		if i != 36 && i != 0 && i != 5 {
			if y[i] != 0 {
				t.Fatalf("GemvGather wrote unselected y[%d]", i)
			}
			continue
		}
		checkRow(t, fmt.Sprintf("GemvGather y[%d]", i), y[i]-bias[i], w[i*cols:(i+1)*cols], x)
	}
	checkRow(t, "Dot", Dot(w[:cols], x), w[:cols], x)
	z := append([]float32(nil), x...)
	Axpy(2, x, z)
	for i := range z {
		if z[i] != 3*x[i] {
			t.Fatalf("Axpy: z[%d]=%v, want %v", i, z[i], 3*x[i])
		}
	}
	for ci, tc := range gemmCases[:8] {
		testGemmCase(t, tc, ci, false, true, func(g *gemmArgs) {
			Gemm(g.transA, g.transB, tc.m, tc.n, tc.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc)
		})
	}
}

func TestFloatShapePanics(t *testing.T) {
	v := make([]float32, 12)
	p := NewPool(2)
	defer p.Close()
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Dot lengths", func() { Dot(v[:3], v[:4]) }},
		{"Axpy lengths", func() { Axpy(1, v[:3], v[:4]) }},
		{"Gemv w", func() { Gemv(v[:3], v[:11], 4, v[:4], nil) }},
		{"Gemv x", func() { Gemv(v[:3], v[:12], 4, v[:5], nil) }},
		{"Gemv b", func() { Gemv(v[:3], v[:12], 4, v[:4], v[:2]) }},
		{"Gemv cols", func() { Gemv(v[:0], v[:0], -1, v[:0], nil) }},
		{"Pool.Gemv x", func() { p.Gemv(v[:3], v[:12], 4, v[:3], nil) }},
		{"GemvGather idx high", func() { GemvGather(v[:3], v[:12], 4, v[:4], nil, []int32{0, 3}) }},
		{"GemvGather idx negative", func() { GemvGather(v[:3], v[:12], 4, v[:4], nil, []int32{-1}) }},
		{"Pool.GemvGather idx", func() { p.GemvGather(v[:3], v[:12], 4, v[:4], nil, []int32{3}) }},
		{"Gemm negative", func() { Gemm(false, false, -1, 2, 2, 1, v, 2, v, 2, 0, v, 2) }},
		{"Gemm lda", func() { Gemm(false, false, 2, 2, 3, 1, v, 2, v, 2, 0, v, 2) }},
		{"Gemm lda trans", func() { Gemm(true, false, 4, 2, 2, 1, v, 3, v, 2, 0, v, 2) }},
		{"Gemm ldb trans", func() { Gemm(false, true, 2, 2, 3, 1, v, 3, v, 2, 0, v, 2) }},
		{"Gemm short c", func() { Gemm(false, false, 2, 2, 2, 1, v, 2, v, 2, 0, v[:3], 2) }},
		{"Pool.Gemm short a", func() { p.Gemm(false, false, 3, 2, 4, 1, v[:11], 4, v, 2, 0, v, 2) }},
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

// TestFloatGemvAllocs pins the allocation budget the decoder loop relies
// on: none for the serial kernels, one closure for the Pool forms, for
// float32 and float16 weights alike.
func TestFloatGemvAllocs(t *testing.T) {
	const rows, cols = 4096, 515
	w := make([]float32, rows*cols)
	h := make([]uint16, rows*cols)
	x := make([]float32, cols)
	y := make([]float32, rows)
	idx := []int32{5, 1, 4000, 7, 9}
	p := NewPool(2)
	defer p.Close()
	for _, tc := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"Gemv", 0, func() { Gemv(y, w, cols, x, y) }},
		{"GemvGather", 0, func() { GemvGather(y, w, cols, x, nil, idx) }},
		{"Pool.Gemv", 1, func() { p.Gemv(y, w, cols, x, nil) }},
		{"Pool.GemvGather", 1, func() { p.GemvGather(y, w, cols, x, y, idx) }},
		{"GemvHalf", 0, func() { GemvHalf(y, h, cols, x, y) }},
		{"GemvHalfGather", 0, func() { GemvHalfGather(y, h, cols, x, nil, idx) }},
		{"Pool.GemvHalf", 1, func() { p.GemvHalf(y, h, cols, x, nil) }},
		{"Pool.GemvHalfGather", 1, func() { p.GemvHalfGather(y, h, cols, x, y, idx) }},
	} {
		if n := testing.AllocsPerRun(20, tc.f); n > tc.max {
			t.Errorf("%s: %v allocations per call, want at most %v", tc.name, n, tc.max)
		}
	}
}

// TestPoolGemmReusesPackedB runs Gemms that pack op(B) once for all row
// blocks on one pool, with op(B) growing, shrinking and transposed between
// calls, so the pool's kept buffer is reused at other shapes; each must
// match the serial Gemm bit for bit. It checks the gemmB path is taken.
func TestPoolGemmReusesPackedB(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	for i, sz := range [][4]int{{600, 96, 300, 0}, {700, 48, 120, 0}, {600, 96, 300, 1}, {650, 40, 200, 1}} {
		m, n, k, trB := sz[0], sz[1], sz[2], sz[3] == 1
		if byRows, grain := gemmGrain(gemmKernelF32(), m, n, k); !byRows || m < 2*grain {
			t.Fatalf("case %d: %dx%dx%d would not pack op(B) once", i, m, n, k)
		}
		a, _ := guarded(m*k, 0, randFill(uint64(7+i)))
		b, _ := guarded(k*n, 0, randFill(uint64(17+i)))
		want, _ := guarded(m*n, 0, randFill(uint64(27+i)))
		got := append([]float32(nil), want...)
		ldb := n
		if trB {
			ldb = k
		}
		Gemm(false, trB, m, n, k, 0.75, a, k, b, ldb, 0.5, want, n)
		p.Gemm(false, trB, m, n, k, 0.75, a, k, b, ldb, 0.5, got, n)
		assertSameBits(t, fmt.Sprintf("case %d: Gemm %dx%dx%d transB=%v", i, m, n, k, trB), got, want)
		if p.gemmB.k != k || p.gemmB.n != n {
			t.Errorf("case %d: pool's packed B is %dx%d, want %dx%d", i, p.gemmB.k, p.gemmB.n, k, n)
		}
	}
}
