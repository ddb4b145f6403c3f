package dmi

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
)

// int8Signs returns sp with its packed signs unpacked to the INT8 layout
// that inputs wider than maxPackedCols use.
func int8Signs(sp signProj) signProj {
	if sp.packed == nil {
		return sp
	}
	k, stride := len(sp.scales), (sp.d+1)/2
	sp.signs = make([]int8, k*sp.d)
	for i := range k {
		quant.UnpackInt4(sp.signs[i*sp.d:(i+1)*sp.d], sp.packed[i*stride:(i+1)*stride])
	}
	sp.packed = nil
	return sp
}

func testProjection(t testing.TB, k, d int) (*kernels.Ternary, []float32) {
	t.Helper()
	p, err := rproj.New(k, d, rproj.DefaultSparsity, 7)
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

// signProj must compute P·x_Q: equal to the exact P·x within the input
// quantization error, which per output is at most scale·(nonzeros)·s/2,
// with packed and with INT8 signs, which give the same integer sums.
func TestSignProjMatchesTernary(t *testing.T) {
	for _, tc := range []struct {
		threads, d int
		int8       bool
	}{{0, 1500, false}, {2, 1500, false}, {0, 1501, false}, {2, 1500, true}, {0, maxPackedCols + 1, false}} {
		tern, x := testProjection(t, 417, tc.d)
		var pool *kernels.Pool
		if tc.threads > 0 {
			pool = kernels.NewPool(tc.threads)
			defer pool.Close()
		}
		sp := newSignProj(tern)
		if (sp.packed != nil) != (tc.d <= maxPackedCols) {
			t.Fatalf("d=%d: packed=%v", tc.d, sp.packed != nil)
		}
		if tc.int8 {
			sp = int8Signs(sp)
		}
		got := make([]float32, tern.Rows)
		want := make([]float32, tern.Rows)
		sp.apply(pool, got, x)
		if sp.packed != nil {
			other := make([]float32, tern.Rows)
			s8 := int8Signs(sp)
			s8.apply(nil, other, x)
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
			if d := math.Abs(float64(got[i] - want[i])); d > bound {
				t.Fatalf("%+v row %d: %g vs exact %g (|diff| %g > bound %g)", tc, i, got[i], want[i], d, bound)
			}
		}
	}
}

// BenchmarkProjection compares the ways of applying the little module's
// projection at the LSTM-1500 shape (k=417, d=1500): the index-list gather
// of kernels.Ternary and the integer GEMVs over packed INT4 signs, which
// dmi uses, and over INT8 signs.
func BenchmarkProjection(b *testing.B) {
	tern, x := testProjection(b, 417, 1500)
	z := make([]float32, tern.Rows)
	b.Run("ternary-gather", func(b *testing.B) {
		for b.Loop() {
			tern.Apply(z, x)
		}
	})
	sp := newSignProj(tern)
	b.Run("int4-signs", func(b *testing.B) {
		for b.Loop() {
			sp.apply(nil, z, x)
		}
	})
	s8 := int8Signs(sp)
	b.Run("int8-signs", func(b *testing.B) {
		for b.Loop() {
			s8.apply(nil, z, x)
		}
	})
}
