package demo_test

import (
	"fmt"
	"log"
	"math"

	"github.com/elasticml/elastic/demo"
)

// Run sweeps the insensitive ratio on the embedded model; at ratio 0 the
// dual-module model computes every row exactly and matches the dense one.
func Example() {
	res, err := demo.Run(demo.Config{Tokens: 30, Ratios: []float64{0, 0.5}})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Rows {
		fmt.Printf("ratio %.1f: measured insensitive ratio %.2f, DMI perplexity equals dense: %v\n",
			r.Ratio, r.Insensitive, math.Abs(r.DMIPPL/r.DensePPL-1) < 1e-4)
	}
	// Output:
	// ratio 0.0: measured insensitive ratio 0.00, DMI perplexity equals dense: true
	// ratio 0.5: measured insensitive ratio 0.50, DMI perplexity equals dense: false
}
