package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// halfValue decodes binary16 bits independently of the code under test:
// sign · 2^(e−15) · (1 + f/1024), or 2^−14 · f/1024 for subnormals.
func halfValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, f := int(h>>10&0x1f), float64(h&0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(f/1024, -14)
	case 31:
		if f != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1+f/1024, e-15)
}

// TestFromHalfExhaustive checks every binary16 value against halfValue,
// through the dispatched kernel and the pure-Go twin.
func TestFromHalfExhaustive(t *testing.T) {
	src := make([]uint16, 1<<16+5) // a ragged tail for the assembly
	for i := range src {
		src[i] = uint16(i)
	}
	for _, im := range append(halfImpls(), halfImpl{name: "dispatch", ok: true, from: FromHalf}) {
		t.Run(im.name, func(t *testing.T) {
			if !im.ok {
				t.Skipf("CPU lacks %s", im.name)
			}
			dst := make([]float32, len(src))
			im.from(dst, src)
			for i, h := range src {
				want, got := halfValue(h), float64(dst[i])
				if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && want != got) {
					t.Fatalf("half %#04x = %v, want %v", h, got, want)
				}
			}
		})
	}
}

// TestToHalfNearest checks that ToHalf picks the nearest binary16, ties to
// the even code, across the whole exponent range: normals, subnormals,
// overflow to infinity, exact ties and the values next to them.
func TestToHalfNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 16))
	var src []float32
	for range 20000 {
		e := r.IntN(40) - 28 // 2^-28 … 2^11: underflow to overflow
		v := float32(math.Ldexp(1+r.Float64(), e))
		if r.IntN(2) == 0 {
			v = -v
		}
		src = append(src, v)
	}
	for h := range uint16(0x7c00) { // every finite positive half: its ties and neighbours
		lo, hi := halfValue(h), halfValue(h+1)
		mid := float32((lo + hi) / 2)
		src = append(src, mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, 1e9), -mid)
	}
	src = append(src, 0, float32(math.Copysign(0, -1)), 65504, 65519.99, 65520, 1e9, float32(math.Inf(-1)))
	for _, im := range append(halfImpls(), halfImpl{name: "dispatch", ok: true, to: ToHalf}) {
		t.Run(im.name, func(t *testing.T) {
			if !im.ok {
				t.Skipf("CPU lacks %s", im.name)
			}
			dst := make([]uint16, len(src))
			im.to(dst, src)
			for i, v := range src {
				if err := checkNearest(float64(v), dst[i]); err != nil {
					t.Fatalf("%v (%g): %v", v, v, err)
				}
			}
		})
	}
}

// checkNearest returns an error unless h is the binary16 nearest to v,
// ties going to the even code, and ±Inf beyond the rounding boundary 65520.
func checkNearest(v float64, h uint16) error {
	if (h&0x8000 != 0) != math.Signbit(v) {
		return fmt.Errorf("sign of %#04x", h)
	}
	a, got := math.Abs(v), math.Abs(halfValue(h))
	if a >= 65520 {
		if !math.IsInf(got, 1) {
			return fmt.Errorf("got %#04x, want infinity", h)
		}
		return nil
	}
	m := h & 0x7fff
	err := a - got
	if m > 0 {
		if below := a - halfValue(m-1); math.Abs(below) < math.Abs(err) || (below == -err && m&1 == 1) {
			return fmt.Errorf("got %#04x (%g), %#04x is nearer or the even tie", h, got, m-1)
		}
	}
	if above := halfValue(m+1) - a; above < math.Abs(err) || (above == err && m&1 == 1) {
		return fmt.Errorf("got %#04x (%g), %#04x is nearer or the even tie", h, got, m+1)
	}
	return nil
}

// randomHalf returns n binary16 weights of magnitude in [0.5, 1) with
// random signs, so that every term of a dot product shows.
func randomHalf(n int, seed uint64) []uint16 {
	f := signedFill(seed)
	v := make([]float32, n)
	for i := range v {
		v[i] = f(i)
	}
	h := make([]uint16, n)
	ToHalf(h, v)
	return h
}

func TestGemvHalf(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	for _, tc := range []struct{ rows, cols int }{
		{1, 1}, {3, 15}, {5, 16}, {6, 17}, {7, 33}, {9, 100}, {17, 512}, {130, 48},
	} {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d/bias=%v", tc.rows, tc.cols, bias), func(t *testing.T) {
				w := randomHalf(tc.rows*tc.cols, uint64(tc.rows*1000+tc.cols))
				x := make([]float32, tc.cols)
				fill := signedFill(7)
				for i := range x {
					x[i] = fill(i)
				}
				var b []float32
				if bias {
					b = make([]float32, tc.rows)
					for i := range b {
						b[i] = fill(i)
					}
				}
				want := make([]float64, tc.rows)
				mag := make([]float64, tc.rows)
				for i := range want {
					for j := range tc.cols {
						p := halfValue(w[i*tc.cols+j]) * float64(x[j])
						want[i] += p
						mag[i] += math.Abs(p)
					}
					if b != nil {
						want[i] += float64(b[i])
						mag[i] += math.Abs(float64(b[i]))
					}
				}
				// Gather every other row and the last, last first.
				idx := []int32{int32(tc.rows - 1)}
				for i := 0; i < tc.rows-1; i += 2 {
					idx = append(idx, int32(i))
				}
				const sentinel = 12345
				for _, run := range []struct {
					name   string
					full   func(y []float32)
					gather func(y []float32)
				}{
					{"dispatch", func(y []float32) { GemvHalf(y, w, tc.cols, x, b) },
						func(y []float32) { GemvHalfGather(y, w, tc.cols, x, b, idx) }},
					{"pool", func(y []float32) { pool.GemvHalf(y, w, tc.cols, x, b) },
						func(y []float32) { pool.GemvHalfGather(y, w, tc.cols, x, b, idx) }},
					{"generic", func(y []float32) {
						gemvHalfGeneric(y, w, tc.cols, x)
						if b != nil {
							Axpy(1, b, y)
						}
					}, func(y []float32) {
						gemvHalfGatherGeneric(y, w, tc.cols, x, idx)
						for _, r := range idx {
							if b != nil {
								y[r] += b[r]
							}
						}
					}},
				} {
					y := make([]float32, tc.rows)
					run.full(y)
					for i, v := range y {
						if d := math.Abs(float64(v) - want[i]); d > dotTol(mag[i]) {
							t.Fatalf("%s: row %d: got %v, want %v (|diff| %g)", run.name, i, v, want[i], d)
						}
					}
					g := make([]float32, tc.rows)
					for i := range g {
						g[i] = sentinel
					}
					run.gather(g)
					for i, v := range g {
						switch {
						case i%2 == 0 || i == tc.rows-1:
							if d := math.Abs(float64(v) - want[i]); d > dotTol(mag[i]) {
								t.Fatalf("%s gather: row %d: got %v, want %v", run.name, i, v, want[i])
							}
						case v != sentinel:
							t.Fatalf("%s gather: row %d not listed but written (%v)", run.name, i, v)
						}
					}
				}
			})
		}
	}
}

func TestGemvHalfPanics(t *testing.T) {
	y, x := make([]float32, 2), make([]float32, 3)
	w := make([]uint16, 6)
	for name, f := range map[string]func(){
		"short w":    func() { GemvHalf(y, w[:5], 3, x, nil) },
		"short x":    func() { GemvHalf(y, w, 3, x[:2], nil) },
		"bias":       func() { GemvHalf(y, w, 3, x, make([]float32, 3)) },
		"index":      func() { GemvHalfGather(y, w, 3, x, nil, []int32{2}) },
		"to lengths": func() { ToHalf(w[:2], x) },
		"from":       func() { FromHalf(x, w) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// BenchmarkGemvHalfCold streams a 256 MiB float16 matrix (far beyond the
// caches) against the float32 GEMV over the same number of rows, whose
// matrix is twice the bytes: at memory bandwidth both report the same
// GB/s, the float16 one in half the time. The gathers read a quarter of
// the rows, sorted, as a predictor selects them. The -noprefetch runs are
// this CPU's float16 kernels without their software prefetch (absent
// under purego), for the A/B that keeps it.
func BenchmarkGemvHalfCold(b *testing.B) {
	const rows, cols = 1 << 18, 512
	pool := NewPool(0)
	defer pool.Close()
	x := make([]float32, cols)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	y := make([]float32, rows)
	h := Clone(randomHalf(rows*cols, 1)) // on huge pages where offered, as weights are
	w := Make[float32](rows * cols)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	r := rand.New(rand.NewPCG(7, 7))
	var idx []int32
	for i := range rows {
		if r.IntN(4) == 0 {
			idx = append(idx, int32(i))
		}
	}
	run := func(name string, bytes int, f func()) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(bytes))
			for b.Loop() {
				f()
			}
		})
	}
	dense, gather := halfNoPrefetch()
	run("f16", 2*len(h), func() { pool.GemvHalf(y, h, cols, x, nil) })
	if dense != nil {
		run("f16-noprefetch", 2*len(h), func() {
			pool.For(rows, gemvGrain(cols, 2), func(lo, hi int) { gemvRange(dense, y, h, cols, x, nil, lo, hi) })
		})
	}
	run("f32", 4*len(w), func() { pool.Gemv(y, w, cols, x, nil) })
	run("f16-gather", 2*len(idx)*cols, func() { pool.GemvHalfGather(y, h, cols, x, nil, idx) })
	if gather != nil {
		run("f16-gather-noprefetch", 2*len(idx)*cols, func() {
			pool.For(len(idx), gemvGrain(cols, 2), func(lo, hi int) {
				gemvGatherRange(gather, y, h, cols, x, nil, idx, lo, hi)
			})
		})
	}
	run("f32-gather", 4*len(idx)*cols, func() { pool.GemvGather(y, w, cols, x, nil, idx) })
}
