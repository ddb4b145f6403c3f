package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
)

// tableModels writes two tiny untrained models (an LSTM and one of half its
// width) on the KJV vocabulary, or skips without the corpus.
func tableModels(t *testing.T) (main, small string) {
	t.Helper()
	if _, err := os.Stat(corpus.DefaultPath); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s absent: install the Debian package %s", corpus.DefaultPath, corpus.TextPackage)
	}
	c, err := corpus.Load(corpus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	save := func(name string, hidden int) string {
		m, err := lm.New(lm.Config{Cell: nn.LSTMCell, Vocab: c.Vocab.Len(), Hidden: hidden, Layers: 1}, 5)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		st := lm.TrainState{Epoch: 2, LR: 20, BestVal: 6, Extra: map[string]string{vocabKey: vocabFingerprint(c.Vocab)}}
		if err := m.Save(path, st); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return save("main.safetensors", 8), save("small.safetensors", 4)
}

func TestDMITable(t *testing.T) {
	model, small := tableModels(t)
	dir := t.TempDir()
	out, plots := filepath.Join(dir, "dmi.md"), filepath.Join(dir, "plots")
	args := []string{"dmi", "table", "--which", "3.2,B.4", "--model", model, "--small", small,
		"--tokens", "60", "--calib-tokens", "400", "--no-timing", "--noise", "0.25,1"}
	var stdout, stderr bytes.Buffer
	if err := run(append(args, "--out", out, "--plots", plots), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	for _, want := range []string{
		"**Table 3.2 (ours)",
		"    elastic dmi table --which 3.2 --model " + model + " --small " + small + " --tokens 60 --calib-tokens 400 --noise 0.25,1 --no-timing=true\n",
		"**Table B.4 (ours)",
		"| Method | PPL w/o DMI | PPL w/ DMI | read/step w/o DMI | read/step w/ DMI |",
		"| Dense (hidden 4) |",
		"1 complete epoch, best valid PPL 403.43",
		"Timing: not run.",
		"| LM, G1500 PPL |", // the GRU group is there, not run
	} {
		if !strings.Contains(s, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(stdout.String(), "wrote tables 3.2, B.4 to "+out) {
		t.Errorf("stdout %q", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(plots, "dmi_table_3_2_ppl.png")); err != nil {
		t.Errorf("PPL plot: %v", err)
	}

	stdout.Reset()
	if err := run([]string{"dmi", "table", "--which", "3.5", "--model", model, "--tokens", "60",
		"--calib-tokens", "400", "--no-timing", "--json"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var res []struct {
		Table string `json:"table"`
		Data  struct {
			Columns []struct {
				Precision string  `json:"precision"`
				PPL       float64 `json:"ppl"`
			} `json:"columns"`
		} `json:"data"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v:\n%s", err, stdout.String())
	}
	if len(res) != 1 || res[0].Table != "3.5" || len(res[0].Data.Columns) != 6 || !(res[0].Data.Columns[3].PPL > 1) {
		t.Errorf("JSON %+v", res)
	}
}

func TestDMITableBadFlags(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"dmi", "table", "--which", "3.3", "--model", "m"}, "unknown table"},
		{[]string{"dmi", "table"}, "give one or two models"},
		{[]string{"dmi", "table", "--model", "a", "--model", "b", "--model", "c"}, "give one or two models"},
		{[]string{"dmi", "table", "--model", "a", "--little", "x", "--little", "y"}, "2 files for 1 models"},
		{[]string{"dmi", "table", "--model", "a", "--tokens", "1"}, "--tokens 1"},
		{[]string{"dmi", "table", "--model", "a", "--noise", "-1"}, "--noise -1"},
	})
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"a/b-c_1.safetensors": "a/b-c_1.safetensors",
		"has space":           "'has space'",
		"it's":                `'it'\''s'`,
		"":                    "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
