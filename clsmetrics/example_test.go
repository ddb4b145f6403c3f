package clsmetrics_test

import (
	"fmt"

	"github.com/elasticml/elastic/clsmetrics"
)

func Example() {
	// Reference top-1 and top-3 of a full classifier on three inputs, and
	// what an approximate method returned.
	ref1 := []int32{4, 7, 1}
	ref3 := [][]int32{{4, 2, 9}, {7, 1, 0}, {1, 3, 5}}
	pred3 := [][]int32{{4, 9, 8}, {1, 7, 0}, {1, 3, 5}}
	pred1 := []int32{pred3[0][0], pred3[1][0], pred3[2][0]}
	fmt.Printf("top-1 agreement %.3f\n", clsmetrics.Agreement(pred1, ref1))
	fmt.Printf("top-3 recall %.3f\n", clsmetrics.TopKRecall(pred3, ref3))
	fmt.Printf("top-1 in candidates %.3f\n", clsmetrics.RecallAtK(pred3, ref1))
	fmt.Println(clsmetrics.TopKIndices([]float32{0.5, 2, -1, 2}, 2, nil))
	// Output:
	// top-1 agreement 0.667
	// top-3 recall 0.889
	// top-1 in candidates 1.000
	// [1 3]
}
