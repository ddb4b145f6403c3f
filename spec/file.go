package spec

import (
	"errors"
	"fmt"
	"math"

	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
)

// FP32 marks a speculator whose W̃ is kept in float32 (no quant.Matrix).
const FP32 quant.Bits = 32

// ErrFormat reports speculator tensors that disagree with what
// WeightTensors writes; callers wrap it in their own file-format errors.
var ErrFormat = errors.New("spec: malformed speculator tensors")

// WeightTensors returns the tensors that store W̃ of s under name: float32
// codes for FP32; for quantized speculators the codes (INT8 as I8, INT16 as
// exact F32 values, INT4/INT2 packed as U8 rows) and name+".scale", the
// per-row scales. The projection and b̃ are the caller's to store, since
// dual-module layers and screeners keep them differently.
func WeightTensors(name string, s *Speculator) []safetensors.Tensor {
	q := s.Q
	if q == nil {
		return []safetensors.Tensor{safetensors.FromFloat32(name, []int{s.N, s.K}, s.W)}
	}
	var codes safetensors.Tensor
	switch q.Bits {
	case quant.Int8:
		codes = safetensors.FromInt8(name, []int{q.Rows, q.Cols}, q.I8)
	case quant.Int16:
		f := make([]float32, len(q.I16))
		for i, v := range q.I16 {
			f[i] = float32(v)
		}
		codes = safetensors.FromFloat32(name, []int{q.Rows, q.Cols}, f)
	default:
		codes = safetensors.FromUint8(name, []int{q.Rows, q.Stride()}, q.Packed)
	}
	return []safetensors.Tensor{codes, safetensors.FromFloat32(name+".scale", []int{q.Rows}, q.RowScales())}
}

// ReadWeights rebuilds the speculator with projection p and bias b (so
// N = len(b)) from the tensors WeightTensors wrote under name with the
// given bits. Shapes, codes out of range and missing tensors give errors
// wrapping ErrFormat.
func ReadWeights(f *safetensors.File, name string, p Projector, b []float32, bits quant.Bits) (*Speculator, error) {
	n, k := len(b), p.K()
	t, err := weightTensor(&f.Header, name, n, k, bits)
	if err != nil {
		return nil, err
	}
	q := &quant.Matrix{Bits: bits, Rows: n, Cols: k}
	switch bits {
	case FP32:
		w, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
		}
		return NewSpeculator(p, w, b), nil
	case quant.Int8:
		q.I8, err = t.Int8s()
		for _, v := range q.I8 {
			if int(v) < -bits.Max() {
				return nil, fmt.Errorf("%w: %s holds %d, not an INT8 code", ErrFormat, name, v)
			}
		}
	case quant.Int16:
		var w []float32
		if w, err = t.Float32s(); err == nil {
			q.I16 = make([]int16, len(w))
			for i, v := range w {
				if v != float32(int16(v)) || int(v) > bits.Max() || int(v) < -bits.Max() {
					return nil, fmt.Errorf("%w: %s holds %v, not an INT16 code", ErrFormat, name, v)
				}
				q.I16[i] = int16(v)
			}
		}
	case quant.Int4, quant.Int2:
		q.Packed, err = t.Uint8s()
	default:
		return nil, fmt.Errorf("%w: %s: unsupported width %d bits", ErrFormat, name, int(bits))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
	}
	if q.Scales, err = ReadVector(f, name+".scale", n); err != nil {
		return nil, err
	}
	w := q.Dequantize()
	// Finite codes and scales can still overflow float32 together (a
	// scale near the largest float times code 127): such a file is not one
	// Quantize wrote, and the kernels would turn it into infinities.
	for i, v := range w {
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			return nil, fmt.Errorf("%w: %s: weight %d (row %d) dequantizes to %v", ErrFormat, name, i, i/max(k, 1), v)
		}
	}
	sp := NewSpeculator(p, w, b)
	sp.Q = q
	return sp, nil
}

// CheckWeights checks, from the file header alone, that the tensors
// WeightTensors wrote under name hold an n×k W̃ of the given bits, so that
// a loader can refuse a file before it builds the k-row projection that
// ReadWeights needs.
func CheckWeights(h *safetensors.Header, name string, n, k int, bits quant.Bits) error {
	if _, err := weightTensor(h, name, n, k, bits); err != nil {
		return err
	}
	if bits == FP32 {
		return nil
	}
	_, err := CheckVector(h, name+".scale", n)
	return err
}

// weightTensor returns the codes tensor of an n×k W̃ after checking its shape.
func weightTensor(h *safetensors.Header, name string, n, k int, bits quant.Bits) (safetensors.Tensor, error) {
	t, err := h.Tensor(name)
	if err != nil {
		return t, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if n < 1 || k < 1 {
		return t, fmt.Errorf("%w: %s: %d×%d weights", ErrFormat, name, n, k)
	}
	wantCols := k
	if bits == quant.Int4 || bits == quant.Int2 {
		wantCols = (&quant.Matrix{Bits: bits, Rows: n, Cols: k}).Stride()
	}
	if len(t.Shape) != 2 || t.Shape[0] != n || t.Shape[1] != wantCols {
		return t, fmt.Errorf("%w: %s has shape %v, want [%d %d]", ErrFormat, name, t.Shape, n, wantCols)
	}
	return t, nil
}

// ReadVector reads the float32 vector called name, of length n unless
// n < 0; errors wrap ErrFormat.
func ReadVector(f *safetensors.File, name string, n int) ([]float32, error) {
	if _, err := CheckVector(&f.Header, name, n); err != nil {
		return nil, err
	}
	t, _ := f.Tensor(name)
	v, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
	}
	return v, nil
}

// CheckVector checks, from the header alone, that the tensor called name
// is a vector, of length n unless n < 0, and returns its length; errors
// wrap ErrFormat.
func CheckVector(h *safetensors.Header, name string, n int) (int, error) {
	t, err := h.Tensor(name)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if len(t.Shape) != 1 || (n >= 0 && t.Shape[0] != n) {
		return 0, fmt.Errorf("%w: %s has shape %v, want [%d]", ErrFormat, name, t.Shape, n)
	}
	return t.Shape[0], nil
}
