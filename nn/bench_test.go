package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

// BenchmarkLSTM times forward plus backward of one LSTM layer over a BPTT
// window of the word_language_model recipe (35 steps, batch 20).
func BenchmarkLSTM(b *testing.B) {
	for _, hidden := range []int{200, 650} {
		b.Run(fmt.Sprint(hidden), func(b *testing.B) {
			const steps, batch = 35, 20
			rng := rand.New(rand.NewPCG(1, 2))
			p := kernels.NewPool(0)
			defer p.Close()
			l := NewLSTM(hidden, hidden, 0, rng)
			l.Pool = p
			x := randVec(rng, steps*batch*hidden, 1)
			dy := randVec(rng, steps*batch*hidden, 1)
			dx := make([]float32, len(x))
			h, c := make([]float32, batch*hidden), make([]float32, batch*hidden)
			b.ReportAllocs()
			for b.Loop() {
				l.Forward(x, steps, batch, h, c)
				l.Backward(dx, dy)
			}
			b.ReportMetric(float64(steps*batch*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkCrossEntropy times the loss and gradient of a BPTT window over
// a vocabulary of 8k words.
func BenchmarkCrossEntropy(b *testing.B) {
	const n, classes = 700, 8323
	rng := rand.New(rand.NewPCG(3, 4))
	p := kernels.NewPool(0)
	defer p.Close()
	logits := randVec(rng, n*classes, 5)
	grad := make([]float32, len(logits))
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(rng.IntN(classes))
	}
	for b.Loop() {
		CrossEntropy(p, grad, logits, targets, classes)
	}
}
