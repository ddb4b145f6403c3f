package wordnet

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/safetensors"
)

// FuzzFromFile feeds mutated checkpoints through `wn eval`'s path: the
// loader, then evaluation of a small split when the model fits it. A
// header claiming a huge model must be refused before it is allocated.
// Inputs over 1 MiB are skipped.
func FuzzFromFile(f *testing.F) {
	const classes = 12
	split := syntheticSplit("valid", classes, 1, rand.New(rand.NewPCG(1, 1)))
	cfg := Config{Vocab: 2*classes + 5, Dim: 4, Classes: classes}
	m, err := New(cfg, 1)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "wn.safetensors")
	if err := m.Save(path, map[string]string{"epoch": "1"}); err != nil {
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
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		file, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		got, _, err := FromFile(file)
		if err != nil || got.Config() != cfg {
			return
		}
		got.Evaluate(split)
	})
}
