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
	})
}
