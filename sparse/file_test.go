package sparse

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/internal/fuzzseed"
	"github.com/elasticml/elastic/safetensors"
)

func testMasks(t testing.TB) *Masks {
	a, err := FromLists(8, 1, [][]int32{{0, 3}, {}, {1, 2, 7}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromLists(16, 4, [][]int32{{4}, {0, 12}})
	if err != nil {
		t.Fatal(err)
	}
	return &Masks{Meta: map[string]string{"task": "text"}, Names: []string{"ex0/l0/h0", "ex0/l0/h1"}, Patterns: []*Pattern{a, b}}
}

// TestMasksRoundTrip writes and reads a mask file: the same names,
// patterns and metadata come back, and the file's tensors are the
// documented I32 ptr/idx pairs.
func TestMasksRoundTrip(t *testing.T) {
	m := testMasks(t)
	path := filepath.Join(t.TempDir(), "masks.safetensors")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMasks(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Checksum != safetensors.ChecksumVerified {
		t.Errorf("checksum %v", got.Checksum)
	}
	if fmt.Sprint(got.Names, got.Meta) != fmt.Sprint(m.Names, m.Meta) {
		t.Errorf("names/meta %v %v, want %v %v", got.Names, got.Meta, m.Names, m.Meta)
	}
	for i := range m.Patterns {
		if fmt.Sprint(*got.Patterns[i]) != fmt.Sprint(*m.Patterns[i]) {
			t.Errorf("pattern %d: %+v, want %+v", i, *got.Patterns[i], *m.Patterns[i])
		}
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ptr, _ := f.Tensor("0.ptr")
	idx, _ := f.Tensor("1.idx")
	if ptr.DType != safetensors.I32 || fmt.Sprint(ptr.Shape) != "[4]" || fmt.Sprint(idx.Shape) != "[3]" {
		t.Errorf("tensors %v %v, %v %v", ptr.DType, ptr.Shape, idx.DType, idx.Shape)
	}
}

// TestMasksBad refuses what is not a mask file or breaks its patterns.
func TestMasksBad(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, ts []safetensors.Tensor, meta map[string]string) string {
		p := filepath.Join(dir, name)
		if err := safetensors.WriteFile(p, ts, meta); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := testMasks(t)
	ts, meta, err := good.encode()
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]map[string]string{
		"format":  {"format": "other", "patterns": meta["patterns"]},
		"list":    {"format": MaskFormat, "patterns": "[{"},
		"unknown": {"format": MaskFormat, "patterns": `[{"name":"a","rows":3,"cols":8,"block":1,"x":1}]`},
		"count":   {"format": MaskFormat, "patterns": `[{"name":"a","rows":3,"cols":8,"block":1}]`},
		"rows":    {"format": MaskFormat, "patterns": `[{"name":"a","rows":2,"cols":8,"block":1},{"name":"b","rows":2,"cols":16,"block":4}]`},
		"cols":    {"format": MaskFormat, "patterns": `[{"name":"a","rows":3,"cols":4,"block":1},{"name":"b","rows":2,"cols":16,"block":4}]`},
		"block":   {"format": MaskFormat, "patterns": `[{"name":"a","rows":3,"cols":8,"block":1},{"name":"b","rows":2,"cols":16,"block":8}]`},
	}
	for name, meta := range bad {
		if _, err := ReadMasks(write(name, ts, meta)); !errors.Is(err, ErrMaskFile) && !errors.Is(err, ErrPattern) {
			t.Errorf("%s: err %v, want ErrMaskFile or ErrPattern", name, err)
		}
	}
	if _, err := ReadMasks(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	good.Names = good.Names[:1]
	if err := good.WriteFile(filepath.Join(dir, "x")); !errors.Is(err, ErrMaskFile) {
		t.Errorf("names/patterns mismatch written: %v", err)
	}
}

// FuzzReadMasks feeds mutated mask files through the reader: it errs or
// returns valid patterns, and never panics.
func FuzzReadMasks(f *testing.F) {
	ts, meta, err := testMasks(f).encode()
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, meta); err != nil {
		f.Fatal(err)
	}
	fuzzseed.Add(f, buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, ok := fuzzseed.Parse(b)
		if !ok {
			return
		}
		m, err := decodeMasks(sf)
		if err != nil {
			return
		}
		for i, p := range m.Patterns {
			if err := p.Validate(); err != nil {
				t.Fatalf("pattern %d accepted but invalid: %v", i, err)
			}
		}
	})
}
