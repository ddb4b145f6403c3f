package clsmetrics

import "testing"

func BenchmarkTopKIndices(b *testing.B) {
	x := normals(268_000, 1)
	work := make([]int32, len(x))
	for b.Loop() {
		TopKIndices(x, 5, work)
	}
}

func BenchmarkNLL(b *testing.B) {
	x := normals(268_000, 1)
	for b.Loop() {
		if _, err := NLL(x, 3); err != nil {
			b.Fatal(err)
		}
	}
}
