package main

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/internal/fuzzseed"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

// The CLI-level fuzz targets feed mutated files through the code path of
// the command that reads them: the same loaders in the same order (the
// cheap pairing checks first), then a short run of the command's work on
// what loaded. Every execution is capped: inputs over fuzzseed.MaxBytes
// are skipped, and the process runs under a soft memory limit of
// fuzzseed.Memory, which the budget checks of every loader refuse estimates above, so a
// header asking for gigabytes is an error, not an out-of-memory crash.
// Seeds are files written by elastic's own writers, with their checksum
// and (as PyTorch would write them) without, so that mutations of the
// tensor bytes reach the loaders past the checksum too.
//
// fuzzFiles runs run on each fuzz input written to a file, under the
// memory cap, skipping inputs over fuzzseed.MaxBytes (fuzzseed.Files).
func fuzzFiles(f *testing.F, run func(t *testing.T, path string)) { fuzzseed.Files(f, run) }

func fuzzModel(f *testing.F) (*lm.Model, []int32) {
	m, err := lm.New(lm.Config{Cell: nn.LSTMCell, Vocab: 20, Emb: 6, Hidden: 8, Layers: 2}, 1)
	if err != nil {
		f.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	stream := make([]int32, 400)
	for i := range stream {
		stream[i] = int32(rng.IntN(20))
	}
	return m, stream
}

// FuzzDMIEval is `dmi eval` from its --little file on: dmi.LoadFor against
// the model, dmi.NewLM, then the dense and a top-K dual-module loss.
func FuzzDMIEval(f *testing.F) {
	m, stream := fuzzModel(f)
	for _, bits := range []quant.Bits{quant.Int8, quant.Int4, quant.Int2, dmi.FP32} {
		s, err := dmi.Fit(m, stream, dmi.Options{K: 4, Bits: bits, Seed: 1})
		if err != nil {
			f.Fatal(err)
		}
		p := filepath.Join(f.TempDir(), "little.safetensors")
		if err := s.Save(p); err != nil {
			f.Fatal(err)
		}
		fuzzseed.AddFile(f, p)
	}
	fuzzFiles(f, func(t *testing.T, path string) {
		set, err := dmi.LoadFor(path, m)
		if err != nil {
			return
		}
		d, err := dmi.NewLM(m, set, nil)
		if err != nil {
			return
		}
		if _, err := d.Loss(stream[:12], true); err != nil {
			return
		}
		if err := d.SetSelection(dmi.Selection{Mode: dmi.TopK, Ratio: 0.5}); err != nil {
			t.Fatal(err)
		}
		d.Loss(stream[:12], false)
	})
}

// screenFixture is a small synthetic classifier with a screener.
func screenFixture(f *testing.F) (*spec.Linear, *screen.Screener, []float32, []int32) {
	const l, d = 64, 16
	sm, err := synth.New(synth.Default(l, d))
	if err != nil {
		f.Fatal(err)
	}
	lin := spec.NewLinear(sm.W, sm.B, l, d)
	calib, _ := sm.Sample(512, 2)
	s, err := screen.Fit(lin, calib, screen.Options{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	hs, labels := sm.Sample(8, 3)
	return lin, s, hs, labels
}

// FuzzScreenEval is `screen eval` from its --screener file on:
// screen.LoadFor against the classifier, NewClassifier, then top-m and
// certified evaluation of a few labelled vectors.
func FuzzScreenEval(f *testing.F) {
	lin, s, hs, labels := screenFixture(f)
	p := filepath.Join(f.TempDir(), "s.safetensors")
	if err := s.Save(p); err != nil {
		f.Fatal(err)
	}
	fuzzseed.AddFile(f, p)
	fuzzFiles(f, func(t *testing.T, path string) {
		sc, err := screen.LoadFor(path, lin)
		if err != nil {
			return
		}
		c, err := screen.NewClassifier(lin, sc, nil)
		if err != nil {
			return
		}
		for _, sel := range []screen.Selection{{Mode: screen.TopM, M: 4}, {Mode: screen.Certified, M: 4}} {
			if c.SetSelection(sel) != nil {
				continue
			}
			c.Evaluate(hs, labels)
		}
	})
}

// FuzzScreenClassifier is the --classifier file of `screen fit`, `screen
// eval` and `screen compare --workload file`: classifierFlags.open, then
// the full classifier on one vector.
func FuzzScreenClassifier(f *testing.F) {
	lin, _, _, _ := screenFixture(f)
	p := filepath.Join(f.TempDir(), "c.safetensors")
	if err := safetensors.WriteFile(p, []safetensors.Tensor{
		safetensors.FromFloat32("decoder.weight", []int{lin.N, lin.D}, lin.W),
		safetensors.FromFloat32("decoder.bias", []int{lin.N}, lin.B),
	}, nil); err != nil {
		f.Fatal(err)
	}
	fuzzseed.AddFile(f, p)
	fuzzFiles(f, func(t *testing.T, path string) {
		cf := classifierFlags{path: path, weight: "decoder.weight", bias: "decoder.bias"}
		src, err := cf.open(0, nil)
		if err != nil {
			return
		}
		if src.lin.N < 1 || src.lin.D < 1 || len(src.lin.W) != src.lin.N*src.lin.D {
			t.Fatalf("inconsistent classifier %d×%d with %d weights", src.lin.N, src.lin.D, len(src.lin.W))
		}
	})
}

// FuzzLMEval is `lm eval` (and the --model of the dmi and screen --lm
// commands) from its --model file on: lm.Load, the vocabulary check, then
// Evaluate on a short stream.
func FuzzLMEval(f *testing.F) {
	m, stream := fuzzModel(f)
	for _, tied := range []bool{false, true} {
		mm, err := lm.New(lm.Config{Cell: nn.GRUCell, Vocab: 20, Emb: 8, Hidden: 8, Layers: 1, Tied: tied}, 2)
		if err != nil {
			f.Fatal(err)
		}
		p := filepath.Join(f.TempDir(), "m.safetensors")
		if err := mm.Save(p, lm.TrainState{Epoch: 1}); err != nil {
			f.Fatal(err)
		}
		fuzzseed.AddFile(f, p)
	}
	p := filepath.Join(f.TempDir(), "m.safetensors")
	if err := m.Save(p, lm.TrainState{Epoch: 1}); err != nil {
		f.Fatal(err)
	}
	fuzzseed.AddFile(f, p)
	fuzzFiles(f, func(t *testing.T, path string) {
		got, _, err := lm.Load(path)
		if err != nil || got.Config().Vocab != 20 {
			return
		}
		got.Evaluate(stream[:40], 2, 5)
	})
}
