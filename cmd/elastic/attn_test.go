package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAttnHelp(t *testing.T) {
	for _, sub := range []string{"train", "eval"} {
		var out, errOut bytes.Buffer
		if err := run([]string{"attn", sub, "--help"}, &out, &errOut); err != nil {
			t.Fatal(err)
		}
		golden(t, "attn-"+sub+"-help.golden", out.String())
	}
}

// tinyAttn is a ListOps run of a few steps on short expressions.
func tinyAttn(out string, extra ...string) []string {
	return append([]string{"attn", "train", "--task", "listops", "--layers", "1", "--heads", "2", "--dim", "8",
		"--ffn", "16", "--hidden", "8", "--length", "30", "--min-length", "5", "--examples", "64,16,16",
		"--steps", "8", "--batch", "8", "--valid-every", "4", "--warmup", "2", "--threads", "1", "--out", out}, extra...)
}

func TestAttnTrainEvalResume(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	var so, se bytes.Buffer
	if err := run(tinyAttn(out, "--json"), &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	var res struct {
		Steps  int
		Rounds []struct{ Valid float64 }
	}
	if err := json.Unmarshal(so.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, so.String())
	}
	if res.Steps != 8 || len(res.Rounds) != 2 {
		t.Errorf("JSON result %s: want 8 steps in 2 rounds", so.String())
	}
	if !strings.Contains(se.String(), "round 2/2") {
		t.Errorf("no progress lines on stderr: %q", se.String())
	}
	for _, f := range []string{out, filepath.Join(dir, "m.best.safetensors")} {
		so.Reset()
		if err := run([]string{"attn", "eval", "--model", f, "--threads", "1"}, &so, &se); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(so.String(), "listops on test (16 examples): accuracy ") {
			t.Errorf("eval printed %q", so.String())
		}
	}
	// Table 7.1's oracle evaluation of the dense checkpoint: the JSON
	// reports the realised sparsity, which top-2 of expressions of at
	// least 5 tokens puts above one half.
	so.Reset()
	if err := run([]string{"attn", "eval", "--model", out, "--threads", "1", "--dsa-mode", "oracle", "--top-k", "2", "--json"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Accuracy float64
		Sparse   *struct {
			Mode     string
			Sparsity float64
			Kept     int64
			Total    int64
		}
	}
	if err := json.Unmarshal(so.Bytes(), &ev); err != nil || ev.Sparse == nil || ev.Sparse.Mode != "oracle" || ev.Sparse.Sparsity <= 0.5 || ev.Sparse.Kept >= ev.Sparse.Total {
		t.Errorf("oracle eval: %s (%v)", so.String(), err)
	}
	so.Reset()
	if err := run([]string{"attn", "eval", "--model", out, "--threads", "1", "--dsa-mode", "predicted", "--sparsity", "0.5", "--block", "4", "--bits", "8"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(so.String(), "dynamic sparse attention (predicted, block 4): sparsity ") {
		t.Errorf("predicted eval printed %q", so.String())
	}
	// Model adaptation: fine-tune the dense checkpoint with predicted DSA
	// and the joint loss; the result evaluates with its own masks.
	tuned := filepath.Join(dir, "dsa.safetensors")
	if err := run(append(tinyAttn(tuned, "--init", out, "--dsa-mode", "predicted", "--keep", "0.3", "--sigma", "0.5", "--lambda", "1"), "--steps", "4"), &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	so.Reset()
	if err := run([]string{"attn", "eval", "--model", tuned, "--threads", "1"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(so.String(), "dynamic sparse attention (predicted, block 1): sparsity ") {
		t.Errorf("eval of the DSA model printed %q", so.String())
	}
	if err := run([]string{"attn", "eval", "--model", tuned, "--threads", "1", "--dsa-mode", "oracle", "--top-k", "2"}, &so, &se); err == nil || !strings.Contains(err.Error(), "scored with its own") {
		t.Errorf("eval of the DSA model with other masks: %v", err)
	}
	// Extending a finished run by --steps continues from its checkpoint.
	so.Reset()
	if err := run([]string{"attn", "train", "--resume", "--out", out, "--steps", "12", "--threads", "1", "--json"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(so.Bytes(), &res); err != nil || res.Steps != 12 || len(res.Rounds) != 1 {
		t.Errorf("resumed: %s (%v), want 12 steps and one new round", so.String(), err)
	}
}

func TestAttnBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.safetensors")
	if err := os.WriteFile(garbage, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkCLIErrors(t, []cliError{
		{[]string{"attn", "train"}, "--task is required"},
		{[]string{"attn", "train", "--task", "sudoku"}, "--task sudoku: want one of listops, text, retrieval, image"},
		{[]string{"attn", "train", "--task", "text", "--kjv", filepath.Join(dir, "none.data"), "--out", filepath.Join(dir, "o")}, "install the Debian package bible-kjv-text"},
		{[]string{"attn", "train", "--task", "image", "--fmnist", dir, "--out", filepath.Join(dir, "o")}, "install the Debian package dataset-fashion-mnist"},
		{[]string{"attn", "train", "--task", "image", "--length", "1024"}, "784"},
		{[]string{"attn", "train", "--task", "text", "--heads", "3"}, "3 heads do not divide width 64"},
		{[]string{"attn", "train", "--task", "text", "--dropout", "1"}, "--dropout 1: want in [0, 1)"},
		{[]string{"attn", "train", "--task", "text", "--lr", "0"}, "--lr 0"},
		{[]string{"attn", "train", "--task", "listops", "--examples", "1,2"}, "--examples: want three counts"},
		{[]string{"attn", "train", "--task", "listops", "--steps", "5", "--epochs", "1"}, "give one"},
		{[]string{"attn", "train", "--resume", "--out", filepath.Join(dir, "none")}, "--resume: no checkpoint"},
		{[]string{"attn", "train", "--resume", "--layers", "3", "--out", garbage}, "--layers: the checkpoint at --out fixes it"},
		{[]string{"attn", "train", "--resume", "--out", garbage}, "garbage"},
		{[]string{"attn", "eval", "--model", garbage}, "garbage"},
		{[]string{"attn", "eval", "--model", filepath.Join(dir, "none")}, "none"},
		{[]string{"attn", "eval", "--split", "dev"}, "--split dev"},
		{[]string{"attn", "eval", "--threads", "0"}, "--threads 0"},
		{[]string{"attn", "eval", "--keep", "0.1"}, "--keep needs --dsa-mode"},
		{[]string{"attn", "train", "--task", "listops", "--lambda", "1"}, "--lambda needs --dsa-mode"},
		{[]string{"attn", "train", "--task", "listops", "--dsa-mode", "oracle", "--top-k", "2", "--lambda", "1"}, "predicted only"},
		{[]string{"attn", "train", "--task", "listops", "--dsa-mode", "predicted", "--top-k", "2", "--lambda", "-1"}, "--lambda -1"},
		{[]string{"attn", "train", "--resume", "--dsa-mode", "oracle", "--out", garbage}, "--dsa-mode: the checkpoint at --out fixes it"},
		{[]string{"attn", "train", "--task", "listops", "--init", filepath.Join(dir, "none"), "--out", filepath.Join(dir, "o")}, "none"},
		{[]string{"attn", "train", "--resume", "--init", garbage, "--out", garbage}, "garbage"},
		{[]string{"attn", "eval", "--dsa-mode", "sparse"}, "--dsa-mode sparse: want one of oracle, predicted"},
		{[]string{"attn", "eval", "--dsa-mode", "oracle"}, "exactly one of --keep, --sparsity, --top-k and --threshold"},
		{[]string{"attn", "eval", "--dsa-mode", "oracle", "--keep", "0.1", "--top-k", "3"}, "exactly one of"},
		{[]string{"attn", "eval", "--dsa-mode", "oracle", "--keep", "0"}, "--keep 0: want in (0, 1]"},
		{[]string{"attn", "eval", "--dsa-mode", "oracle", "--sparsity", "1"}, "--sparsity 1: want in [0, 1)"},
		{[]string{"attn", "eval", "--dsa-mode", "oracle", "--top-k", "0"}, "--top-k 0"},
		{[]string{"attn", "eval", "--dsa-mode", "oracle", "--top-k", "2", "--block", "2"}, "--block 2"},
		{[]string{"attn", "eval", "--dsa-mode", "oracle", "--top-k", "2", "--sigma", "0.5"}, "predicted only"},
		{[]string{"attn", "eval", "--dsa-mode", "predicted", "--top-k", "2", "--sigma", "1.5"}, "--sigma 1.5"},
		{[]string{"attn", "eval", "--dsa-mode", "predicted", "--threshold", "0.01"}, "oracle mode only"},
	})
}
