package dmi

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/rproj"
)

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
// quantization error, which per output is at most scale·(nonzeros)·s/2.
func TestSignProjMatchesTernary(t *testing.T) {
	for _, threads := range []int{0, 2} {
		tern, x := testProjection(t, 417, 1500)
		var pool *kernels.Pool
		if threads > 0 {
			pool = kernels.NewPool(threads)
			defer pool.Close()
		}
		sp := newSignProj(tern)
		got := make([]float32, tern.Rows)
		want := make([]float32, tern.Rows)
		sp.apply(pool, got, x)
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
				t.Fatalf("threads=%d row %d: %g vs exact %g (|diff| %g > bound %g)", threads, i, got[i], want[i], d, bound)
			}
		}
	}
}

// BenchmarkProjection compares the two ways of applying the little
// module's projection at the LSTM-1500 shape (k=417, d=1500): the index-list
// gather of kernels.Ternary and the INT8 GEMV over signs that dmi uses.
func BenchmarkProjection(b *testing.B) {
	tern, x := testProjection(b, 417, 1500)
	z := make([]float32, tern.Rows)
	b.Run("ternary-gather", func(b *testing.B) {
		for b.Loop() {
			tern.Apply(z, x)
		}
	})
	sp := newSignProj(tern)
	b.Run("int8-signs", func(b *testing.B) {
		for b.Loop() {
			sp.apply(nil, z, x)
		}
	})
}
