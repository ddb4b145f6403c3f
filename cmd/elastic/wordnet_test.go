package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticml/elastic/wordnet"
)

// fakeWordNet writes a small WordNet directory: 40 noun synsets, each
// with its own word, a definition and three example sentences, plus one
// synset in each of the other files.
func fakeWordNet(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var noun strings.Builder
	noun.WriteString("  1 licence text\n")
	for i := range 40 {
		w := fmt.Sprintf("thing%c%c", 'a'+i%26, 'a'+i/26)
		fmt.Fprintf(&noun, "%08d 03 n 01 %s 0 000 | marker%d object; \"a %s with marker%d\"; \"the marker%d one\"; \"see marker%d here\"\n",
			1000+i, w, i, w, i, i, i)
	}
	files := map[string]string{
		"data.noun": noun.String(),
		"data.verb": "00000001 29 v 01 go 0 000 01 + 02 00 | move; \"go now\"\n",
		"data.adj":  "00000001 00 a 01 big 0 000 | large\n",
		"data.adv":  "00000001 02 r 01 fast 0 000 | quickly\n",
		"noun.exc":  "geese goose\n", "verb.exc": "went go\n", "adj.exc": "bigger big\n", "adv.exc": "better well\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWNTrainEval(t *testing.T) {
	data := fakeWordNet(t)
	out := filepath.Join(t.TempDir(), "wn.safetensors")
	var stdout, stderr bytes.Buffer
	err := run([]string{"wn", "train", "--data", data, "--dim", "8", "--epochs", "30", "--batch", "16",
		"--negatives", "5", "--lr", "0.2", "--out", out, "--json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("train: %v\n%s", err, stderr.String())
	}
	var tr wnTrainResult
	if err := json.Unmarshal(stdout.Bytes(), &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Epochs) != 30 || tr.Best == "" || tr.BestEpoch == 0 {
		t.Errorf("train result %+v", tr)
	}
	if !strings.Contains(stderr.String(), "epoch 30/30 done") {
		t.Errorf("no progress lines on stderr:\n%s", stderr.String())
	}
	stdout.Reset()
	if err := run([]string{"wn", "eval", "--data", data, "--model", out, "--split", "train", "--json"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var ev wnEvalResult
	if err := json.Unmarshal(stdout.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	// Every training sample names its class's marker word.
	if ev.Classes != 43 || ev.Top1 < 0.5 {
		t.Errorf("eval %+v: want 43 classes and top-1 ≥ 0.5 on the training split", ev)
	}

	// Another split seed gives another vocabulary order or split: refused.
	err = run([]string{"wn", "eval", "--data", data, "--model", out, "--split-seed", "2"}, &stdout, &stderr)
	if !errors.Is(err, wordnet.ErrMismatch) {
		t.Errorf("eval with another split seed: err %v, want ErrMismatch", err)
	}
}

func TestWNBadInput(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"wn", "train", "--dim", "0"}, "--dim 0: want ≥ 1"},
		{[]string{"wn", "train", "--negatives", "0"}, "--negatives 0"},
		{[]string{"wn", "train", "--lr", "-1"}, "--lr -1"},
		{[]string{"wn", "train", "--word-dropout", "1"}, "--word-dropout 1"},
		{[]string{"wn", "train", "--data", "/nonexistent"}, wordnet.Package},
		{[]string{"wn", "eval", "--model", "/nonexistent.safetensors"}, "nonexistent"},
		{[]string{"wn", "eval", "--split", "dev", "--model", "/nonexistent.safetensors"}, "nonexistent"},
	})
}
