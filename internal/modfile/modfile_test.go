package modfile

import (
	"bytes"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/spec"
)

var (
	errFormat   = errors.New("test: malformed")
	errMismatch = errors.New("test: mismatch")
	testKind    = Kind{Pkg: "test", Format: "elastic-test/1", ErrFormat: errFormat, ErrMismatch: errMismatch}
)

// header returns the header of a file with the given metadata and one
// 3-vector "v".
func header(t testing.TB, meta map[string]string) *safetensors.File {
	t.Helper()
	var buf bytes.Buffer
	ts := []safetensors.Tensor{safetensors.FromFloat32("v", []int{3}, []float32{1, 2, 3})}
	if err := safetensors.Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMetaParsing(t *testing.T) {
	f := header(t, map[string]string{"format": "elastic-test/1"})
	for _, tc := range []struct {
		value string
		count int // 0: refused
	}{
		{"1", 1}, {"65536", 65536}, {"0", 0}, {"-1", 0}, {"", 0}, {"1.5", 0}, {"x", 0},
		{"99999999999999999999", 0},
	} {
		m := Meta{k: testKind, m: map[string]string{"n": tc.value}}
		got, err := m.Count("n")
		switch {
		case tc.count == 0 && !errors.Is(err, errFormat):
			t.Errorf("Count(%q) = %d, %v; want an error wrapping ErrFormat", tc.value, got, err)
		case tc.count != 0 && (err != nil || got != tc.count):
			t.Errorf("Count(%q) = %d, %v; want %d", tc.value, got, err, tc.count)
		}
	}
	m := Meta{k: testKind, m: map[string]string{"seed": "18446744073709551615", "neg": "-3", "f": "0.25", "big": "1e39"}}
	if v, err := m.Uint("seed"); err != nil || v != 1<<64-1 {
		t.Errorf("Uint(max) = %d, %v", v, err)
	}
	if _, err := m.Uint("neg"); !errors.Is(err, errFormat) {
		t.Errorf("Uint(-3): %v, want ErrFormat", err)
	}
	if v, err := m.Float("f", 64); err != nil || v != 0.25 {
		t.Errorf("Float(0.25) = %v, %v", v, err)
	}
	if _, err := m.Float("big", 32); !errors.Is(err, errFormat) {
		t.Errorf("Float(1e39, 32): %v, want ErrFormat", err)
	}
	if v := m.Info("absent"); v != 0 {
		t.Errorf("Info(absent) = %v, want 0", v)
	}
	if err := testKind.Meta(&f.Header).CheckFormat(); err != nil {
		t.Errorf("own format: %v", err)
	}
	other := Kind{Format: "elastic-other/1", ErrFormat: errFormat}
	if err := other.Meta(&f.Header).CheckFormat(); !errors.Is(err, errFormat) {
		t.Errorf("other format: %v, want ErrFormat", err)
	}
}

// Verify checks the fingerprint before the values, and the values.
func TestVerify(t *testing.T) {
	f := header(t, map[string]string{"fingerprint": "abc"})
	if err := testKind.Verify(f, "model", "abc"); err != nil {
		t.Errorf("own model: %v", err)
	}
	if err := testKind.Verify(f, "model", ""); err != nil {
		t.Errorf("no model: %v", err)
	}
	if err := testKind.Verify(f, "model", "abd"); !errors.Is(err, errMismatch) {
		t.Errorf("other model: %v, want ErrMismatch", err)
	}
	var buf bytes.Buffer
	nan := []safetensors.Tensor{safetensors.FromFloat32("v", []int{1}, []float32{float32(nanValue())})}
	if err := safetensors.Write(&buf, nan, map[string]string{"fingerprint": "abc"}); err != nil {
		t.Fatal(err)
	}
	g, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if err := testKind.Verify(g, "model", "abc"); !errors.Is(err, safetensors.ErrNonFinite) {
		t.Errorf("NaN value: %v, want ErrNonFinite", err)
	}
}

func nanValue() float64 { z := 0.0; return z / z }

// Projection regenerates P from its seed and checks the stored hash.
func TestProjection(t *testing.T) {
	p, err := rproj.New(4, 16, rproj.DefaultSparsity, 7)
	if err != nil {
		t.Fatal(err)
	}
	m := Meta{k: testKind, m: map[string]string{"p": p.Ternary().Hash()}}
	q, err := m.Projection("p", "P", 4, 16, rproj.DefaultSparsity, 7)
	if err != nil || q.Ternary().Hash() != p.Ternary().Hash() {
		t.Fatalf("own projection: %v", err)
	}
	if _, err := m.Projection("p", "P", 4, 16, rproj.DefaultSparsity, 8); !errors.Is(err, errMismatch) {
		t.Errorf("other seed: %v, want ErrMismatch", err)
	}
	if _, err := m.Projection("p", "P", 4, 16, 0.5, 7); !errors.Is(err, errFormat) || !errors.Is(err, rproj.ErrParam) {
		t.Errorf("sparsity 0.5: %v, want ErrFormat and rproj.ErrParam", err)
	}
}

// Open runs the header check before it reads the tensors, and the readers'
// errors wrap ErrFormat.
func TestOpenAndReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.safetensors")
	sp := spec.NewSpeculator(mustProj(t), make([]float32, 2*4), []float32{0.5, -1})
	ts := append(spec.WeightTensors("w", sp), safetensors.FromFloat32("m", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}))
	if err := safetensors.WriteFile(path, ts, map[string]string{"format": "elastic-test/1"}); err != nil {
		t.Fatal(err)
	}
	refuse := errors.New("refused")
	if _, err := testKind.Open(path, func(*safetensors.Header) error { return refuse }); !errors.Is(err, refuse) {
		t.Errorf("refusing check: %v", err)
	}
	f, err := testKind.Open(path, func(h *safetensors.Header) error { return testKind.Meta(h).CheckFormat() })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testKind.Open(path+".missing", nil); err == nil {
		t.Error("missing file opened")
	}
	if v, err := testKind.Matrix(f, "m", 2, 3); err != nil || v[5] != 6 {
		t.Errorf("Matrix = %v, %v", v, err)
	}
	for name, err := range map[string]error{
		"matrix shape":  second(testKind.Matrix(f, "m", 3, 2)),
		"matrix absent": second(testKind.Matrix(f, "x", 2, 3)),
		"vector absent": second(testKind.Vector(f, "x", 2)),
		"vector length": second(testKind.CheckVector(&f.Header, "m", 6)),
		"weights shape": testKind.CheckWeights(&f.Header, "w", 3, 4, spec.FP32),
		"weights bits":  second(testKind.Weights(f, "w", mustProj(t), []float32{0, 0}, quant.Int8)),
	} {
		if !errors.Is(err, errFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
	if _, err := testKind.Weights(f, "w", mustProj(t), []float32{0, 0}, spec.FP32); err != nil {
		t.Errorf("own weights: %v", err)
	}
	if err := testKind.At(path, nil); err != nil {
		t.Errorf("At(nil) = %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func mustProj(t *testing.T) *rproj.Projection {
	t.Helper()
	p, err := rproj.New(4, 8, rproj.DefaultSparsity, 1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzCount: Count never panics, and what it accepts is a positive
// integer that prints back as the entry.
func FuzzCount(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "65536", "", "9223372036854775807", "+7", "007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Meta{k: testKind, m: map[string]string{"n": s}}
		v, err := m.Count("n")
		if err != nil {
			if !errors.Is(err, errFormat) {
				t.Fatalf("Count(%q): %v does not wrap ErrFormat", s, err)
			}
			return
		}
		if v < 1 {
			t.Fatalf("Count(%q) = %d", s, v)
		}
		if w, _ := strconv.Atoi(s); w != v {
			t.Fatalf("Count(%q) = %d, Atoi %d", s, v, w)
		}
	})
}
