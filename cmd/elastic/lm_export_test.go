package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
)

// saveTestModel writes a small tied LSTM checkpoint and returns it.
func saveTestModel(t *testing.T, path string, vocab int, extra map[string]string) *lm.Model {
	t.Helper()
	m, err := lm.New(lm.Config{Cell: nn.LSTMCell, Vocab: vocab, Hidden: 8, Layers: 2, Tied: true}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path, lm.TrainState{Epoch: 3, Batch: 11, LR: 5, BestVal: 4.25, Extra: extra}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLMExport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.safetensors")
	m := saveTestModel(t, in, 20, map[string]string{vocabKey: "0123456789abcdef"})
	src, err := safetensors.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, fp16 := range []bool{false, true} {
		out := filepath.Join(dir, "out.safetensors")
		args := []string{"lm", "export", "--model", in, "--out", out}
		if fp16 {
			args = append(args, "--fp16")
		}
		var stdout, stderr bytes.Buffer
		if err := run(args, &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want := safetensors.F32
		if fp16 {
			want = safetensors.F16
		}
		for _, tn := range f.Tensors() {
			if tn.DType != want {
				t.Errorf("fp16=%v: %s is %v, want %v", fp16, tn.Name, tn.DType, want)
			}
		}
		if _, err := f.Tensor("decoder.weight"); err == nil {
			t.Errorf("fp16=%v: the tied decoder.weight alias was written", fp16)
		}
		// The same metadata but for the checksum, which is of the new bytes.
		gotMeta, wantMeta := f.Metadata(), src.Metadata()
		delete(gotMeta, safetensors.ChecksumKey)
		delete(wantMeta, safetensors.ChecksumKey)
		if !mapsEqual(gotMeta, wantMeta) || f.Checksum() != safetensors.ChecksumVerified {
			t.Errorf("fp16=%v: metadata %v (%v), want %v", fp16, gotMeta, f.Checksum(), wantMeta)
		}
		back, st, err := lm.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if back.Config() != m.Config() || st.Epoch != 3 || st.BestVal != 4.25 || st.Extra[vocabKey] != "0123456789abcdef" {
			t.Errorf("fp16=%v: read back %v, %+v", fp16, back.Config(), st)
		}
		pb := back.Params()
		for i, p := range m.Params() {
			for j, v := range p.Data {
				w := v
				if fp16 {
					w = safetensors.Float16ToFloat32(safetensors.Float32ToFloat16(v))
				}
				if pb[i].Data[j] != w {
					t.Fatalf("fp16=%v: %s[%d] = %v, want %v", fp16, p.Name, j, pb[i].Data[j], w)
				}
			}
		}
		if !strings.Contains(stdout.String(), map[bool]string{false: "float32", true: "float16"}[fp16]) {
			t.Errorf("fp16=%v: output %q", fp16, stdout.String())
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestLMExportErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.safetensors")
	m := saveTestModel(t, in, 20, nil)
	big := filepath.Join(dir, "big.safetensors")
	m.Encoder.Weight.Data[5] = 1e5
	if err := m.Save(big, lm.TrainState{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.safetensors")
	checkCLIErrors(t, []cliError{
		{[]string{"lm", "export", "--model", in}, "--out"},
		{[]string{"lm", "export", "--model", big, "--out", out, "--fp16"}, "exceeds float16's range"},
		{[]string{"lm", "export", "--model", filepath.Join(dir, "none"), "--out", out}, "no such file"},
		{[]string{"lm", "export", "--model", in, "--out", out, "--sample", "s.txt", "--sample-tokens", "1"}, "--sample-tokens 1"},
	})
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed export left %s behind: %v", out, err)
	}
}

// With the corpus installed, --vocab and --sample write files the demo can
// read back to the corpus's own ids.
func TestLMExportVocabSample(t *testing.T) {
	c, err := corpus.Load(corpus.Options{})
	if errors.Is(err, corpus.ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.safetensors")
	saveTestModel(t, in, c.Vocab.Len(), map[string]string{vocabKey: vocabFingerprint(c.Vocab)})
	vocab, sample := filepath.Join(dir, "vocab.txt"), filepath.Join(dir, "sample.txt")
	var stdout, stderr bytes.Buffer
	err = run([]string{"lm", "export", "--model", in, "--out", filepath.Join(dir, "out.safetensors"), "--fp16",
		"--vocab", vocab, "--sample", sample, "--sample-tokens", "300"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(vocab)
	if err != nil {
		t.Fatal(err)
	}
	if words := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); !slices.Equal(words, c.Vocab.Words()) {
		t.Errorf("vocab.txt holds %d words, not the corpus's %d in id order", len(words), c.Vocab.Len())
	}
	if b, err = os.ReadFile(sample); err != nil {
		t.Fatal(err)
	}
	if got := c.Vocab.EncodeLines(string(b)); !slices.Equal(got, c.Test[:300]) {
		t.Errorf("sample.txt encodes to %d tokens that are not the test split's first 300", len(got))
	}

	// A model trained on another vocabulary is refused.
	saveTestModel(t, in, c.Vocab.Len(), map[string]string{vocabKey: "0123456789abcdef"})
	err = run([]string{"lm", "export", "--model", in, "--out", filepath.Join(dir, "out.safetensors"), "--vocab", vocab}, &stdout, &stderr)
	if !errors.Is(err, lm.ErrMismatch) {
		t.Errorf("foreign vocabulary: %v, want lm.ErrMismatch", err)
	}
}
