package dmi

import (
	"fmt"
	"testing"

	"github.com/elasticml/elastic/sel"
)

// BenchmarkSelectGate is the top-K selection of one LSTM-1500 gate in a
// dual-module step.
func BenchmarkSelectGate(b *testing.B) {
	const n = 1500
	v := testInputs(n, 1, 9)
	dst := make([]int32, n)
	for _, act := range []sel.Activation{sel.Sigmoid, sel.ReLU} {
		g := newGateSelectors([]sel.Activation{act})
		for _, r := range []float64{0.5, 0.9} {
			if err := g.set(Selection{Mode: TopK, Ratio: r}, nil); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%v/ratio=%.1f", act, r), func(b *testing.B) {
				for b.Loop() {
					g.selectGate(0, dst, v, 0)
				}
			})
		}
	}
}
