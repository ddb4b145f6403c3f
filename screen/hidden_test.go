package screen

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/elasticml/elastic/internal/fuzzseed"
	"github.com/elasticml/elastic/safetensors"
)

func TestHiddenRoundTrip(t *testing.T) {
	const n, d, l = 6, 3, 10
	h := make([]float32, n*d)
	for i := range h {
		h[i] = float32(i)*0.25 - 1
	}
	labels := []int32{0, 9, 3, 3, 1, 7}
	dir := t.TempDir()
	p := filepath.Join(dir, "h.safetensors")
	if err := WriteHidden(p, h, d, labels); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{n, 100, 2, 0} {
		gh, gl, err := ReadHidden(p, l, d, limit)
		if err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		k := min(limit, n)
		if !slices.Equal(gh, h[:k*d]) || !slices.Equal(gl, labels[:k]) {
			t.Errorf("limit %d: read %v %v, want %v %v", limit, gh, gl, h[:k*d], labels[:k])
		}
	}
	// Without labels the file still reads, with nil labels.
	q := filepath.Join(dir, "nolabels.safetensors")
	if err := WriteHidden(q, h, d, nil); err != nil {
		t.Fatal(err)
	}
	if gh, gl, err := ReadHidden(q, l, d, n); err != nil || gl != nil || !slices.Equal(gh, h) {
		t.Errorf("no labels: %v %v, err %v", gh, gl, err)
	}
}

func TestHiddenBadInput(t *testing.T) {
	const n, d, l = 4, 2, 5
	h := make([]float32, n*d)
	dir := t.TempDir()
	file := func(name string, ts ...safetensors.Tensor) string {
		p := filepath.Join(dir, name)
		if err := safetensors.WriteFile(p, ts, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hid := safetensors.FromFloat32("hidden", []int{n, d}, h)
	lab := func(v ...float32) safetensors.Tensor { return safetensors.FromFloat32("labels", []int{len(v)}, v) }
	for _, tc := range []struct {
		name string
		path string
		want error
	}{
		{"width", file("w.safetensors", safetensors.FromFloat32("hidden", []int{d, n}, h)), ErrMismatch},
		{"rank", file("r.safetensors", safetensors.FromFloat32("hidden", []int{n * d}, h)), ErrMismatch},
		{"beyond l", file("l.safetensors", hid, lab(0, 1, l, 2)), ErrMismatch},
		{"fraction", file("f.safetensors", hid, lab(0, 1.5, 2, 3)), ErrHidden},
		{"negative", file("n.safetensors", hid, lab(0, -1, 2, 3)), ErrHidden},
		{"huge", file("u.safetensors", hid, lab(0, 1e30, 2, 3)), ErrHidden},
		{"short", file("s.safetensors", hid, lab(0, 1)), ErrHidden},
	} {
		if _, _, err := ReadHidden(tc.path, l, d, n); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := ReadHidden(file("none.safetensors", lab(0)), l, d, n); err == nil {
		t.Error("a file without hidden: no error")
	}
	for _, tc := range []struct {
		h      []float32
		d      int
		labels []int32
	}{{h, 3, nil}, {h, 0, nil}, {h, d, []int32{0}}, {h, d, []int32{0, 1, -1, 2}}} {
		if err := WriteHidden(filepath.Join(dir, "bad.safetensors"), tc.h, tc.d, tc.labels); !errors.Is(err, ErrParam) {
			t.Errorf("WriteHidden d=%d labels %v: err %v, want ErrParam", tc.d, tc.labels, err)
		}
	}
}

// FuzzReadHidden is the --hidden file of `screen fit`, `screen eval` and
// `screen compare --workload file`: ReadHidden, then evaluation of what it
// read. It must return an error or vectors and labels that evaluate,
// never panic. (Moved from cmd/elastic, where it was FuzzScreenHidden.)
func FuzzReadHidden(f *testing.F) {
	fx := newFixture(f, 64, 16, Options{})
	hs, labels := fx.model.Sample(8, 3)
	p := filepath.Join(f.TempDir(), "h.safetensors")
	if err := WriteHidden(p, hs, fx.lin.D, labels); err != nil {
		f.Fatal(err)
	}
	fuzzseed.AddFile(f, p)
	fuzzseed.Files(f, func(t *testing.T, path string) {
		h, y, err := ReadHidden(path, fx.lin.N, fx.lin.D, 100)
		if err != nil || len(h) == 0 {
			return
		}
		if len(h)%fx.lin.D != 0 || (y != nil && len(y) != len(h)/fx.lin.D) {
			t.Fatalf("%d values, %d labels for width %d", len(h), len(y), fx.lin.D)
		}
		fx.c.Evaluate(h, y)
	})
}
