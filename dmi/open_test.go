package dmi

import (
	"errors"
	"os"
	"testing"

	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
)

// saveWithMeta writes the file of s with metadata entries set and returns
// its path.
func saveWithMeta(t *testing.T, s *Set, kv map[string]string) string {
	t.Helper()
	f := withMeta(t, s, kv)
	path := t.TempDir() + "/l.safetensors"
	if err := safetensors.WriteFile(path, f.Tensors(), f.Metadata()); err != nil {
		t.Fatal(err)
	}
	return path
}

// Open and CheckHeader refuse from the header alone, against the model's
// architecture only (no weights), what FromFileFor refuses before it reads
// a value; the tensor bytes are read, and their checksum verified, only
// after.
func TestOpenChecksHeaderFirst(t *testing.T) {
	m := testModel(t, nn.LSTMCell, 1)
	cfg := m.Config()
	s := fitTestSet(t, m, Options{K: 6, Bits: quant.Int4, Seed: 5})
	good := saveWithMeta(t, s, nil)
	h, err := safetensors.ReadHeaderFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckHeader(h, &cfg); err != nil {
		t.Fatalf("own header: %v", err)
	}
	f, err := Open(good, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.For(m); err != nil {
		t.Fatalf("own model: %v", err)
	}

	oneLayer := cfg
	oneLayer.Layers = 1
	wider := cfg
	wider.Hidden++
	for _, tc := range []struct {
		name string
		meta map[string]string
		cfg  lm.Config
		want error
	}{
		{"d = 30000", map[string]string{"l0.kx": "30000", "l0.dx": "30000"}, cfg, ErrMismatch},
		{"dx = 2^62", map[string]string{"l0.kx": "1", "l0.dx": "4611686018427387904"}, cfg, ErrFormat},
		{"other layer count", nil, oneLayer, ErrMismatch},
		{"other hidden width", nil, wider, ErrMismatch},
		{"other cell", map[string]string{"cell": "gru"}, cfg, ErrMismatch},
		{"no format", map[string]string{"format": ""}, cfg, ErrFormat},
	} {
		path := saveWithMeta(t, s, tc.meta)
		h, err := safetensors.ReadHeaderFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckHeader(h, &tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: CheckHeader: %v, want %v", tc.name, err, tc.want)
		}
		if _, err := Open(path, &tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: Open: %v, want %v", tc.name, err, tc.want)
		}
	}

	// A flipped bit in the tensor bytes passes the header and fails the
	// checksum when Open reads them.
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	bad := t.TempDir() + "/flip.safetensors"
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if h, err := safetensors.ReadHeaderFile(bad); err != nil || CheckHeader(h, &cfg) != nil {
		t.Fatalf("header of the flipped file: %v", err)
	}
	if _, err := Open(bad, &cfg); !errors.Is(err, safetensors.ErrChecksum) {
		t.Errorf("flipped bit: %v, want ErrChecksum", err)
	}
}
