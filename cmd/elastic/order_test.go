package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

// flipLastByte writes a copy of src with the last tensor byte flipped: its
// header is sound, its checksum fails once the bytes are read.
func flipLastByte(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteMeta writes src to dst with metadata entries set.
func rewriteMeta(t *testing.T, src, dst string, kv map[string]string) {
	t.Helper()
	f, err := safetensors.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	meta := f.Metadata()
	for k, v := range kv {
		meta[k] = v
	}
	if err := safetensors.WriteFile(dst, f.Tensors(), meta); err != nil {
		t.Fatal(err)
	}
}

// The commands check every file's header against the others' before they
// read a model's or classifier's bytes: with a model (classifier) whose
// bytes fail their checksum and a little module (screener, hidden file)
// whose header does not fit it, the error is the small file's.
func TestHeadersCheckedBeforeLoading(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	data := p("bible.data")
	if err := os.WriteFile(data, []byte("only stat'ed"), 0o644); err != nil {
		t.Fatal(err)
	}

	m, err := lm.New(lm.Config{Cell: nn.LSTMCell, Vocab: 20, Emb: 6, Hidden: 8, Layers: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(p("model.safetensors"), lm.TrainState{}); err != nil {
		t.Fatal(err)
	}
	flipLastByte(t, p("model.safetensors"), p("model-flip.safetensors"))
	rng := rand.New(rand.NewPCG(3, 4))
	stream := make([]int32, 400)
	for i := range stream {
		stream[i] = int32(rng.IntN(20))
	}
	s, err := dmi.Fit(m, stream, dmi.Options{K: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(p("little.safetensors")); err != nil {
		t.Fatal(err)
	}
	rewriteMeta(t, p("little.safetensors"), p("little-wide.safetensors"), map[string]string{"l0.kx": "30000", "l0.dx": "30000"})

	const l, d = 64, 16
	sm, err := synth.New(synth.Default(l, d))
	if err != nil {
		t.Fatal(err)
	}
	lin := spec.NewLinear(sm.W, sm.B, l, d)
	calib, _ := sm.Sample(512, 2)
	sc, err := screen.Fit(lin, calib, screen.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Save(p("screener.safetensors")); err != nil {
		t.Fatal(err)
	}
	rewriteMeta(t, p("screener.safetensors"), p("screener-wide.safetensors"), map[string]string{"k": "30000", "d": "30000"})
	if err := safetensors.WriteFile(p("cls.safetensors"), []safetensors.Tensor{
		safetensors.FromFloat32("decoder.weight", []int{l, d}, lin.W),
		safetensors.FromFloat32("decoder.bias", []int{l}, lin.B),
	}, nil); err != nil {
		t.Fatal(err)
	}
	flipLastByte(t, p("cls.safetensors"), p("cls-flip.safetensors"))
	hs, _ := sm.Sample(8, 3)
	labels := make([]float32, 8)
	labels[0] = l // not a class id
	if err := safetensors.WriteFile(p("hidden-badlabel.safetensors"), []safetensors.Tensor{
		safetensors.FromFloat32("hidden", []int{8, d}, hs),
		safetensors.FromFloat32("labels", []int{8}, labels),
	}, nil); err != nil {
		t.Fatal(err)
	}

	checkCLIErrors(t, []cliError{
		// The sound files pass their checks and the flipped bytes are
		// found: the fixtures are what they claim.
		{[]string{"dmi", "eval", "--model", p("model-flip.safetensors"), "--little", p("little.safetensors"), "--data", data}, "checksum mismatch"},
		{[]string{"screen", "eval", "--classifier", p("cls-flip.safetensors"), "--hidden", p("hidden-badlabel.safetensors"), "--screener", p("screener.safetensors")}, "label 0 is 64"},
		// A header that does not fit is refused before the model's or
		// classifier's bytes are read.
		{[]string{"dmi", "eval", "--model", p("model-flip.safetensors"), "--little", p("little-wide.safetensors"), "--data", data}, "d_x = 30000, the model's is 6"},
		{[]string{"dmi", "table", "--model", p("model-flip.safetensors"), "--little", p("little-wide.safetensors"), "--data", data}, "d_x = 30000, the model's is 6"},
		{[]string{"screen", "eval", "--classifier", p("cls-flip.safetensors"), "--hidden", p("hidden-badlabel.safetensors"), "--screener", p("screener-wide.safetensors")}, "screener for a 64×30000 classifier, got 64×16"},
		// --data is checked before any model.
		{[]string{"dmi", "eval", "--model", p("model-flip.safetensors"), "--little", p("little.safetensors"), "--data", dir}, "not a regular file"},
		{[]string{"lm", "eval", "--model", p("model-flip.safetensors"), "--data", dir}, "not a regular file"},
	})
}
