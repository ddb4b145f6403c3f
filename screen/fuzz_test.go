package screen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/internal/fuzzseed"
)

// FuzzFromFile feeds mutated screener files to the loader, which must
// return an error or a consistent screener, never panic. It loads them for
// their classifier, as `screen eval` does: a file whose header claims
// another classifier or a k×d beyond its tensors is refused before the
// projection is generated, which made a mutated header take seconds (13
// executions in 90 s) before issue 11. Inputs over 1 MiB are skipped.
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
	fuzzseed.Add(f, data)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, ok := fuzzseed.Parse(data)
		if !ok {
			return
		}
		s, err := FromFileFor(file, fx.lin)
		if err != nil {
			return
		}
		if s.Spec.N != s.L || s.Spec.P.D() != s.D || s.Spec.K != s.K {
			t.Fatalf("inconsistent screener %d×%d k=%d", s.L, s.D, s.K)
		}
	})
}
