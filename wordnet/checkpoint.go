package wordnet

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/elasticml/elastic/safetensors"
)

// ErrMismatch reports a checkpoint whose tensors do not fit its stated
// architecture, or a model and data set that do not belong together.
var ErrMismatch = errors.New("checkpoint mismatch")

// formatName marks files written by this package.
const formatName = "elastic-wordnet/1"

// Metadata keys that tie a checkpoint to its data set.
const (
	KeyVocab     = "vocab_fingerprint"
	KeyClasses   = "class_fingerprint"
	KeySplitSeed = "split_seed"
)

// Fingerprint returns a short hash of the architecture.
func (c Config) Fingerprint() string {
	sum := sha256.Sum256(fmt.Appendf(nil, "wordnet vocab=%d dim=%d classes=%d", c.Vocab, c.Dim, c.Classes))
	return hex.EncodeToString(sum[:8])
}

// ownKeys are the metadata keys Save writes itself.
var ownKeys = []string{"format", "vocab", "dim", "classes", "fingerprint"}

// Save writes the model's weights and meta (extra string pairs, such as
// the data set's fingerprints and training progress) to path atomically.
func (m *Model) Save(path string, meta map[string]string) error {
	md := maps.Clone(meta)
	if md == nil {
		md = map[string]string{}
	}
	c := m.cfg
	md["format"] = formatName
	md["vocab"] = strconv.Itoa(c.Vocab)
	md["dim"] = strconv.Itoa(c.Dim)
	md["classes"] = strconv.Itoa(c.Classes)
	md["fingerprint"] = c.Fingerprint()
	var ts []safetensors.Tensor
	for _, p := range m.Params() {
		ts = append(ts, safetensors.FromFloat32(p.Name, p.Shape, p.Data))
	}
	if err := safetensors.WriteFile(path, ts, md); err != nil {
		return fmt.Errorf("wordnet: save %s: %w", path, err)
	}
	return nil
}

// LoadModel reads a model written by Save. It returns the metadata other than
// the architecture's own keys. A file of another format, a missing or
// misshapen tensor, or metadata disagreeing with the shapes gives an
// error wrapping ErrMismatch; a NaN or infinite weight one wrapping
// safetensors.ErrNonFinite.
func LoadModel(path string) (*Model, map[string]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("wordnet: %w", err)
	}
	m, meta, err := FromFile(f)
	if err != nil {
		return nil, nil, fmt.Errorf("wordnet: %s: %w", path, err)
	}
	return m, meta, nil
}

// FromFile is LoadModel for a parsed file.
func FromFile(f *safetensors.File) (*Model, map[string]string, error) {
	meta := f.Metadata()
	if meta["format"] != formatName {
		return nil, nil, fmt.Errorf("%w: format %q, want %q", ErrMismatch, meta["format"], formatName)
	}
	var c Config
	for _, kv := range []struct {
		key string
		v   *int
	}{{"vocab", &c.Vocab}, {"dim", &c.Dim}, {"classes", &c.Classes}} {
		n, err := strconv.Atoi(meta[kv.key])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: metadata %s=%q", ErrMismatch, kv.key, meta[kv.key])
		}
		*kv.v = n
	}
	if err := c.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if meta["fingerprint"] != c.Fingerprint() {
		return nil, nil, fmt.Errorf("%w: fingerprint %s does not match %v (%s)", ErrMismatch, meta["fingerprint"], c, c.Fingerprint())
	}
	// The shapes the header gives come before any allocation sized by the
	// metadata, so a small file cannot ask for a huge model.
	for _, ts := range []struct {
		name  string
		shape []int
	}{
		{"encoder.weight", []int{c.Vocab, c.Dim}}, {"hidden.weight", []int{c.Dim, c.Dim}}, {"hidden.bias", []int{c.Dim}},
		{"decoder.weight", []int{c.Classes, c.Dim}}, {"decoder.bias", []int{c.Classes}},
	} {
		t, err := f.Tensor(ts.name)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v needs tensor %q: %w", ErrMismatch, c, ts.name, err)
		}
		if !slices.Equal(t.Shape, ts.shape) {
			return nil, nil, fmt.Errorf("%w: tensor %q has shape %v, %v needs %v", ErrMismatch, ts.name, t.Shape, c, ts.shape)
		}
	}
	if err := f.CheckFinite(); err != nil {
		return nil, nil, err
	}
	m, err := New(c, 0)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range m.Params() {
		t, err := f.Tensor(p.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v needs tensor %q: %w", ErrMismatch, c, p.Name, err)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return nil, nil, fmt.Errorf("%w: tensor %q has shape %v, %v needs %v", ErrMismatch, p.Name, t.Shape, c, p.Shape)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrMismatch, err)
		}
		copy(p.Data, v)
	}
	for _, k := range ownKeys {
		delete(meta, k)
	}
	return m, meta, nil
}

// Check returns an error wrapping ErrMismatch unless the model m, saved
// with metadata meta, was trained on d: same vocabulary, classes and
// split seed.
func (d *Dataset) Check(m *Model, meta map[string]string) error {
	c := m.Config()
	if c.Vocab != len(d.Vocab) || c.Classes != d.Classes() {
		return fmt.Errorf("%w: model has %d words and %d classes, the data set %d and %d", ErrMismatch, c.Vocab, c.Classes, len(d.Vocab), d.Classes())
	}
	for _, kv := range [][2]string{
		{KeyVocab, d.VocabFingerprint()},
		{KeyClasses, d.ClassFingerprint()},
		{KeySplitSeed, strconv.FormatUint(d.Options.Seed, 10)},
	} {
		if got, ok := meta[kv[0]]; ok && got != kv[1] {
			return fmt.Errorf("%w: model metadata %s=%s, the data set gives %s", ErrMismatch, kv[0], got, kv[1])
		}
	}
	return nil
}

// Meta returns the metadata that ties a checkpoint to d, for Save.
func (d *Dataset) Meta() map[string]string {
	return map[string]string{
		KeyVocab:     d.VocabFingerprint(),
		KeyClasses:   d.ClassFingerprint(),
		KeySplitSeed: strconv.FormatUint(d.Options.Seed, 10),
	}
}
