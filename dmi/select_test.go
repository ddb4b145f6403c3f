package dmi

import (
	"fmt"
	"testing"

	"github.com/elasticml/elastic/sel"
)

// BenchmarkTopKSelect compares the radix top-K of a dual-module step with
// sel.TopK on one LSTM-1500 gate.
func BenchmarkTopKSelect(b *testing.B) {
	const n = 1500
	v := testInputs(n, 1, 9)
	dst := make([]int32, n)
	keys, cand := make([]uint32, n), make([]uint32, n)
	for _, r := range []float64{0.5, 0.9} {
		t, err := sel.NewTopK(sel.Sigmoid, r)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("radix/ratio=%.1f", r), func(b *testing.B) {
			for b.Loop() {
				topKSelect(dst, v, t.K(n), sel.Sigmoid, 0, keys, cand)
			}
		})
		b.Run(fmt.Sprintf("sel/ratio=%.1f", r), func(b *testing.B) {
			for b.Loop() {
				t.Select(dst, v)
			}
		})
	}
}
