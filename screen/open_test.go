package screen

import (
	"errors"
	"os"
	"testing"

	"github.com/elasticml/elastic/safetensors"
)

// Open and CheckHeader refuse from the header alone, against the
// classifier's shape only, a screener for another shape or a corrupt
// size; the tensor bytes are read, and their checksum verified, after.
func TestOpenChecksHeaderFirst(t *testing.T) {
	fx := newFixture(t, 64, 16, Options{})
	path := t.TempDir() + "/s.safetensors"
	if err := fx.s.Save(path); err != nil {
		t.Fatal(err)
	}
	own := Shape{N: 64, D: 16}
	h, err := safetensors.ReadHeaderFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckHeader(h, &own); err != nil {
		t.Fatalf("own header: %v", err)
	}
	f, err := Open(path, &own)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.For(fx.lin); err != nil {
		t.Fatalf("own classifier: %v", err)
	}
	for _, sh := range []Shape{{N: 63, D: 16}, {N: 64, D: 30000}} {
		if err := CheckHeader(h, &sh); !errors.Is(err, ErrMismatch) {
			t.Errorf("shape %v: CheckHeader: %v, want ErrMismatch", sh, err)
		}
		if _, err := Open(path, &sh); !errors.Is(err, ErrMismatch) {
			t.Errorf("shape %v: Open: %v, want ErrMismatch", sh, err)
		}
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	bad := t.TempDir() + "/flip.safetensors"
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if h, err := safetensors.ReadHeaderFile(bad); err != nil || CheckHeader(h, &own) != nil {
		t.Fatalf("header of the flipped file: %v", err)
	}
	if _, err := Open(bad, &own); !errors.Is(err, safetensors.ErrChecksum) {
		t.Errorf("flipped bit: %v, want ErrChecksum", err)
	}
}
