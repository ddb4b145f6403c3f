package wordnet

import (
	"math/rand/v2"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

func benchMatrices(classes, d, n int) (w, h, z []float32) {
	rng := rand.New(rand.NewPCG(1, 2))
	w = make([]float32, classes*d)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	h = make([]float32, n*d)
	for i := range h {
		h[i] = float32(rng.NormFloat64())
	}
	return w, h, make([]float32, n*classes)
}

// The full classifier's logits for a batch, as Z = H·Wᵀ and as Zᵀ = W·Hᵀ.
func BenchmarkLogitsHWt(b *testing.B) {
	const classes, d, n = NumSynsets, 256, 64
	w, h, z := benchMatrices(classes, d, n)
	p := kernels.NewPool(0)
	defer p.Close()
	b.SetBytes(int64(4 * classes * d))
	for b.Loop() {
		p.Gemm(false, true, n, classes, d, 1, h, d, w, d, 0, z, classes)
	}
}

func BenchmarkLogitsWHt(b *testing.B) {
	const classes, d, n = NumSynsets, 256, 64
	w, h, z := benchMatrices(classes, d, n)
	p := kernels.NewPool(0)
	defer p.Close()
	b.SetBytes(int64(4 * classes * d))
	for b.Loop() {
		p.Gemm(false, true, classes, n, d, 1, w, d, h, d, 0, z, n)
	}
}

// One sampled-softmax step of the full-size recipe: batch 256, d = 256,
// 4096 negatives over 117,659 classes.
func BenchmarkSampledSoftmax(b *testing.B) {
	const classes, d, n, neg = NumSynsets, 256, 256, 4096
	w, h, _ := benchMatrices(classes, d, n)
	bias := make([]float32, classes)
	p := kernels.NewPool(0)
	defer p.Close()
	s := nn.NewSampler(classes, 1)
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(i * 401)
	}
	var ss nn.SampledSoftmax
	dh := make([]float32, n*d)
	for b.Loop() {
		cand, logQ, pos := s.Candidates(targets, neg)
		ss.Loss(p, h, n, d, w, bias, cand, logQ, pos, dh)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
