package main

import "testing"

func TestDSGBadInput(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"dsg", "train", "--sparsity", "0.8", "--eps", "1"}, "--eps 1: want in (0, 1)"},
		{[]string{"dsg", "train", "--sparsity", "0.8", "--select", "all"}, "want first or per-sample"},
		{[]string{"dsg", "train", "--sparsity", "0.8", "--select", "batch"}, "batch needs channel granularity"},
		{[]string{"dsg", "train", "--sparsity", "0.8", "--mask", "block"}, "want element or channel"},
		{[]string{"dsg", "train", "--sparsity", "0.8", "--bn", "triple"}, "want double, single or none"},
		{[]string{"dsg", "train", "--sparsity", "0.8", "--strategy", "magic"}, "want drs, oracle or random"},
		{[]string{"dsg", "eval", "--sparsity", "1"}, "--sparsity 1: want in [0, 1)"},
		{[]string{"dsg", "eval", "--sparsity", "0.5", "--select", "all"}, "want first or per-sample"},
		{[]string{"dsg", "train", "--sparsity", "1.5"}, "--sparsity 1.5: want in [0, 1)"},
		{[]string{"dsg", "train", "--model", "resnet"}, "--model"},
		{[]string{"dsg", "train", "--batch", "1"}, "BatchNorm"},
		{[]string{"dsg", "train", "--max-minutes", "-1"}, "--max-minutes -1: want > 0"},
		{[]string{"dsg", "train", "--optimizer", "lbfgs"}, "want sgd or adam"},
		{[]string{"dsg", "train", "--out", ""}, "empty path"},
		{[]string{"dsg", "train", "--data", t.TempDir()}, "dataset-fashion-mnist"},
		{[]string{"dsg", "eval", "--model", t.TempDir() + "/none.safetensors"}, "no such file"},
		{[]string{"dsg", "eval", "--threads", "-2"}, "threads"},
		{[]string{"dsg", "train", "--sparsity", "0.8", "--mask", "channel", "--search-fraction", "0"}, "--search-fraction 0: want in (0, 1]"},
		{[]string{"bench", "dsg", "--model", "resnet"}, "--model"},
		{[]string{"bench", "dsg", "--batch", "1", "--synthetic"}, "BatchNorm needs at least 2"},
		{[]string{"bench", "dsg", "--sparsities", "0.5,1", "--synthetic"}, "want in [0, 1)"},
		{[]string{"bench", "dsg", "--mask", "element", "--synthetic"}, "batch needs channel granularity"},
		{[]string{"bench", "dsg", "--data", t.TempDir()}, "dataset-fashion-mnist"},
		{[]string{"dsg", "plot-bench"}, "requires at least 1 arg"},
		{[]string{"dsg", "plot-bench", t.TempDir() + "/none.json"}, "no such file"},
	})
}
