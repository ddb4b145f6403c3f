// Package modfile is the file format that elastic's fingerprinted modules
// share: the little modules of package dmi and the screeners of package
// screen. Each is a safetensors file whose metadata names the format, the
// fingerprint of the model (or classifier) it was fitted to, and the sizes
// and seed that regenerate its random projections; the tensors hold the
// speculator weights written by spec.WeightTensors.
//
// Reading one follows the same steps in both packages, and this package
// holds them once: the header is read and checked first (Kind.Open), so
// that a file for another model, or one whose metadata asks for a huge
// projection, costs only its header; metadata counts, seeds and floats
// are parsed with one bound rule (Meta); the fingerprint and the values are
// checked before any projection is regenerated (Kind.Verify); and each
// regenerated projection is checked against the hash the file stores
// (Meta.Projection). Every error wraps the package's own sentinels — the
// Kind's ErrFormat for a malformed file, its ErrMismatch for a file made
// for another model — so callers keep testing errors.Is(err, dmi.ErrFormat)
// and the like.
package modfile

import (
	"fmt"
	"strconv"

	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/spec"
)

// Kind is one file format: the package whose errors it reports, the value
// of its "format" metadata entry and the sentinels its errors wrap.
type Kind struct {
	Pkg         string // error prefix, "dmi"
	Format      string // metadata "format", "elastic-dmi/1"
	ErrFormat   error  // malformed file
	ErrMismatch error  // file made for another model
}

// Open reads the header of the file at path and runs check on it (nil
// checks nothing) before it reads the tensor bytes and verifies their
// checksum, so a command can refuse a bad file before it loads the model.
// Errors start with the package name; those of check also give the path.
func (k Kind) Open(path string, check func(*safetensors.Header) error) (*safetensors.File, error) {
	h, err := safetensors.ReadHeaderFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Pkg, err)
	}
	if check != nil {
		if err := check(h); err != nil {
			return nil, k.At(path, err)
		}
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Pkg, err)
	}
	return f, nil
}

// At prefixes err with the package name and path; nil stays nil.
func (k Kind) At(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s: %w", k.Pkg, path, err)
}

// Malformed returns an error wrapping ErrFormat.
func (k Kind) Malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{k.ErrFormat}, a...)...)
}

// Mismatch returns an error wrapping ErrMismatch.
func (k Kind) Mismatch(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{k.ErrMismatch}, a...)...)
}

// Wrap makes err (from spec's readers, rproj, or an Options check) wrap
// ErrFormat as well; nil stays nil.
func (k Kind) Wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", k.ErrFormat, err)
}

// Verify checks a file whose header has passed: that it was fitted to the
// model of fingerprint want ("" skips the check; noun names the model,
// "model" or "classifier"), and then that every float value is finite
// (an error wrapping safetensors.ErrNonFinite otherwise). Both come before
// any projection is regenerated.
func (k Kind) Verify(f *safetensors.File, noun, want string) error {
	if got := f.Metadata()["fingerprint"]; want != "" && got != want {
		return k.Mismatch("fitted to %s %s, this %s is %s", noun, got, noun, want)
	}
	return f.CheckFinite()
}

// Vector reads the float32 vector name, of length n unless n < 0.
func (k Kind) Vector(f *safetensors.File, name string, n int) ([]float32, error) {
	v, err := spec.ReadVector(f, name, n)
	return v, k.Wrap(err)
}

// CheckVector checks from the header that name is a vector of length n
// (any length when n < 0) and returns its length.
func (k Kind) CheckVector(h *safetensors.Header, name string, n int) (int, error) {
	v, err := spec.CheckVector(h, name, n)
	return v, k.Wrap(err)
}

// Weights reads the speculator spec.WeightTensors wrote under name.
func (k Kind) Weights(f *safetensors.File, name string, p *rproj.Projection, b []float32, bits quant.Bits) (*spec.Speculator, error) {
	sp, err := spec.ReadWeights(f, name, p, b, bits)
	return sp, k.Wrap(err)
}

// CheckWeights checks from the header that name holds n×k weights of bits.
func (k Kind) CheckWeights(h *safetensors.Header, name string, n, cols int, bits quant.Bits) error {
	return k.Wrap(spec.CheckWeights(h, name, n, cols, bits))
}

// Matrix reads the float32 r×c matrix name.
func (k Kind) Matrix(f *safetensors.File, name string, r, c int) ([]float32, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, k.Wrap(err)
	}
	if len(t.Shape) != 2 || t.Shape[0] != r || t.Shape[1] != c {
		return nil, k.Malformed("%s has shape %v, want [%d %d]", name, t.Shape, r, c)
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, k.Malformed("%s: %w", name, err)
	}
	return v, nil
}

// Meta is a file's metadata, read with its Kind's errors.
type Meta struct {
	k Kind
	m map[string]string
}

// Meta returns the metadata of h. It checks nothing; see CheckFormat.
func (k Kind) Meta(h *safetensors.Header) Meta { return Meta{k: k, m: h.Metadata()} }

// Get returns the entry key, "" when absent.
func (m Meta) Get(key string) string { return m.m[key] }

// CheckFormat returns an error wrapping ErrFormat unless the file's
// "format" entry is the Kind's.
func (m Meta) CheckFormat() error {
	if got := m.m["format"]; got != m.k.Format {
		return m.k.Malformed("format %q, want %q", got, m.k.Format)
	}
	return nil
}

// Count parses the entry key as a count of at least 1. Every count these
// files store — layers, classes, widths, projected widths, bits — is
// positive: a file of zero layers or a zero-width projection is not one
// Save writes, and a zero that passes here only fails later with a less
// clear message (or, for the number of layers, not at all).
func (m Meta) Count(key string) (int, error) {
	v, err := strconv.Atoi(m.m[key])
	if err != nil || v < 1 {
		return 0, m.k.Malformed("metadata %s = %q (want an integer ≥ 1)", key, m.m[key])
	}
	return v, nil
}

// Uint parses the entry key as an unsigned integer (a seed).
func (m Meta) Uint(key string) (uint64, error) {
	v, err := strconv.ParseUint(m.m[key], 10, 64)
	if err != nil {
		return 0, m.k.Malformed("metadata %s = %q", key, m.m[key])
	}
	return v, nil
}

// Float parses the entry key as a float64 of bitSize 32 or 64.
func (m Meta) Float(key string, bitSize int) (float64, error) {
	v, err := strconv.ParseFloat(m.m[key], bitSize)
	if err != nil {
		return 0, m.k.Malformed("metadata %s = %q", key, m.m[key])
	}
	return v, nil
}

// Info parses the entry key as a float64 for information only (a fit's
// MSE): 0 when absent or malformed, which no reader depends on.
func (m Meta) Info(key string) float64 {
	v, _ := strconv.ParseFloat(m.m[key], 64)
	return v
}

// Projection regenerates the k×d projection of the given sparsity and seed
// and checks that it hashes to the entry key, the hash Save stored; what
// names it in errors ("P", "layer 0: P_x"). The caller must have bounded k
// and d from the header, since the projection costs k·d. A size rproj
// refuses wraps ErrFormat, another hash ErrMismatch.
func (m Meta) Projection(key, what string, k, d int, sparsity float64, seed uint64) (*rproj.Projection, error) {
	p, err := rproj.New(k, d, sparsity, seed)
	if err != nil {
		return nil, m.k.Malformed("%s: %w", what, err)
	}
	if got, want := p.Ternary().Hash(), m.m[key]; got != want {
		return nil, m.k.Mismatch("%s: regenerated projection hashes to %s, the file says %s", what, got, want)
	}
	return p, nil
}
