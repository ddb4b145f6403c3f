package dmi

import (
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/internal/fuzzseed"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
)

// FuzzFromFile feeds mutated little-module files to the loader for their
// model, which must return an error or modules NewLM accepts, never panic.
// Seeds are written by Save with their checksum and without it, so that
// mutated tensor bytes reach the decoders. Inputs over 1 MiB are skipped.
func FuzzFromFile(f *testing.F) {
	m := testModel(f, nn.LSTMCell, 1)
	for _, bits := range []quant.Bits{quant.Int8, quant.Int4, quant.Int2, quant.Int16, FP32} {
		s := fitTestSet(f, m, Options{K: 4, Bits: bits, Seed: 3})
		path := filepath.Join(f.TempDir(), "l.safetensors")
		if err := s.Save(path); err != nil {
			f.Fatal(err)
		}
		fuzzseed.AddFile(f, path)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, ok := fuzzseed.Parse(data)
		if !ok {
			return
		}
		s, err := FromFileFor(file, m)
		if err != nil {
			return
		}
		if _, err := NewLM(m, s, nil); err != nil {
			t.Fatalf("FromFileFor accepted modules NewLM refuses: %v", err)
		}
	})
}
