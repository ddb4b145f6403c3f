package hnsw

import (
	"fmt"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

func BenchmarkBuild(b *testing.B) {
	const rows, cols = 5000, 64
	w, bias := classifier(rows, cols, 1)
	p := kernels.NewPool(2)
	defer p.Close()
	for b.Loop() {
		if _, err := Build(p, w, bias, rows, cols, Config{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	const rows, cols = 20_000, 64
	w, bias := classifier(rows, cols, 1)
	p := kernels.NewPool(2)
	defer p.Close()
	x, err := Build(p, w, bias, rows, cols, Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	h := normals(cols, 2)
	s := x.Searcher()
	for _, ef := range []int{10, 100} {
		b.Run(fmt.Sprintf("ef=%d", ef), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.Search(h, 5, ef); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
