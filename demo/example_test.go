package demo_test

import (
	"fmt"
	"log"
	"math"

	"github.com/elasticml/elastic/demo"
)

// Run sweeps the insensitive ratio on the embedded model; at ratio 0 the
// dual-module layers compute every row exactly and match the dense model,
// and with every class a candidate so does the screened decoder.
func Example() {
	res, err := demo.Run(demo.Config{Tokens: 30, Ratios: []float64{0, 0.5}, M: 8323, ColdTokens: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Rows {
		fmt.Printf("ratio %.1f: measured insensitive ratio %.2f, elastic perplexity equals dense: %v\n",
			r.Ratio, r.Insensitive, math.Abs(r.PPL/r.DensePPL-1) < 1e-4)
	}
	// Output:
	// ratio 0.0: measured insensitive ratio 0.00, elastic perplexity equals dense: true
	// ratio 0.5: measured insensitive ratio 0.50, elastic perplexity equals dense: false
}
