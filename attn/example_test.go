package attn_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/elasticml/elastic/attn"
)

// A tiny ListOps model: train a few steps to a checkpoint, then score the
// checkpoint on the test split, which Evaluate rebuilds from the
// configuration the file holds.
func Example() {
	dir, err := os.MkdirTemp("", "attn")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	c := attn.Config{Task: "listops", Layers: 1, Heads: 2, Dim: 16, FFN: 32, Hidden: 16,
		Length: 40, MinLength: 5, Examples: [3]int{64, 16, 16}, Steps: 8, Batch: 8, ValidEvery: 4, Threads: 1}
	c.Out = filepath.Join(dir, "listops.safetensors")
	res, err := attn.Train(context.Background(), c)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := attn.Evaluate(c.Out, attn.EvalOptions{Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Steps, "steps in", len(res.Rounds), "rounds")
	fmt.Println(e.Split, e.Examples, "examples, accuracy in [0, 1]:", e.Accuracy >= 0 && e.Accuracy <= 1)
	// Output:
	// 8 steps in 2 rounds
	// test 16 examples, accuracy in [0, 1]: true
}
