package rproj

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
)

// int8Signs returns a copy of sp with its packed signs unpacked to the
// INT8 layout that inputs wider than MaxPackedCols use.
func int8Signs(orig *Signs) *Signs {
	sp := *orig
	sp.xq = make([]int8, sp.d)
	if sp.packed == nil {
		return &sp
	}
	k, stride := len(sp.scales), (sp.d+1)/2
	sp.signs = make([]int8, k*sp.d)
	for i := range k {
		quant.UnpackInt4(sp.signs[i*sp.d:(i+1)*sp.d], sp.packed[i*stride:(i+1)*stride])
	}
	sp.packed = nil
	return &sp
}

func testProjection(t testing.TB, k, d int) (*kernels.Ternary, []float32) {
	t.Helper()
	p, err := New(k, d, DefaultSparsity, 7)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return p.Ternary(), x
}

// Signs must compute P·x_Q: equal to the exact P·x within the input
// quantization error, which per output is at most scale·(nonzeros)·s/2,
// with packed and with INT8 signs, which give the same integer sums.
func TestSignsMatchTernary(t *testing.T) {
	for _, tc := range []struct {
		threads, d int
		int8       bool
	}{{0, 1500, false}, {2, 1500, false}, {0, 1501, false}, {2, 1500, true}, {0, MaxPackedCols + 1, false}} {
		tern, x := testProjection(t, 417, tc.d)
		var pool *kernels.Pool
		if tc.threads > 0 {
			pool = kernels.NewPool(tc.threads)
			defer pool.Close()
		}
		sp := NewSigns(tern, tern.Scale)
		if (sp.packed != nil) != (tc.d <= MaxPackedCols) {
			t.Fatalf("d=%d: packed=%v", tc.d, sp.packed != nil)
		}
		if tc.int8 {
			sp = int8Signs(sp)
		}
		got := make([]float32, tern.Rows)
		want := make([]float32, tern.Rows)
		sp.Apply(pool, got, x)
		if sp.packed != nil {
			other := make([]float32, tern.Rows)
			s8 := int8Signs(sp)
			s8.Apply(nil, other, x)
			for i := range got {
				if got[i] != other[i] {
					t.Fatalf("d=%d row %d: packed signs give %g, INT8 signs %g", tc.d, i, got[i], other[i])
				}
			}
		}
		tern.Apply(want, x)
		var amax float64
		for _, v := range x {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		step := amax / 127
		for i := range want {
			nnz := float64(tern.PlusPtr[i+1] - tern.PlusPtr[i] + tern.MinusPtr[i+1] - tern.MinusPtr[i])
			bound := float64(tern.Scale)*nnz*step/2 + 1e-4
			d := math.Abs(float64(got[i] - want[i]))
			if d > bound {
				t.Fatalf("%+v row %d: %g vs exact %g (|diff| %g > bound %g)", tc, i, got[i], want[i], d, bound)
			}
			// Err is the bound the certified screener relies on: it
			// must hold up to float32 rounding of the two sums.
			if e := float64(sp.Err()); d > e+1e-5*math.Abs(float64(want[i]))+1e-6 {
				t.Fatalf("%+v row %d: |diff| %g > Err %g", tc, i, d, e)
			}
		}
	}
}

// BenchmarkSigns compares the ways of applying a projection on one
// thread: the index-list gather of kernels.Ternary and the integer GEMVs
// over packed INT4 signs, which dmi and screen use, and over INT8 signs,
// at an LSTM-1500 little module's shape (k=417, d=1500) and the demo
// screener's (k=256, d=512).
func BenchmarkSigns(b *testing.B) {
	for _, sh := range [][2]int{{417, 1500}, {256, 512}} {
		tern, x := testProjection(b, sh[0], sh[1])
		z := make([]float32, tern.Rows)
		name := fmt.Sprintf("%dx%d/", sh[0], sh[1])
		b.Run(name+"ternary-gather", func(b *testing.B) {
			for b.Loop() {
				tern.Apply(z, x)
			}
		})
		sp := NewSigns(tern, tern.Scale)
		b.Run(name+"int4-signs", func(b *testing.B) {
			for b.Loop() {
				sp.Apply(nil, z, x)
			}
		})
		s8 := int8Signs(sp)
		b.Run(name+"int8-signs", func(b *testing.B) {
			for b.Loop() {
				s8.Apply(nil, z, x)
			}
		})
	}
}
