package hnsw

import (
	"fmt"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/screen/synth"
)

// BenchmarkSynthBiasHubs is the diagnostic behind screening.md's account
// of HNSW's 0.70 plateau on the synthetic classifiers: it builds the graph
// on synth.Default(267744, 512) with the generator's Zipf bias on and off
// and reports, over 500 sampled queries, the top-1 agreement with the full
// classifier at ef = 64 and 256 and the mean class-index percentile
// (0 = most frequent) of the top-1s it misses. Each case builds a 268K-row
// graph (minutes); run it alone:
//
//	go test -run '^$' -bench SynthBiasHubs -benchtime 1x ./baseline/hnsw
func BenchmarkSynthBiasHubs(b *testing.B) {
	const l, d, queries = 267744, 512, 500
	for _, bias := range []float64{1, 0} {
		b.Run(fmt.Sprintf("bias=%g", bias), func(b *testing.B) {
			cfg := synth.Default(l, d)
			cfg.BiasScale = bias
			m, err := synth.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			p := kernels.NewPool(0)
			defer p.Close()
			hs, _ := m.Sample(queries, 7)
			y := make([]float32, l)
			best := make([]int, queries)
			for i := range best {
				p.Gemv(y, m.W, d, hs[i*d:(i+1)*d], m.B)
				for j := range y {
					if y[j] > y[best[i]] {
						best[i] = j
					}
				}
			}
			for b.Loop() {
				x, err := Build(p, m.W, m.B, l, d, Config{Seed: 1, M: 16, EfConstruction: 100})
				if err != nil {
					b.Fatal(err)
				}
				s := x.Searcher()
				for _, ef := range []int{64, 256} {
					hit, missed := 0, 0.0
					for i := range queries {
						ids, _, err := s.Search(hs[i*d:(i+1)*d], 1, ef)
						if err != nil {
							b.Fatal(err)
						}
						if int(ids[0]) == best[i] {
							hit++
						} else {
							missed += float64(best[i]) / l
						}
					}
					b.ReportMetric(float64(hit)/queries, fmt.Sprintf("agree@ef%d", ef))
					b.ReportMetric(missed/float64(max(queries-hit, 1)), fmt.Sprintf("miss-pct@ef%d", ef))
				}
			}
		})
	}
}
