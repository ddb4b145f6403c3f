package screen

import (
	"testing"

	"github.com/elasticml/elastic/kernels"
)

// benchFixture is a 20000×256 classifier, screened at the defaults.
func benchFixture(b *testing.B) (*fixture, []float32) {
	f := newFixture(b, 20000, 256, Options{NoBound: true})
	hs, _ := f.model.Sample(64, 5)
	return f, hs
}

func BenchmarkFull(b *testing.B) {
	f, hs := benchFixture(b)
	z := make([]float32, 20000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.c.Full(z, hs[(i%64)*256:(i%64+1)*256])
	}
}

func BenchmarkForward(b *testing.B) {
	f, hs := benchFixture(b)
	z := make([]float32, 20000)
	if err := f.c.SetSelection(Selection{Mode: TopM, M: 32}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := f.c.Forward(z, hs[(i%64)*256:(i%64+1)*256]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchExact compares the two ways of computing a batch's exact
// logits over the union of candidates: gathering the rows and one GEMM
// (what ForwardBatch does) or a row-gather GEMV per vector.
func BenchmarkBatchExact(b *testing.B) {
	f, hs := benchFixture(b)
	pool := kernels.NewPool(0)
	defer pool.Close()
	f.c.SetPool(pool)
	if err := f.c.SetSelection(Selection{Mode: TopM, M: 64}); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{4, 16} {
		z := make([]float32, n*20000)
		union := append([]int32(nil), f.c.union(z, hs[:n*256], n)...)
		b.Run("gemm/n="+itoa(n), func(b *testing.B) {
			for b.Loop() {
				f.c.gatherGemm(z, hs[:n*256], n, union)
			}
		})
		b.Run("gemv/n="+itoa(n), func(b *testing.B) {
			for b.Loop() {
				f.c.gatherGemv(z, hs[:n*256], n, union)
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
