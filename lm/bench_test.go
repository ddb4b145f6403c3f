package lm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

// BenchmarkTrainStep times one SGD step of the recipe (35×20 tokens,
// forward, backward, clip, update) for the thesis's medium and large
// two-layer LSTMs over an 8k vocabulary.
func BenchmarkTrainStep(b *testing.B) {
	for _, hidden := range []int{200, 650} {
		b.Run(fmt.Sprint(hidden), func(b *testing.B) {
			const vocab, steps, batch = 8323, 35, 20
			m, err := New(Config{Cell: nn.LSTMCell, Vocab: vocab, Hidden: hidden, Layers: 2, Dropout: 0.5}, 1)
			if err != nil {
				b.Fatal(err)
			}
			p := kernels.NewPool(0)
			defer p.Close()
			m.SetPool(p)
			rng := rand.New(rand.NewPCG(1, 2))
			tokens := make([]int32, (steps+1)*batch)
			for i := range tokens {
				tokens[i] = int32(rng.IntN(vocab))
			}
			in, tgt := tokens[:steps*batch], tokens[batch:]
			st := m.NewState(batch)
			params := m.Params()
			for b.Loop() {
				nn.ZeroGrad(params)
				m.Loss(in, tgt, steps, batch, st, true, true)
				m.Backward()
				nn.ClipGradNorm(params, 0.25)
				nn.SGD(params, 1)
			}
			b.ReportMetric(float64(steps*batch*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
