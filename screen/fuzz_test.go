package screen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/safetensors"
)

// FuzzFromFile feeds mutated screener files to the loader, which must
// return an error or a consistent screener, never panic.
func FuzzFromFile(f *testing.F) {
	fx := newFixture(f, 64, 16, Options{})
	path := filepath.Join(f.TempDir(), "s.safetensors")
	if err := fx.s.Save(path); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		s, err := FromFile(file)
		if err != nil {
			return
		}
		if s.Spec.N != s.L || s.Spec.P.D() != s.D || s.Spec.K != s.K {
			t.Fatalf("inconsistent screener %d×%d k=%d", s.L, s.D, s.K)
		}
	})
}
