package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randSigns returns rows*cols signs with P(±1) = 1/(2s) each, as in a
// sparse random projection.
func randSigns(rows, cols int, s float64, seed uint64) []int8 {
	r := rand.New(rand.NewPCG(seed, 0x7e27))
	signs := make([]int8, rows*cols)
	for i := range signs {
		switch u := r.Float64(); {
		case u < 1/(2*s):
			signs[i] = 1
		case u < 1/s:
			signs[i] = -1
		}
	}
	return signs
}

// ternaryRef computes y = scale·S·x in float64, with a bound on the float32
// rounding error of the kernel: the sum of |terms| times a few ulps per
// addition.
func ternaryRef(rows, cols int, scale float32, signs []int8, x []float32) (y, tol []float64) {
	y = make([]float64, rows)
	tol = make([]float64, rows)
	for i := range rows {
		var s, abs float64
		for j := range cols {
			v := float64(signs[i*cols+j]) * float64(x[j])
			s += v
			abs += math.Abs(v)
		}
		y[i] = float64(scale) * s
		tol[i] = math.Abs(float64(scale))*abs*float64(cols+2)*0x1p-23 + 1e-30
	}
	return y, tol
}

func TestTernaryLayout(t *testing.T) {
	signs := []int8{
		1, 0, -1, 1,
		0, 0, 0, 0,
		-1, -1, 1, 0,
	}
	tr := NewTernary(3, 4, 0.5, signs)
	want := Ternary{
		Rows: 3, Cols: 4, Scale: 0.5,
		PlusPtr:  []int32{0, 2, 2, 3},
		Plus:     []int32{0, 3, 2},
		MinusPtr: []int32{0, 1, 1, 3},
		Minus:    []int32{2, 0, 1},
	}
	if got := fmt.Sprint(*tr); got != fmt.Sprint(want) {
		t.Fatalf("layout:\n got %v\nwant %v", got, want)
	}
	y := make([]float32, 3)
	tr.Apply(y, []float32{1, 10, 100, 1000})
	if y[0] != 0.5*(1+1000-100) || y[1] != 0 || y[2] != 0.5*(100-1-10) {
		t.Fatalf("Apply = %v", y)
	}
}

func TestTernaryApply(t *testing.T) {
	for _, rows := range []int{0, 1, 3, 17, 64} {
		for _, cols := range oddLengths {
			for _, align := range alignments {
				seed := uint64(rows*100003 + cols*7 + align)
				signs := randSigns(rows, cols, 3, seed)
				scale := float32(math.Sqrt(3 / float64(max(rows, 1))))
				tr := NewTernary(rows, cols, scale, signs)
				x, checkX := guarded(cols, align, randFill(seed))
				y, checkY := guarded(rows, align, func(int) float32 { return float32(math.NaN()) })
				tr.Apply(y, x)
				name := fmt.Sprintf("rows=%d cols=%d align=%d", rows, cols, align)
				checkX(t, name+" x")
				checkY(t, name+" y")
				ref, tol := ternaryRef(rows, cols, scale, signs, x)
				for i := range rows {
					if d := math.Abs(float64(y[i]) - ref[i]); !(d <= tol[i]) {
						t.Fatalf("%s: y[%d] = %v, want %v (tol %g)", name, i, y[i], ref[i], tol[i])
					}
				}
			}
		}
	}
}

func TestTernaryApplyBatch(t *testing.T) {
	const rows, cols = 37, 129
	signs := randSigns(rows, cols, 3, 1)
	tr := NewTernary(rows, cols, 0.25, signs)
	for _, workers := range []int{1, 2, 3} {
		p := NewPool(workers)
		for _, n := range []int{0, 1, 2, 5, 11, 16} {
			for _, impl := range []struct {
				name  string
				apply func(Y, X []float32, n int)
			}{
				{"ApplyBatch", tr.ApplyBatch},
				{"Pool", func(Y, X []float32, n int) { p.TernaryApplyBatch(tr, Y, X, n) }},
			} {
				X, checkX := guarded(n*cols, 1, randFill(uint64(n)))
				Y, checkY := guarded(n*rows, 3, func(int) float32 { return float32(math.NaN()) })
				impl.apply(Y, X, n)
				name := fmt.Sprintf("%s workers=%d n=%d", impl.name, workers, n)
				checkX(t, name+" X")
				checkY(t, name+" Y")
				for s := range n {
					ref, tol := ternaryRef(rows, cols, tr.Scale, signs, X[s*cols:(s+1)*cols])
					for i := range rows {
						if d := math.Abs(float64(Y[s*rows+i]) - ref[i]); !(d <= tol[i]) {
							t.Fatalf("%s: Y[%d,%d] = %v, want %v", name, s, i, Y[s*rows+i], ref[i])
						}
					}
				}
			}
		}
		p.Close()
	}
}

func TestTernaryPanics(t *testing.T) {
	tr := NewTernary(2, 3, 1, make([]int8, 6))
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"bad sign", "sign 2 at row 1, col 0", func() { NewTernary(2, 3, 1, []int8{0, 0, 0, 2, 0, 0}) }},
		{"short signs", "len(signs)=5", func() { NewTernary(2, 3, 1, make([]int8, 5)) }},
		{"negative shape", "negative shape", func() { NewTernary(-1, 3, 1, nil) }},
		{"short x", "len(x)=2", func() { tr.Apply(make([]float32, 2), make([]float32, 2)) }},
		{"long y", "len(y)=3", func() { tr.Apply(make([]float32, 3), make([]float32, 3)) }},
		{"batch X", "n=2", func() { tr.ApplyBatch(make([]float32, 4), make([]float32, 5), 2) }},
		{"pool batch Y", "len(Y)=3", func() { NewPool(1).TernaryApplyBatch(tr, make([]float32, 3), make([]float32, 6), 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %q does not mention %q", msg, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func ExampleTernary_Apply() {
	// A 2×4 projection with scale 0.5: row 0 is +x0 −x2, row 1 is +x1 +x3 −x0.
	t := NewTernary(2, 4, 0.5, []int8{
		1, 0, -1, 0,
		-1, 1, 0, 1,
	})
	y := make([]float32, 2)
	t.Apply(y, []float32{1, 2, 3, 4})
	fmt.Println(y)
	// Output: [-1 2.5]
}

func BenchmarkTernaryApply(b *testing.B) {
	for _, sz := range []struct{ rows, cols int }{{256, 4096}, {512, 1500}} {
		b.Run(fmt.Sprintf("%dx%d", sz.rows, sz.cols), func(b *testing.B) {
			tr := NewTernary(sz.rows, sz.cols, 0.1, randSigns(sz.rows, sz.cols, 3, 1))
			x := make([]float32, sz.cols)
			fill := randFill(2)
			for i := range x {
				x[i] = fill(i)
			}
			y := make([]float32, sz.rows)
			b.SetBytes(int64(4 * (len(tr.Plus) + len(tr.Minus))))
			for b.Loop() {
				tr.Apply(y, x)
			}
		})
	}
}

func BenchmarkTernaryApplyBatch(b *testing.B) {
	const rows, cols, n = 256, 4096, 32
	tr := NewTernary(rows, cols, 0.1, randSigns(rows, cols, 3, 1))
	X := make([]float32, n*cols)
	fill := randFill(3)
	for i := range X {
		X[i] = fill(i)
	}
	Y := make([]float32, n*rows)
	for b.Loop() {
		tr.ApplyBatch(Y, X, n)
	}
}

func BenchmarkPoolTernaryApplyBatch(b *testing.B) {
	const rows, cols, n = 256, 4096, 32
	tr := NewTernary(rows, cols, 0.1, randSigns(rows, cols, 3, 1))
	X := make([]float32, n*cols)
	fill := randFill(3)
	for i := range X {
		X[i] = fill(i)
	}
	Y := make([]float32, n*rows)
	p := NewPool(0)
	defer p.Close()
	for b.Loop() {
		p.TernaryApplyBatch(tr, Y, X, n)
	}
}
