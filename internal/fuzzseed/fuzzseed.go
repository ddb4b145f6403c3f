// Package fuzzseed adds safetensors files to a fuzz corpus the way the
// file fuzz targets need them: as written, and with the checksum removed
// (as PyTorch writes files), so that mutated tensor bytes reach the
// decoders past safetensors' checksum check.
package fuzzseed

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/elasticml/elastic/safetensors"
)

// Add adds data, a safetensors file, and the same file without its
// checksum, to f's corpus.
func Add(f *testing.F, data []byte) {
	f.Helper()
	f.Add(data)
	sf, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		f.Fatal(err)
	}
	meta := sf.Metadata()
	if _, ok := meta[safetensors.ChecksumKey]; !ok {
		return
	}
	delete(meta, safetensors.ChecksumKey)
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, sf.Tensors(), meta); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
}

// AddFile is Add for the file at path.
func AddFile(f *testing.F, path string) {
	f.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	Add(f, data)
}

// MaxBytes caps the inputs Parse accepts, so that each execution of a
// file fuzz target stays small.
const MaxBytes = 1 << 20

// Parse reads one fuzz input as a safetensors file, or reports false for
// an input over MaxBytes or one safetensors refuses.
func Parse(data []byte) (*safetensors.File, bool) {
	if len(data) > MaxBytes {
		return nil, false
	}
	f, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
	return f, err == nil
}

// WithMeta returns f rewritten in memory with the metadata entries kv set,
// the corrupt headers the loaders' probe tests feed them.
func WithMeta(tb testing.TB, f *safetensors.File, kv map[string]string) *safetensors.File {
	tb.Helper()
	meta := f.Metadata()
	for k, v := range kv {
		meta[k] = v
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, f.Tensors(), meta); err != nil {
		tb.Fatal(err)
	}
	g, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// Memory is the soft memory limit Files runs the fuzz function under: the
// loaders' budget checks refuse estimates above it, so a mutated header
// asking for gigabytes is an error, not an out-of-memory crash.
const Memory = 512 << 20

// Files fuzzes a loader that reads a path: it runs run on each fuzz input
// written to a file, under the soft memory limit Memory (restored when f
// ends), skipping inputs over MaxBytes.
func Files(f *testing.F, run func(t *testing.T, path string)) {
	f.Helper()
	prev := debug.SetMemoryLimit(Memory)
	f.Cleanup(func() { debug.SetMemoryLimit(prev) })
	p := filepath.Join(f.TempDir(), "in.safetensors")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxBytes {
			return
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, p)
	})
}
