package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tensor is one named tensor: its element type, its shape (row-major, the
// last dimension varying fastest) and its raw little-endian bytes.
//
// Tensors returned by a File share the file's buffer; treat their Data as
// read-only. The typed accessors always return fresh slices.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of t's shape, or an error wrapping
// ErrShape if a dimension is negative or the product overflows an int.
func (t Tensor) NumElements() (int, error) { return numElements(t.Shape) }

func numElements(shape []int) (int, error) {
	n := 1
	zero := false
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension %d in %v", ErrShape, d, shape)
		}
		if d == 0 {
			zero = true
		}
	}
	if zero {
		return 0, nil
	}
	for _, d := range shape {
		if n > math.MaxInt/d {
			return 0, fmt.Errorf("%w: element count of %v overflows", ErrShape, shape)
		}
		n *= d
	}
	return n, nil
}

// validate checks dtype, shape and data length, as both Read and Write must.
func (t Tensor) validate() error {
	if !t.DType.Valid() {
		return fmt.Errorf("tensor %q: %w %v", t.Name, ErrDType, t.DType)
	}
	n, err := t.NumElements()
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	size := t.DType.Size()
	if n > math.MaxInt/size {
		return fmt.Errorf("tensor %q: %w: %d elements of %v overflow", t.Name, ErrShape, n, t.DType)
	}
	if len(t.Data) != n*size {
		return fmt.Errorf("tensor %q: %w: %d bytes for shape %v of %v (want %d)",
			t.Name, ErrSize, len(t.Data), t.Shape, t.DType, n*size)
	}
	return nil
}

// Float32s returns t's elements as float32. F16, BF16 and F32 convert
// exactly; F64 rounds to nearest. Other dtypes return an error wrapping
// ErrDType.
func (t Tensor) Float32s() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("tensor %q: %w: Float32s of %v", t.Name, ErrDType, t.DType)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	out := make([]float32, len(t.Data)/t.DType.Size())
	le := binary.LittleEndian
	switch t.DType {
	case F16:
		for i := range out {
			out[i] = Float16ToFloat32(le.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BFloat16ToFloat32(le.Uint16(t.Data[2*i:]))
		}
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.Data[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(t.Data[8*i:])))
		}
	}
	return out, nil
}

// Int8s returns the elements of an I8 tensor.
func (t Tensor) Int8s() ([]int8, error) {
	if t.DType != I8 {
		return nil, fmt.Errorf("tensor %q: %w: Int8s of %v", t.Name, ErrDType, t.DType)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	out := make([]int8, len(t.Data))
	for i, b := range t.Data {
		out[i] = int8(b)
	}
	return out, nil
}

// Uint8s returns a copy of the elements of a U8 tensor.
func (t Tensor) Uint8s() ([]uint8, error) {
	if t.DType != U8 {
		return nil, fmt.Errorf("tensor %q: %w: Uint8s of %v", t.Name, ErrDType, t.DType)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	return append([]uint8(nil), t.Data...), nil
}

// checkLen panics when a constructor's data does not fill shape: that is a
// programming error, not a property of a file.
func checkLen(fn string, shape []int, n int) {
	want, err := numElements(shape)
	if err != nil {
		panic("safetensors: " + fn + ": " + err.Error())
	}
	if want != n {
		panic(fmt.Sprintf("safetensors: %s: %d values for shape %v (want %d)", fn, n, shape, want))
	}
}

// FromFloat32 returns an F32 tensor holding data. It panics if len(data)
// differs from the product of shape.
func FromFloat32(name string, shape []int, data []float32) Tensor {
	checkLen("FromFloat32", shape, len(data))
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: append([]int(nil), shape...), Data: b}
}

// FromFloat16 returns an F16 tensor holding data rounded to half precision
// (nearest, ties to even). It panics if len(data) differs from the product
// of shape.
func FromFloat16(name string, shape []int, data []float32) Tensor {
	checkLen("FromFloat16", shape, len(data))
	b := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(b[2*i:], Float32ToFloat16(v))
	}
	return Tensor{Name: name, DType: F16, Shape: append([]int(nil), shape...), Data: b}
}

// FromBFloat16 returns a BF16 tensor holding data rounded to bfloat16
// (nearest, ties to even). It panics if len(data) differs from the product
// of shape.
func FromBFloat16(name string, shape []int, data []float32) Tensor {
	checkLen("FromBFloat16", shape, len(data))
	b := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(b[2*i:], Float32ToBFloat16(v))
	}
	return Tensor{Name: name, DType: BF16, Shape: append([]int(nil), shape...), Data: b}
}

// FromInt8 returns an I8 tensor holding data. It panics if len(data)
// differs from the product of shape.
func FromInt8(name string, shape []int, data []int8) Tensor {
	checkLen("FromInt8", shape, len(data))
	b := make([]byte, len(data))
	for i, v := range data {
		b[i] = byte(v)
	}
	return Tensor{Name: name, DType: I8, Shape: append([]int(nil), shape...), Data: b}
}

// FromUint8 returns a U8 tensor holding a copy of data. It panics if
// len(data) differs from the product of shape.
func FromUint8(name string, shape []int, data []uint8) Tensor {
	checkLen("FromUint8", shape, len(data))
	return Tensor{Name: name, DType: U8, Shape: append([]int(nil), shape...), Data: append([]byte(nil), data...)}
}

// Int32s returns the elements of an I32 tensor.
func (t Tensor) Int32s() ([]int32, error) {
	if t.DType != I32 {
		return nil, fmt.Errorf("tensor %q: %w: Int32s of %v", t.Name, ErrDType, t.DType)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// FromInt32 returns an I32 tensor holding data. It panics if len(data)
// differs from the product of shape.
func FromInt32(name string, shape []int, data []int32) Tensor {
	checkLen("FromInt32", shape, len(data))
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return Tensor{Name: name, DType: I32, Shape: append([]int(nil), shape...), Data: b}
}
