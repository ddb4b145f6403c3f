package dmi

import (
	"errors"
	"testing"

	"github.com/elasticml/elastic/internal/fuzzseed"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
)

// withMeta returns the little-module file of s with metadata entries set.
func withMeta(t *testing.T, s *Set, kv map[string]string) *safetensors.File {
	t.Helper()
	path := t.TempDir() + "/l.safetensors"
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fuzzseed.WithMeta(t, f, kv)
}

// The little-module probes of issue 11: sizes in the metadata that
// panicked in rproj.New or kernels.NewTernary, or allocated gigabytes
// before a check failed, are refused from the header.
func TestFromFileRefusesHugeProjections(t *testing.T) {
	m := testModel(t, nn.LSTMCell, 1)
	s := fitTestSet(t, m, Options{K: 6, Bits: quant.Int2, Seed: 5})
	for _, tc := range []struct {
		name string
		meta map[string]string
	}{
		{"kx = dx = 2^32", map[string]string{"l0.kx": "4294967296", "l0.dx": "4294967296"}},
		{"kx = 1, dx = 2^62", map[string]string{"l0.kx": "1", "l0.dx": "4611686018427387904"}},
		{"k = d = 30000", map[string]string{"l0.kx": "30000", "l0.dx": "30000", "l0.kh": "30000", "l0.dh": "30000"}},
		{"kh = dh = 30000", map[string]string{"l0.kh": "30000", "l0.dh": "30000"}},
		{"kx > dx", map[string]string{"l0.kx": "13", "l0.dx": "12"}},
		{"layers = 2^40", map[string]string{"layers": "1099511627776"}},
	} {
		f := withMeta(t, s, tc.meta)
		for _, model := range []bool{false, true} {
			var err error
			if model {
				_, err = FromFileFor(f, m)
			} else {
				_, err = FromFile(f)
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrMismatch) {
				t.Errorf("%s (model %v): %v, want ErrFormat or ErrMismatch", tc.name, model, err)
			}
		}
	}
}

// FromFileFor checks the model before anything else.
func TestFromFileForOtherModel(t *testing.T) {
	m := testModel(t, nn.LSTMCell, 1)
	other := testModel(t, nn.LSTMCell, 2)
	s := fitTestSet(t, m, Options{K: 6, Seed: 5})
	f := withMeta(t, s, nil)
	if _, err := FromFileFor(f, m); err != nil {
		t.Fatalf("own model: %v", err)
	}
	if _, err := FromFileFor(f, other); !errors.Is(err, ErrMismatch) {
		t.Errorf("other model: %v, want ErrMismatch", err)
	}
}

// Every count in the metadata is at least 1, as in a screener file: a file
// claiming zero layers loaded as an empty set before the two formats
// shared one reader, and a zero width failed only at the shape check.
func TestFromFileRefusesZeroCounts(t *testing.T) {
	m := testModel(t, nn.LSTMCell, 1)
	s := fitTestSet(t, m, Options{K: 6, Bits: quant.Int8, Seed: 5})
	for _, key := range []string{"layers", "bits", "l0.kx", "l0.dx", "l0.kh", "l0.dh"} {
		for _, v := range []string{"0", "-1", ""} {
			f := withMeta(t, s, map[string]string{key: v})
			if _, err := FromFile(f); !errors.Is(err, ErrFormat) {
				t.Errorf("%s = %q: %v, want ErrFormat", key, v, err)
			}
		}
	}
	if _, err := FromFile(withMeta(t, s, nil)); err != nil {
		t.Errorf("unchanged file: %v", err)
	}
}
