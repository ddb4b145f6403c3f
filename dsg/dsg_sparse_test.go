package dsg

import (
	"context"
	"testing"
)

func TestDSGTrainsSynthetic(t *testing.T) {
	dir := synthetic(t, 512, 200)
	for _, a := range []Arch{MLP, LeNet} {
		r, err := Train(context.Background(), Config{Arch: a, Epochs: 3, Batch: 32, Seed: 1, DataDir: dir, Threads: 2, Sparsity: 0.7})
		if err != nil {
			t.Fatal(err)
		}
		if r.TestAccuracy < 0.9 || len(r.Epochs) != 3 {
			t.Errorf("%s: test accuracy %.3f after %d epochs, want ≥ 0.9 after 3", a, r.TestAccuracy, len(r.Epochs))
		}
		t.Logf("%s γ=0.7: %+v", a, r.Epochs)
	}
}
