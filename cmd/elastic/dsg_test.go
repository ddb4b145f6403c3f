package main

import "testing"

func TestDSGBadInput(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"dsg", "train", "--sparsity", "0.8"}, "DSG selection lands with issue 12's runtime"},
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
