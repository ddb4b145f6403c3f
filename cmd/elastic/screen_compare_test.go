package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/screen/experiments"
	"github.com/elasticml/elastic/screen/synth"
)

func TestScreenCompareBadInput(t *testing.T) {
	small := []string{"screen", "compare", "--classes", "2000", "--dim", "64", "--tokens", "500", "--tests", "10"}
	checkCLIErrors(t, []cliError{
		{[]string{"screen", "compare", "--workload", "nope"}, `unknown --workload "nope"`},
		{[]string{"screen", "compare", "--workload", "wordnet"}, "needs --model"},
		{[]string{"screen", "compare", "--workload", "file"}, "needs --hidden"},
		{[]string{"screen", "compare", "--workload", "lm", "--hidden", "h.safetensors"}, "--hidden goes with --workload file"},
		{[]string{"screen", "compare", "--workload", "lm", "--classifier", "/nonexistent/model.safetensors"}, "/nonexistent/model.safetensors"},
		{[]string{"screen", "compare", "--workload", "wordnet", "--model", "/nonexistent/wn.safetensors"}, "/nonexistent/wn.safetensors"},
		{[]string{"screen", "compare", "--classes", "10000000", "--dim", "512"}, "budget"},
		{[]string{"screen", "compare", "--classes", "4"}, "--classes 4: want ≥ 5"},
		{[]string{"screen", "compare", "--bits", "3"}, "--bits 3: want one of 2, 4, 8, 16, 32"},
		{[]string{"screen", "compare", "--k-ratios", "0.5,1.5"}, "--k-ratios 1.5: want in (0, 1]"},
		{[]string{"screen", "compare", "--m", "0"}, "--m 0"},
		{[]string{"screen", "compare", "--methods", "full,exact"}, `unknown method "exact"`},
		{[]string{"screen", "compare", "--tests", "0"}, "--tests 0"},
		{[]string{"screen", "compare", "--tokens", "0"}, "--tokens 0"},
		{[]string{"screen", "compare", "--hnsw-m", "1"}, "--hnsw-m 1"},
		{[]string{"screen", "compare", "--hnsw-space", "l2"}, "--hnsw-space l2: want one of ip, ippt, both"},
		{[]string{"screen", "compare", "--hnsw-space", ""}, "--hnsw-space : want one of ip, ippt, both"},
		{[]string{"screen", "compare", "--svd-cands", "4"}, "--svd-cands 4"},
		{[]string{"screen", "compare", "--cold", "--llc-mib", "-1"}, "--llc-mib -1"},
		{[]string{"screen", "compare", "--llc-mib", "4"}, "without --cold the timing is warm"},
		{append(slices.Clone(small), "--m", "3000"), "--m 3000 exceeds the 2000 classes"},
		{append(slices.Clone(small), "--svd-windows", "65"), "--svd-windows 65 exceeds the hidden width 64"},
		{append(slices.Clone(small), "--svd-cands", "2001"), "--svd-cands 2001 exceeds"},
		// Too few calibration vectors for the closed form at k = 16.
		{append(slices.Clone(small), "--tokens", "3", "--methods", "screen"), "not enough calibration data"},
	})
}

// All four methods on a small synthetic classifier, as JSON, with a plot.
func TestScreenCompareSynthJSON(t *testing.T) {
	png := filepath.Join(t.TempDir(), "cmp.png")
	var out, errOut bytes.Buffer
	if err := run([]string{"screen", "compare", "--workload", "synth", "--classes", "2000", "--dim", "64",
		"--tokens", "1000", "--tests", "40", "--reps", "2", "--m", "4,2000",
		"--svd-windows", "8", "--svd-cands", "64", "--hnsw-ef", "8,64", "--json", "--plot", png}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var r experiments.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v in\n%s", err, out.String())
	}
	if r.Classes != 2000 || r.Dim != 64 || r.Tests != 40 || r.Calibration != 1000 || r.Labels == "" || len(r.Screeners) != 1 || len(r.HNSW) != 2 || r.HNSWLinks != 0 ||
		r.Timing != "warm" || r.EvictBytes != 0 || r.LLCBytes <= 0 {
		t.Errorf("header %+v", r)
	}
	if !strings.Contains(r.Command, "--hnsw-space both") {
		t.Errorf("command %q lacks the default --hnsw-space", r.Command)
	}
	for i, g := range r.HNSW {
		if g.Space != experiments.Spaces()[i] || g.Links == 0 {
			t.Errorf("graph %d: %+v", i, g)
		}
	}
	var methods []string
	for _, row := range r.Rows {
		methods = append(methods, row.Label()+" "+row.Budget)
		if (row.Space != "") != (row.Method == "hnsw") {
			t.Errorf("row %s: space %q", row.Method, row.Space)
		}
		if !(row.MsPerQuery > 0 && row.Speedup > 0) || row.Accuracy == nil || *row.Accuracy < 0 || *row.Accuracy > 1 ||
			row.Top1 < 0 || row.Top1 > 1 || row.Top5Recall < 0 || row.Top5Recall > 1 {
			t.Errorf("row %+v", row)
		}
		if (row.Screen != nil) != (row.Method == "screen") {
			t.Errorf("row %s: screen detail %v", row.Method, row.Screen)
		}
	}
	want := []string{"full dense GEMV", "screen m=4", "screen m=2000", "svd-softmax window=8 n=64", "hnsw ip ef=8", "hnsw ip ef=64", "hnsw ippt ef=8", "hnsw ippt ef=64"}
	if !slices.Equal(methods, want) {
		t.Fatalf("rows %q, want %q", methods, want)
	}
	full, exact := r.Rows[0], r.Rows[2]
	if full.Top1 != 1 || full.Speedup != 1 {
		t.Errorf("full row %+v", full)
	}
	// With every class a candidate, screening is the full classifier.
	if exact.Top1 != 1 || exact.Top5Recall != 1 || exact.Screen.Coverage != 1 || *exact.Accuracy != *full.Accuracy {
		t.Errorf("m = classes: %+v %+v, full accuracy %v", exact.SweepRow, *exact.Screen, *full.Accuracy)
	}
	if s := r.Rows[1].Screen; s.M != 4 || s.K != 16 || s.Bits != 4 || s.KRatio != 0.25 {
		t.Errorf("screen detail %+v", s)
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("plot: %v, %d bytes", err, len(b))
	}
	if !strings.Contains(errOut.String(), "building the HNSW graph") {
		t.Errorf("no progress on stderr:\n%s", errOut.String())
	}
}

// A classifier file with hidden vectors and labels: the last --tests rows
// test; the sensitivity screeners get one curve each.
func TestScreenCompareFileSensitivity(t *testing.T) {
	const l, d, n, tests = 1500, 32, 700, 100
	m, err := synth.New(synth.Default(l, d))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clf := filepath.Join(dir, "clf.safetensors")
	hs, labels := m.Sample(n, 3)
	lf := make([]float32, n)
	for i, v := range labels {
		lf[i] = float32(v)
	}
	hidden := filepath.Join(dir, "h.safetensors")
	for _, w := range []struct {
		path string
		ts   []safetensors.Tensor
	}{
		{clf, []safetensors.Tensor{safetensors.FromFloat32("decoder.weight", []int{l, d}, m.W), safetensors.FromFloat32("decoder.bias", []int{l}, m.B)}},
		{hidden, []safetensors.Tensor{safetensors.FromFloat32("hidden", []int{n, d}, hs), safetensors.FromFloat32("labels", []int{n}, lf)}},
	} {
		if err := safetensors.WriteFile(w.path, w.ts, nil); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"screen", "compare", "--workload", "file", "--classifier", clf, "--hidden", hidden,
		"--tests", "100", "--reps", "2", "--methods", "screen,full", "--m", "8,64", "--bits-list", "32,4", "--k-ratios", "0.5"}
	var out, errOut bytes.Buffer
	if err := run(append(args, "--json"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var r experiments.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Tests != tests || r.Calibration != n-tests {
		t.Errorf("%d tests, %d calibration vectors; want %d and %d", r.Tests, r.Calibration, tests, n-tests)
	}
	var names []string
	for _, s := range r.Screeners {
		names = append(names, s.Method)
	}
	if want := []string{"screen INT4 k/d=0.25", "screen FP32 k/d=0.25", "screen INT4 k/d=0.5"}; !slices.Equal(names, want) {
		t.Errorf("screeners %q, want %q", names, want)
	}
	if len(r.Rows) != 3*2+1 || r.Rows[len(r.Rows)-1].Method != "full" {
		t.Fatalf("%d rows, last %q", len(r.Rows), r.Rows[len(r.Rows)-1].Method)
	}
	// The accuracy of the full rows is the labels' agreement with the
	// classifier itself, so it is known exactly.
	want := 0
	z := make([]float32, l)
	for i := n - tests; i < n; i++ {
		h := hs[i*d : (i+1)*d]
		best := 0
		for c := range l {
			var s float32
			for j, v := range h {
				s += v * m.W[c*d+j]
			}
			z[c] = s + m.B[c]
			if z[c] > z[best] {
				best = c
			}
		}
		if int32(best) == labels[i] {
			want++
		}
	}
	if got := *r.Rows[len(r.Rows)-1].Accuracy; got != float64(want)/tests {
		t.Errorf("full accuracy %v, want %v", got, float64(want)/tests)
	}

	out.Reset()
	if err := run(args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| method | budget | ms/query | speed-up | top-1 agree | top-5 recall | accuracy |",
		"| screen FP32 k/d=0.25 | m=64 |", "Accuracy: top-1 against the file's labels."} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

// --cold evicts before every timed call and says so in the JSON, the
// table and the command that repeats the run.
func TestScreenCompareCold(t *testing.T) {
	args := []string{"screen", "compare", "--workload", "synth", "--classes", "2000", "--dim", "64",
		"--tokens", "500", "--tests", "20", "--reps", "2", "--methods", "full,screen", "--m", "8", "--threads", "2", "--cold", "--llc-mib", "1"}
	var out, errOut bytes.Buffer
	if err := run(append(slices.Clone(args), "--json"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var r experiments.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Timing != "cold" || r.LLCBytes != 1<<20 || r.EvictBytes != 2<<20 || len(r.Rows) != 2 ||
		!strings.Contains(r.Command, "--cold --llc-mib 1") {
		t.Errorf("timing %q, LLC %d, evictor %d bytes, %d rows, command %q", r.Timing, r.LLCBytes, r.EvictBytes, len(r.Rows), r.Command)
	}
	if !strings.Contains(errOut.String(), "cold timing: writing 2 MiB before every timed call") {
		t.Errorf("no cold-timing progress on stderr:\n%s", errOut.String())
	}
	out.Reset()
	if err := run(args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2 threads, cold caches", "Timing: cold. Before every timed call, untimed, a 2 MiB buffer"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}
