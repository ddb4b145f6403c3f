package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/screen/synth"
)

func TestScreenBadInput(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"bench", "screen", "--classes", "10000000", "--dim", "512"}, "float16 weights (--half)"},
		{[]string{"bench", "screen", "--classes", "1000", "--m", "2000"}, "m = 2000 outside"},
		{[]string{"bench", "screen", "--classes", "1000", "--delta", "1"}, "--delta 1: want in (0, 1)"},
		{[]string{"bench", "screen", "--bits", "3"}, "--bits 3: want one of"},
		{[]string{"bench", "screen", "--classes", "1000", "--half", "--batch", "2"}, "float16 kernels are GEMVs"},
		{[]string{"screen", "fit"}, "exactly one source"},
		{[]string{"screen", "eval", "--lm", "--delta", "2"}, "--delta 2: want in (0, 1)"},
	})
}

// fit then eval from files: a classifier under custom tensor names and a
// file of hidden vectors with labels.
func TestScreenFitEval(t *testing.T) {
	const l, d = 1500, 32
	m, err := synth.New(synth.Default(l, d))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clf := filepath.Join(dir, "clf.safetensors")
	if err := safetensors.WriteFile(clf, []safetensors.Tensor{
		safetensors.FromFloat32("out.w", []int{l, d}, m.W),
		safetensors.FromFloat32("out.b", []int{l}, m.B),
	}, nil); err != nil {
		t.Fatal(err)
	}
	hidden := func(name string, n int, seed uint64) string {
		hs, labels := m.Sample(n, seed)
		lf := make([]float32, n)
		for i, v := range labels {
			lf[i] = float32(v)
		}
		path := filepath.Join(dir, name)
		if err := safetensors.WriteFile(path, []safetensors.Tensor{
			safetensors.FromFloat32("hidden", []int{n, d}, hs),
			safetensors.FromFloat32("labels", []int{n}, lf),
		}, nil); err != nil {
			t.Fatal(err)
		}
		return path
	}
	calib, test := hidden("calib.safetensors", 600, 1), hidden("test.safetensors", 200, 2)
	scr := filepath.Join(dir, "s.safetensors")
	var out, errOut bytes.Buffer
	if err := run([]string{"screen", "fit", "--classifier", clf, "--weight", "out.w", "--bias", "out.b",
		"--hidden", calib, "--out", scr}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "INT4 screener k=8") {
		t.Errorf("fit output:\n%s", out.String())
	}
	out.Reset()
	if err := run([]string{"screen", "eval", "--classifier", clf, "--weight", "out.w", "--bias", "out.b",
		"--hidden", test, "--screener", scr, "--m", "4,1500", "--delta", "0.1", "--certified", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var r screenEvalResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Conformal == nil || len(r.Points) != 5 || r.Inputs != 100 {
		t.Fatalf("eval result %+v", r)
	}
	full, cert := r.Points[1], r.Points[4]
	if full.Top1 != 1 || full.Top5 != 1 || full.PPL != r.FullPPL || !(r.FullPPL > 1) {
		t.Errorf("m = l: %+v, full PPL %v", full, r.FullPPL)
	}
	if cert.Top1 != 1 {
		t.Errorf("certified: %+v", cert)
	}

	// Another classifier of the same shape is refused.
	w := slices.Clone(m.W)
	w[5] = -w[5]
	other := filepath.Join(dir, "other.safetensors")
	if err := safetensors.WriteFile(other, []safetensors.Tensor{
		safetensors.FromFloat32("out.w", []int{l, d}, w),
		safetensors.FromFloat32("out.b", []int{l}, m.B),
	}, nil); err != nil {
		t.Fatal(err)
	}
	err = run([]string{"screen", "eval", "--classifier", other, "--weight", "out.w", "--bias", "out.b",
		"--hidden", test, "--screener", scr}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("other classifier: %v", err)
	}
}

func TestBenchScreenJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"bench", "screen", "--classes", "2000", "--dim", "32", "--reps", "2", "--llc-mib", "1", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"classes", "dim", "full_ms", "screen_ms", "speedup", "candidates", "top1_agreement", "top5_recall",
		"screener_bytes_ratio", "phase_screen_ms", "phase_select_ms", "phase_exact_ms", "overhead_fraction"} {
		if !strings.Contains(out.String(), `"`+key+`"`) {
			t.Errorf("JSON lacks %q:\n%s", key, out.String())
		}
	}
}
