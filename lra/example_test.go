package lra_test

import (
	"fmt"

	"github.com/elasticml/elastic/lra"
)

func ExampleEvalListOps() {
	toks, err := lra.ParseListOps("[MAX 2 9 [MIN 4 7 ] [SM 8 5 ] [MED 1 4 ] 0 ]")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := lra.EvalListOps(toks)
	fmt.Println(len(toks), v, err)
	// Output: 17 9 <nil>
}

func ExampleListOps() {
	cfg := lra.DefaultListOps(1)
	cfg.Sizes = [3]int{3, 1, 1}
	task, err := lra.ListOps(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range task.Train {
		v, _ := lra.EvalListOps(e.Tokens)
		fmt.Println(len(e.Tokens) > 500 && len(e.Tokens) < 2000, v == int(e.Label))
	}
	// Output:
	// true true
	// true true
	// true true
}
