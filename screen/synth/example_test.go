package synth_test

import (
	"fmt"

	"github.com/elasticml/elastic/screen/synth"
)

func Example() {
	m, err := synth.New(synth.Default(10000, 64))
	if err != nil {
		panic(err)
	}
	hs, labels := m.Sample(3, 1)
	fmt.Println(len(m.W), len(m.B), len(hs), len(labels))
	fmt.Printf("%.1f MiB; the most frequent class has the largest bias: %v\n", float64(m.Bytes())/(1<<20), m.B[0] > m.B[9999])
	// Output:
	// 640000 10000 192 3
	// 2.5 MiB; the most frequent class has the largest bias: true
}
