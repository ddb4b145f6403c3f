package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// asInt8 views a byte slice as int8, so guardedBytes can guard int8 operands.
func asInt8(b []byte) []int8 {
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

// packInt4 packs the rows×cols matrix w (values in [-8, 7]) into dst in the
// INT4 layout of GemvInt4. It is the test's own packer; the quant package
// owns the real one.
func packInt4(dst []byte, w []int8, rows, cols int) {
	stride := int4RowBytes(cols)
	for i := range rows {
		for t := range stride {
			lo := w[i*cols+2*t] + 8
			hi := int8(8) // padding of an odd last column: w = 0
			if 2*t+1 < cols {
				hi = w[i*cols+2*t+1] + 8
			}
			dst[i*stride+t] = byte(lo) | byte(hi)<<4
		}
	}
}

// intRef is the float64 reference: the exact integer dot product of row r
// of w with xq, and the output built from it.
func intRef(w []int8, r, cols int, xq []int8, scale, xscale float32, b []float32) (dot int64, y float64) {
	for j := range cols {
		dot += int64(w[r*cols+j]) * int64(xq[j])
	}
	y = float64(scale) * float64(xscale) * float64(dot)
	if b != nil {
		y += float64(b[r])
	}
	return dot, y
}

// intTol bounds the float32 rounding of the epilogue: converting the sum,
// multiplying two scales and the sum, and adding the bias.
func intTol(dot int64, scale, xscale float32, bias float64) float64 {
	return 4e-7 * (math.Abs(float64(scale)*float64(xscale)*float64(dot)) + math.Abs(bias))
}

// intCase is one GEMV problem: unpacked weights w (the truth), per-row
// scales, input and bias, with guarded copies handed to the kernels.
type intCase struct {
	rows, cols int
	w          []int8 // rows×cols, unpacked
	q8         []int8 // guarded copy of w
	q4         []byte // guarded packed copy of w, when w fits INT4
	scales, b  []float32
	xq         []int8
	xscale     float32
	checks     []func(*testing.T, string)
}

// newIntCase builds a case with weights drawn by wfill and inputs by xfill,
// all slices starting at element offset align. unit sets scales and xscale
// to 1 and b to nil, so y must equal the exact integer sum (as float32).
func newIntCase(rows, cols, align int, wfill, xfill func() int8, unit bool, seed uint64) *intCase {
	r := rand.New(rand.NewPCG(seed, 0x1e7))
	c := &intCase{rows: rows, cols: cols, xscale: 1}
	c.w = make([]int8, rows*cols)
	fits4 := true
	for i := range c.w {
		c.w[i] = wfill()
		fits4 = fits4 && c.w[i] >= -8 && c.w[i] <= 7
	}
	q8, chk := guardedBytes(rows*cols, align, func(i int) byte { return byte(c.w[i]) })
	c.q8 = asInt8(q8)
	c.checks = append(c.checks, chk)
	if fits4 {
		var chk4 func(*testing.T, string)
		c.q4, chk4 = guardedBytes(rows*int4RowBytes(cols), align, func(int) byte { return 0 })
		packInt4(c.q4, c.w, rows, cols)
		c.checks = append(c.checks, chk4)
	}
	xq, chkx := guardedBytes(cols, align, func(int) byte { return byte(xfill()) })
	c.xq = asInt8(xq)
	c.checks = append(c.checks, chkx)
	scaleFill := func(int) float32 { return 1 }
	if !unit {
		scaleFill = func(int) float32 { return float32(0.001 + r.Float64()/64) }
		c.xscale = float32(0.01 + r.Float64()/100)
		var chkb func(*testing.T, string)
		c.b, chkb = guarded(rows, align, randFill(seed+1))
		c.checks = append(c.checks, chkb)
	}
	var chks func(*testing.T, string)
	c.scales, chks = guarded(rows, align, scaleFill)
	c.checks = append(c.checks, chks)
	return c
}

func (c *intCase) checkGuards(t *testing.T, name string) {
	t.Helper()
	for _, chk := range c.checks {
		chk(t, name)
	}
}

// verify compares y[r] for the rows in rows (all when nil) with the float64
// reference; in unit cases it demands the exact integer sum.
func (c *intCase) verify(t *testing.T, name string, y []float32, rows []int32, unit bool) {
	t.Helper()
	n := numRows(y, rows)
	for k := range n {
		r := rowAt(rows, k)
		dot, want := intRef(c.w, r, c.cols, c.xq, c.scales[r], c.xscale, c.b)
		got := y[r]
		if unit {
			if got != float32(dot) {
				t.Fatalf("%s: row %d: got %v, want exact sum %d", name, r, got, dot)
			}
			continue
		}
		var bias float64
		if c.b != nil {
			bias = float64(c.b[r])
		}
		if d := math.Abs(float64(got) - want); !(d <= intTol(dot, c.scales[r], c.xscale, bias)) {
			t.Fatalf("%s: row %d: got %v, want %v (dot %d)", name, r, got, want, dot)
		}
	}
}

func randInt8(r *rand.Rand, lo, hi int) func() int8 {
	return func() int8 { return int8(lo + r.IntN(hi-lo+1)) }
}

func constInt8(v int8) func() int8 { return func() int8 { return v } }

// intFills are the weight/input distributions every implementation runs:
// random over the whole range, and the extremes that saturate a careless
// int16 pair sum or overflow a careless bias.
func intFills(seed uint64, int4 bool) map[string][2]func() int8 {
	r := rand.New(rand.NewPCG(seed, 7))
	wlo, whi := -128, 127
	if int4 {
		wlo, whi = -8, 7
	}
	return map[string][2]func() int8{
		"random":    {randInt8(r, wlo, whi), randInt8(r, -127, 127)},
		"min*min":   {constInt8(int8(wlo)), constInt8(-127)},
		"min*max":   {constInt8(int8(wlo)), constInt8(127)},
		"max*max":   {constInt8(int8(whi)), constInt8(127)},
		"max*min":   {constInt8(int8(whi)), constInt8(-127)},
		"x=-128":    {randInt8(r, wlo, whi), constInt8(-128)},
		"min*-128":  {constInt8(int8(wlo)), constInt8(-128)},
		"mixedsign": {randInt8(r, wlo, whi), randInt8(r, -128, 127)},
	}
}

func TestGemvInt8Conformance(t *testing.T) {
	for _, im := range int8Impls() {
		for fname, f := range intFills(1, false) {
			for _, cols := range oddLengths {
				for _, align := range alignments {
					for _, rows := range []int{1, 4, 7} {
						for _, unit := range []bool{true, false} {
							name := fmt.Sprintf("%s/%s/rows=%d/cols=%d/align=%d/unit=%v", im.name, fname, rows, cols, align, unit)
							c := newIntCase(rows, cols, align, f[0], f[1], unit, uint64(cols*7+rows))
							y, chky := guarded(rows, align, func(int) float32 { return 12345 })
							im.fn(y, c.q8, c.scales, cols, c.xq, c.xscale, c.b, nil)
							c.verify(t, name, y, nil, unit)
							c.checkGuards(t, name)
							chky(t, name)
						}
					}
				}
			}
		}
	}
}

func TestGemvInt4Conformance(t *testing.T) {
	for _, im := range int4Impls() {
		for fname, f := range intFills(2, true) {
			for _, cols := range oddLengths {
				for _, align := range alignments {
					for _, rows := range []int{1, 4, 7} {
						for _, unit := range []bool{true, false} {
							name := fmt.Sprintf("%s/%s/rows=%d/cols=%d/align=%d/unit=%v", im.name, fname, rows, cols, align, unit)
							c := newIntCase(rows, cols, align, f[0], f[1], unit, uint64(cols*5+rows))
							y, chky := guarded(rows, align, func(int) float32 { return 12345 })
							im.fn(y, c.q4, c.scales, cols, c.xq, c.xscale, c.b, nil)
							c.verify(t, name, y, nil, unit)
							c.checkGuards(t, name)
							chky(t, name)
						}
					}
				}
			}
		}
	}
}

// TestGemvIntMaxCols runs the largest accepted rows at the extremes, where
// the exact sum is ±2^30 or near it and every biased form of it is largest.
func TestGemvIntMaxCols(t *testing.T) {
	cols := MaxIntCols
	for _, tc := range []struct{ w, x int8 }{{-128, -128}, {-128, 127}, {127, -128}, {127, 127}, {-8, -128}, {7, -128}, {-8, 127}} {
		c := newIntCase(5, cols, 0, constInt8(tc.w), constInt8(tc.x), true, 1)
		for _, im := range int8Impls() {
			y := make([]float32, 5)
			im.fn(y, c.q8, c.scales, cols, c.xq, 1, nil, nil)
			c.verify(t, fmt.Sprintf("int8 %s w=%d x=%d", im.name, tc.w, tc.x), y, nil, true)
		}
		if c.q4 == nil {
			continue
		}
		for _, im := range int4Impls() {
			y := make([]float32, 5)
			im.fn(y, c.q4, c.scales, cols, c.xq, 1, nil, nil)
			c.verify(t, fmt.Sprintf("int4 %s w=%d x=%d", im.name, tc.w, tc.x), y, nil, true)
		}
	}
}

// intSubset returns a shuffled selection of distinct rows of [0, n).
func intSubset(r *rand.Rand, n, k int) []int32 {
	idx := make([]int32, 0, k)
	for _, v := range r.Perm(n)[:k] {
		idx = append(idx, int32(v))
	}
	return idx
}

// poisonUnselected sets the scales and biases of rows not in idx to NaN, so
// any output that touches them shows.
func poisonUnselected(c *intCase, idx []int32) {
	sel := make(map[int32]bool, len(idx))
	for _, r := range idx {
		sel[r] = true
	}
	for r := range c.rows {
		if !sel[int32(r)] {
			c.scales[r] = float32(math.NaN())
			if c.b != nil {
				c.b[r] = float32(math.NaN())
			}
		}
	}
}

func checkUnselected(t *testing.T, name string, y []float32, idx []int32, keep float32) {
	t.Helper()
	sel := make(map[int32]bool, len(idx))
	for _, r := range idx {
		sel[r] = true
	}
	for r, v := range y {
		if !sel[int32(r)] && v != keep {
			t.Fatalf("%s: unselected y[%d] changed to %v", name, r, v)
		}
	}
}

func TestGemvIntGather(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	const rows = 23
	for _, cols := range oddLengths {
		for _, k := range []int{0, 1, 3, 4, 5, 13, rows} {
			for _, unit := range []bool{true, false} {
				idx := intSubset(r, rows, k)
				c := newIntCase(rows, cols, 1, randInt8(r, -8, 7), randInt8(r, -127, 127), unit, uint64(cols+k))
				if !unit {
					poisonUnselected(c, idx)
				}
				for _, im := range int8Impls() {
					name := fmt.Sprintf("int8 %s/cols=%d/k=%d/unit=%v", im.name, cols, k, unit)
					y, chky := guarded(rows, 1, func(int) float32 { return -7 })
					im.fn(y, c.q8, c.scales, cols, c.xq, c.xscale, c.b, idx)
					c.verify(t, name, y, idx, unit)
					checkUnselected(t, name, y, idx, -7)
					chky(t, name)
				}
				for _, im := range int4Impls() {
					name := fmt.Sprintf("int4 %s/cols=%d/k=%d/unit=%v", im.name, cols, k, unit)
					y, chky := guarded(rows, 1, func(int) float32 { return -7 })
					im.fn(y, c.q4, c.scales, cols, c.xq, c.xscale, c.b, idx)
					c.verify(t, name, y, idx, unit)
					checkUnselected(t, name, y, idx, -7)
					chky(t, name)
				}
				c.checkGuards(t, fmt.Sprintf("gather cols=%d k=%d", cols, k))
			}
		}
	}
}

// TestGemvIntPublic checks the exported entry points, single and pooled,
// against the float64 reference, and that pooled results equal single ones
// bit for bit.
func TestGemvIntPublic(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	pools := []*Pool{NewPool(1), NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	for _, shape := range [][2]int{{0, 5}, {1, 0}, {3, 1}, {37, 129}, {301, 1000}, {1200, 257}} {
		rows, cols := shape[0], shape[1]
		c := newIntCase(rows, cols, 0, randInt8(r, -8, 7), randInt8(r, -127, 127), false, uint64(rows))
		idx := intSubset(r, rows, rows/2)
		name := fmt.Sprintf("%dx%d", rows, cols)

		y8 := make([]float32, rows)
		GemvInt8(y8, c.q8, c.scales, cols, c.xq, c.xscale, c.b)
		c.verify(t, "GemvInt8 "+name, y8, nil, false)
		y4 := make([]float32, rows)
		GemvInt4(y4, c.q4, c.scales, cols, c.xq, c.xscale, c.b)
		c.verify(t, "GemvInt4 "+name, y4, nil, false)
		assertSameBitsInt(t, "GemvInt4 vs GemvInt8 "+name, y4, y8)

		g8 := make([]float32, rows)
		GemvInt8Gather(g8, c.q8, c.scales, cols, c.xq, c.xscale, c.b, idx)
		c.verify(t, "GemvInt8Gather "+name, g8, idx, false)
		checkUnselected(t, "GemvInt8Gather "+name, g8, idx, 0)
		g4 := make([]float32, rows)
		GemvInt4Gather(g4, c.q4, c.scales, cols, c.xq, c.xscale, c.b, idx)
		assertSameBitsInt(t, "GemvInt4Gather "+name, g4, g8)

		for _, p := range pools {
			pname := fmt.Sprintf("%s workers=%d", name, p.Workers())
			py := make([]float32, rows)
			p.GemvInt8(py, c.q8, c.scales, cols, c.xq, c.xscale, c.b)
			assertSameBitsInt(t, "Pool.GemvInt8 "+pname, py, y8)
			clear(py)
			p.GemvInt4(py, c.q4, c.scales, cols, c.xq, c.xscale, c.b)
			assertSameBitsInt(t, "Pool.GemvInt4 "+pname, py, y4)
			clear(py)
			p.GemvInt8Gather(py, c.q8, c.scales, cols, c.xq, c.xscale, c.b, idx)
			assertSameBitsInt(t, "Pool.GemvInt8Gather "+pname, py, g8)
			clear(py)
			p.GemvInt4Gather(py, c.q4, c.scales, cols, c.xq, c.xscale, c.b, idx)
			assertSameBitsInt(t, "Pool.GemvInt4Gather "+pname, py, g4)
		}
	}
}

func assertSameBitsInt(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestGemvIntQuantized runs the whole path on float data: quantize W per
// row and x, multiply, and compare with the float64 product. The error must
// stay within the bound the two roundings allow: per term,
// |w·x - ŵ·x̂| <= |w|·|x-x̂| + |x̂|·|w-ŵ| with |x-x̂| <= sx/2, |w-ŵ| <= s_i/2.
func TestGemvIntQuantized(t *testing.T) {
	const rows, cols = 50, 333
	fill := randFill(9)
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = fill(i)
	}
	x := make([]float32, cols)
	for i := range x {
		x[i] = 3 * fill(i)
	}
	q := make([]int8, rows*cols)
	scales := make([]float32, rows)
	for i := range rows {
		scales[i] = QuantizeInt8(q[i*cols:(i+1)*cols], w[i*cols:(i+1)*cols])
	}
	xq := make([]int8, cols)
	xs := QuantizeInt8(xq, x)
	y := make([]float32, rows)
	GemvInt8(y, q, scales, cols, xq, xs, nil)
	for i := range rows {
		var want, bound float64
		for j := range cols {
			wij, xj := float64(w[i*cols+j]), float64(x[j])
			want += wij * xj
			bound += math.Abs(wij)*float64(xs)/2 + math.Abs(float64(xq[j])*float64(xs))*float64(scales[i])/2
		}
		if d := math.Abs(float64(y[i]) - want); d > bound*(1+1e-5) {
			t.Fatalf("row %d: |%v - %v| = %v > bound %v", i, y[i], want, d, bound)
		}
	}
}

func TestQuantizeInt8(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name    string
		x       []float32
		scale   float32 // NaN means NaN expected; -1 means max|x|/127
		wantMax bool    // the largest |x| must map to ±127
	}{
		{"empty", nil, 0, false},
		{"zeros", []float32{0, 0, 0}, 0, false},
		{"one", []float32{-2.5}, -1, true},
		{"halfway", []float32{127, 0.5, 1.5, -0.5, -2.5}, 1, true},
		{"tiny", []float32{1e-45, -1e-45}, 0, false},
		{"subnormal", []float32{1e-40, -3e-41}, -1, true},
		{"huge", []float32{math.MaxFloat32, -math.MaxFloat32 / 3}, -1, true},
		{"nan", []float32{1, nan, 2}, nan, false},
		{"inf", []float32{1, -inf}, nan, false},
	}
	fill := randFill(11)
	rnd := make([]float32, 4099)
	for i := range rnd {
		rnd[i] = 10 * fill(i)
	}
	tests = append(tests, struct {
		name    string
		x       []float32
		scale   float32
		wantMax bool
	}{"random", rnd, -1, true})

	for _, tc := range tests {
		xq := make([]int8, len(tc.x))
		for i := range xq {
			xq[i] = 99 // must be overwritten
		}
		s := QuantizeInt8(xq, tc.x)
		var amax float64
		for _, v := range tc.x {
			amax = max(amax, math.Abs(float64(v)))
		}
		switch {
		case math.IsNaN(float64(tc.scale)):
			if !math.IsNaN(float64(s)) {
				t.Errorf("%s: scale %v, want NaN", tc.name, s)
			}
		case tc.scale == -1:
			if want := float32(amax) / 127; s != want {
				t.Errorf("%s: scale %v, want %v", tc.name, s, want)
			}
		case s != tc.scale:
			t.Errorf("%s: scale %v, want %v", tc.name, s, tc.scale)
		}
		var qmax int8
		for j, v := range xq {
			if v < -127 || v > 127 {
				t.Fatalf("%s: xq[%d] = %d outside [-127,127]", tc.name, j, v)
			}
			qmax = max(qmax, v, -v)
			if s == 0 || math.IsNaN(float64(s)) {
				if v != 0 {
					t.Fatalf("%s: xq[%d] = %d, want 0 for scale %v", tc.name, j, v, s)
				}
				continue
			}
			if d := math.Abs(float64(tc.x[j]) - float64(s)*float64(v)); d > float64(s)/2*(1+1e-6) {
				t.Fatalf("%s: |x - s·xq| at %d = %v > s/2 = %v", tc.name, j, d, s/2)
			}
		}
		if tc.wantMax && qmax != 127 {
			t.Errorf("%s: max |xq| = %d, want 127", tc.name, qmax)
		}
	}
}

func TestQuantizeInt8HalfwayRounding(t *testing.T) {
	// With max|x| = 127 the scale is 1 and x/s = x exactly, so ties show:
	// they round away from zero.
	xq := make([]int8, 5)
	QuantizeInt8(xq, []float32{127, 0.5, 1.5, -0.5, -2.5})
	if want := []int8{127, 1, 2, -1, -3}; fmt.Sprint(xq) != fmt.Sprint(want) {
		t.Errorf("xq = %v, want %v", xq, want)
	}
}

func TestGemvIntShapePanics(t *testing.T) {
	y := make([]float32, 3)
	q8 := make([]int8, 3*5)
	q4 := make([]byte, 3*3)
	sc := make([]float32, 3)
	xq := make([]int8, 5)
	p := NewPool(2)
	defer p.Close()
	tests := []struct {
		name string
		f    func()
	}{
		{"quantize len", func() { QuantizeInt8(xq[:4], make([]float32, 5)) }},
		{"int8 q len", func() { GemvInt8(y, q8[:14], sc, 5, xq, 1, nil) }},
		{"int8 negative cols", func() { GemvInt8(y, q8, sc, -5, xq, 1, nil) }},
		{"int8 cols too big", func() { GemvInt8(nil, nil, nil, MaxIntCols+1, make([]int8, MaxIntCols+1), 1, nil) }},
		{"int8 scales len", func() { GemvInt8(y, q8, sc[:2], 5, xq, 1, nil) }},
		{"int8 x len", func() { GemvInt8(y, q8, sc, 5, xq[:4], 1, nil) }},
		{"int8 b len", func() { GemvInt8(y, q8, sc, 5, xq, 1, make([]float32, 2)) }},
		{"int8 gather idx", func() { GemvInt8Gather(y, q8, sc, 5, xq, 1, nil, []int32{0, 3}) }},
		{"int8 gather negative idx", func() { GemvInt8Gather(y, q8, sc, 5, xq, 1, nil, []int32{-1}) }},
		{"pool int8 q len", func() { p.GemvInt8(y, q8[:14], sc, 5, xq, 1, nil) }},
		{"pool int8 gather idx", func() { p.GemvInt8Gather(y, q8, sc, 5, xq, 1, nil, []int32{3}) }},
		{"int4 q len", func() { GemvInt4(y, q4[:8], sc, 5, xq, 1, nil) }},
		{"int4 q unpacked", func() { GemvInt4(y, make([]byte, 15), sc, 5, xq, 1, nil) }},
		{"int4 x len", func() { GemvInt4(y, q4, sc, 5, xq[:4], 1, nil) }},
		{"int4 gather idx", func() { GemvInt4Gather(y, q4, sc, 5, xq, 1, nil, []int32{5}) }},
		{"pool int4 b len", func() { p.GemvInt4(y, q4, sc, 5, xq, 1, make([]float32, 4)) }},
		{"pool int4 gather idx", func() { p.GemvInt4Gather(y, q4, sc, 5, xq, 1, nil, []int32{-2}) }},
	}
	for _, tc := range tests {
		func() {
			defer func() {
				e := recover()
				if e == nil {
					t.Errorf("%s: no panic", tc.name)
					return
				}
				if msg := fmt.Sprint(e); !strings.HasPrefix(msg, "kernels: ") {
					t.Errorf("%s: panic %q lacks the kernels: prefix", tc.name, msg)
				}
			}()
			tc.f()
		}()
	}
}

// TestRoundHalfAway checks QuantizeInt8's rounding against math.Round,
// at and next to every tie in its range and on random values.
func TestRoundHalfAway(t *testing.T) {
	var xs []float64
	for i := -128; i <= 128; i++ {
		h := float64(i) + 0.5
		xs = append(xs, h, math.Nextafter(h, math.Inf(-1)), math.Nextafter(h, math.Inf(1)), float64(i))
	}
	r := rand.New(rand.NewPCG(3, 3))
	for range 10000 {
		xs = append(xs, 256*r.Float64()-128)
	}
	for _, x := range xs {
		if got, want := roundHalfAway(x), int32(math.Round(x)); got != want {
			t.Fatalf("roundHalfAway(%v) = %d, want %d", x, got, want)
		}
	}
}
