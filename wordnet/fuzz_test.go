package wordnet

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/internal/fuzzseed"
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
	fuzzseed.AddFile(f, path)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, ok := fuzzseed.Parse(data)
		if !ok {
			return
		}
		got, _, err := FromFile(file)
		if err != nil || got.Config() != cfg {
			return
		}
		got.Evaluate(split)
	})
}
