package spec

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/safetensors"
)

// WeightTensors → safetensors → ReadWeights must give back the same W̃ at
// every width, and malformed tensors must be reported as ErrFormat.
func TestWeightTensorsRoundTrip(t *testing.T) {
	const n, k, d = 7, 5, 12
	p, err := rproj.New(k, d, rproj.DefaultSparsity, 3)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, n*k)
	for i := range w {
		w[i] = float32(i%9) - 4.5
	}
	b := make([]float32, n)
	fp := NewSpeculator(p, w, b)
	for _, bits := range []quant.Bits{FP32, quant.Int16, quant.Int8, quant.Int4, quant.Int2} {
		s := fp
		if bits != FP32 {
			if s, err = fp.Quantize(bits); err != nil {
				t.Fatal(err)
			}
		}
		f := writeRead(t, "w", s)
		got, err := ReadWeights(f, "w", p, b, bits)
		if err != nil {
			t.Fatalf("%v: %v", bits, err)
		}
		for i := range s.W {
			if got.W[i] != s.W[i] {
				t.Fatalf("%v: W[%d] = %g, want %g", bits, i, got.W[i], s.W[i])
			}
		}
		// Reading with the wrong width or bias length is a format error.
		wrong := quant.Int8
		if bits == quant.Int8 {
			wrong = quant.Int4
		}
		if _, err := ReadWeights(f, "w", p, b, wrong); !errors.Is(err, ErrFormat) {
			t.Errorf("%v read as %v: error %v, want ErrFormat", bits, wrong, err)
		}
		if _, err := ReadWeights(f, "w", p, b[:n-1], bits); !errors.Is(err, ErrFormat) {
			t.Errorf("%v with a short bias: error %v, want ErrFormat", bits, err)
		}
	}
}

// Finite codes and scales whose product overflows float32 (a scale near
// the largest float, code 127) are a format error, not infinities.
func TestReadWeightsOverflow(t *testing.T) {
	const n, k, d = 3, 4, 8
	p, err := rproj.New(k, d, rproj.DefaultSparsity, 3)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, n*k)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	b := make([]float32, n)
	for _, bits := range []quant.Bits{quant.Int8, quant.Int4} {
		s, err := NewSpeculator(p, w, b).Quantize(bits)
		if err != nil {
			t.Fatal(err)
		}
		s.Q.Scales[1] = math.MaxFloat32 / 2
		f := writeRead(t, "w", s)
		if _, err := ReadWeights(f, "w", p, b, bits); !errors.Is(err, ErrFormat) {
			t.Errorf("%v with an overflowing scale: %v, want ErrFormat", bits, err)
		}
	}
}

// writeRead writes s's tensors under name and reads the file back.
func writeRead(t *testing.T, name string, s *Speculator) *safetensors.File {
	t.Helper()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, WeightTensors(name, s), nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
