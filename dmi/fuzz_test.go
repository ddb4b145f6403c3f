package dmi

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
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
		sf, err := safetensors.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, sum := range []bool{true, false} {
			meta := sf.Metadata()
			if !sum {
				delete(meta, safetensors.ChecksumKey)
			}
			var buf bytes.Buffer
			if err := safetensors.Write(&buf, sf.Tensors(), meta); err != nil {
				f.Fatal(err)
			}
			f.Add(buf.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		file, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
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
