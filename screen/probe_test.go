package screen

import (
	"errors"
	"testing"

	"github.com/elasticml/elastic/internal/fuzzseed"
	"github.com/elasticml/elastic/safetensors"
)

// saved returns s as Save writes it, read back.
func saved(t *testing.T, s *Screener) *safetensors.File {
	t.Helper()
	path := t.TempDir() + "/s.safetensors"
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The screener probes of issue 11: a small file whose metadata claims a
// huge k×d projection is refused from its header, before the projection
// is generated, and a screener of another classifier by its fingerprint.
func TestFromFileRefusesHugeProjections(t *testing.T) {
	fx := newFixture(t, 64, 16, Options{})
	f := saved(t, fx.s)
	other := newFixture(t, 64, 16, Options{Seed: 9})
	other.lin.W[0]++ // another classifier of the same shape
	for _, tc := range []struct {
		name string
		meta map[string]string
	}{
		{"k = d = 30000", map[string]string{"k": "30000", "d": "30000"}},
		{"k = d = 65536", map[string]string{"k": "65536", "d": "65536"}},
		{"d = 2^40", map[string]string{"d": "1099511627776"}},
		{"k > d", map[string]string{"k": "17"}},
	} {
		g := fuzzseed.WithMeta(t, f, tc.meta)
		if _, err := FromFile(g); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", tc.name, err)
		}
		if _, err := FromFileFor(g, fx.lin); !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrFormat) {
			t.Errorf("%s for its classifier: %v, want ErrMismatch or ErrFormat", tc.name, err)
		}
	}
	if _, err := FromFileFor(f, fx.lin); err != nil {
		t.Errorf("own classifier: %v", err)
	}
	if _, err := FromFileFor(f, other.lin); !errors.Is(err, ErrMismatch) {
		t.Errorf("other classifier: %v, want ErrMismatch", err)
	}
}

// Every count in the metadata is at least 1 (the rule dmi's files share).
func TestFromFileRefusesZeroCounts(t *testing.T) {
	fx := newFixture(t, 64, 16, Options{})
	f := saved(t, fx.s)
	for _, key := range []string{"l", "d", "k", "bits"} {
		for _, v := range []string{"0", "-1", ""} {
			if _, err := FromFile(fuzzseed.WithMeta(t, f, map[string]string{key: v})); !errors.Is(err, ErrFormat) {
				t.Errorf("%s = %q: %v, want ErrFormat", key, v, err)
			}
		}
	}
}
