package svdsoftmax

import (
	"fmt"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

func BenchmarkQuery(b *testing.B) {
	const rows, cols = 100_000, 128
	w := normals(rows*cols, 1)
	m, err := New(nil, w, nil, rows, cols)
	if err != nil {
		b.Fatal(err)
	}
	h := normals(cols, 2)
	p := kernels.NewPool(2)
	defer p.Close()
	for _, tc := range []struct{ window, n int }{{8, 64}, {32, 256}} {
		b.Run(fmt.Sprintf("window=%d/n=%d", tc.window, tc.n), func(b *testing.B) {
			s := m.Searcher(tc.window, p)
			for b.Loop() {
				if _, err := s.TopK(h, tc.n, 5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	const rows, cols = 20_000, 128
	w := normals(rows*cols, 1)
	p := kernels.NewPool(2)
	defer p.Close()
	for b.Loop() {
		if _, err := New(p, w, nil, rows, cols); err != nil {
			b.Fatal(err)
		}
	}
}
