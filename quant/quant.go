package quant

import (
	"errors"
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
)

// Bits is a quantization bit width.
type Bits int

// The supported bit widths.
const (
	Int2  Bits = 2
	Int4  Bits = 4
	Int8  Bits = 8
	Int16 Bits = 16
)

// Max returns the largest code magnitude, 2^(b−1) − 1: codes lie in
// [−Max, Max], a range symmetric about zero so that negation is exact.
func (b Bits) Max() int { return 1<<(b-1) - 1 }

func (b Bits) valid() bool { return b == Int2 || b == Int4 || b == Int8 || b == Int16 }

func (b Bits) String() string {
	if b.valid() {
		return fmt.Sprintf("INT%d", int(b))
	}
	return fmt.Sprintf("Bits(%d)", int(b))
}

var (
	// ErrBits is returned, wrapped, for an unsupported bit width.
	ErrBits = errors.New("quant: unsupported bit width")
	// ErrNotFinite is returned, wrapped, when the input holds NaN or ±Inf.
	ErrNotFinite = errors.New("quant: value is not finite")
)

// Matrix is a quantized rows×cols matrix: element (i, j) is
// Code(i, j)·Scale(i). Exactly one of the code slices is set, according to
// Bits; I8 and Packed are in the layouts kernels.GemvInt8 and
// kernels.GemvInt4 read.
type Matrix struct {
	Bits       Bits
	Rows, Cols int

	// Scales has one entry per row, or a single entry shared by all rows.
	Scales []float32

	I8     []int8  // Int8: Rows×Cols codes, row-major
	I16    []int16 // Int16: Rows×Cols codes, row-major
	Packed []byte  // Int4, Int2: Rows×Stride() bytes, see PackInt4, PackInt2
}

// Stride returns the distance between rows of the code slice, in its
// elements: Cols for Int8 and Int16, bytes per packed row for Int4 and Int2.
func (m *Matrix) Stride() int { return stride(m.Bits, m.Cols) }

func stride(b Bits, cols int) int {
	switch b {
	case Int4:
		return (cols + 1) / 2
	case Int2:
		return (cols + 3) / 4
	}
	return cols
}

// Scale returns the scale of row i.
func (m *Matrix) Scale(i int) float32 {
	if len(m.Scales) == 1 {
		return m.Scales[0]
	}
	return m.Scales[i]
}

// RowScales returns one scale per row: Scales itself when per-row, else a
// new slice repeating the shared scale, for kernels that take per-row
// scales.
func (m *Matrix) RowScales() []float32 {
	if len(m.Scales) == m.Rows {
		return m.Scales
	}
	s := make([]float32, m.Rows)
	for i := range s {
		s[i] = m.Scales[0]
	}
	return s
}

// Quantize quantizes the row-major rows×cols matrix w to the given bit
// width with one scale per row (perRow) or one for the whole matrix. Each
// scale is max|w|/bits.Max() over its row or the matrix, and codes are
// round-half-away-from-zero of w/scale, so |w − code·scale| <= scale/2. A
// group of zeros (or of values so small that the scale underflows) gets
// scale 0 and zero codes. It returns an error wrapping ErrBits for an
// unsupported width and ErrNotFinite, naming the first position, if w
// holds NaN or ±Inf. It panics if the shape does not match len(w).
func Quantize(w []float32, rows, cols int, bits Bits, perRow bool) (*Matrix, error) {
	if rows < 0 || cols < 0 || len(w) != rows*cols {
		panic(fmt.Sprintf("quant: Quantize shape %d×%d does not match len(w)=%d", rows, cols, len(w)))
	}
	if !bits.valid() {
		return nil, fmt.Errorf("quant: %v: %w", bits, ErrBits)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("quant: w[%d] (row %d, col %d) = %v: %w", i, i/cols, i%cols, v, ErrNotFinite)
		}
	}
	qmax := float64(bits.Max())
	m := NewMatrix(bits, rows, cols)
	if perRow {
		for i := range rows {
			m.Scales[i] = float32(float64(maxAbs(w[i*cols:(i+1)*cols])) / qmax)
		}
	} else {
		m.Scales = []float32{float32(float64(maxAbs(w)) / qmax)}
	}
	codes := make([]int8, cols) // one row, for the packed widths
	for i := range rows {
		s := float64(m.Scale(i))
		row := w[i*cols : (i+1)*cols]
		for j, v := range row {
			var q float64
			if s != 0 {
				q = max(-qmax, min(qmax, math.Round(float64(v)/s)))
			}
			switch bits {
			case Int8:
				m.I8[i*cols+j] = int8(q)
			case Int16:
				m.I16[i*cols+j] = int16(q)
			default:
				codes[j] = int8(q)
			}
		}
		switch bits {
		case Int4:
			PackInt4(m.Packed[i*m.Stride():(i+1)*m.Stride()], codes)
		case Int2:
			PackInt2(m.Packed[i*m.Stride():(i+1)*m.Stride()], codes)
		}
	}
	return m, nil
}

func maxAbs(w []float32) float32 {
	var m float32
	for _, v := range w {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

// Code returns the integer code of element (i, j). It panics if (i, j) is
// out of range.
func (m *Matrix) Code(i, j int) int {
	if uint(i) >= uint(m.Rows) || uint(j) >= uint(m.Cols) {
		panic(fmt.Sprintf("quant: index (%d, %d) out of range for %d×%d matrix", i, j, m.Rows, m.Cols))
	}
	switch m.Bits {
	case Int8:
		return int(m.I8[i*m.Cols+j])
	case Int16:
		return int(m.I16[i*m.Cols+j])
	case Int4:
		b := m.Packed[i*m.Stride()+j/2]
		return int(b>>(4*(j%2))&0xf) - 8
	case Int2:
		b := m.Packed[i*m.Stride()+j/4]
		return int(b>>(2*(j%4))&3) - 2
	}
	panic(fmt.Sprintf("quant: Matrix with %v", m.Bits))
}

// At returns the dequantized element (i, j).
func (m *Matrix) At(i, j int) float32 { return float32(m.Code(i, j)) * m.Scale(i) }

// Dequantize returns the matrix as a new row-major []float32.
func (m *Matrix) Dequantize() []float32 {
	w := make([]float32, m.Rows*m.Cols)
	codes := make([]int8, m.Cols)
	for i := range m.Rows {
		s := m.Scale(i)
		row := w[i*m.Cols : (i+1)*m.Cols]
		switch m.Bits {
		case Int8:
			for j, q := range m.I8[i*m.Cols : (i+1)*m.Cols] {
				row[j] = float32(q) * s
			}
			continue
		case Int16:
			for j, q := range m.I16[i*m.Cols : (i+1)*m.Cols] {
				row[j] = float32(q) * s
			}
			continue
		case Int4:
			UnpackInt4(codes, m.Packed[i*m.Stride():(i+1)*m.Stride()])
		case Int2:
			UnpackInt2(codes, m.Packed[i*m.Stride():(i+1)*m.Stride()])
		}
		for j, q := range codes {
			row[j] = float32(q) * s
		}
	}
	return w
}

// Bytes returns the storage size of the matrix in bytes: codes plus 4 per
// scale.
func (m *Matrix) Bytes() int {
	return len(m.I8) + 2*len(m.I16) + len(m.Packed) + 4*len(m.Scales)
}

// NewMatrix returns a zero rows×cols matrix of the given width with one
// scale per row, to be filled block by block with SetRows. It panics for
// an unsupported width or a negative shape.
func NewMatrix(bits Bits, rows, cols int) *Matrix {
	if !bits.valid() || rows < 0 || cols < 0 {
		panic(fmt.Sprintf("quant: NewMatrix(%v, %d, %d)", bits, rows, cols))
	}
	m := &Matrix{Bits: bits, Rows: rows, Cols: cols, Scales: make([]float32, rows)}
	switch bits {
	case Int8:
		m.I8 = kernels.Make[int8](rows * cols)
	case Int16:
		m.I16 = kernels.Make[int16](rows * cols)
	default:
		m.Packed = kernels.Make[byte](rows * m.Stride())
	}
	return m
}

// SetRows copies the rows of b, a per-row-scaled matrix of m's width and
// columns, into m starting at row lo, so that a matrix too large to
// quantize at once can be built from blocks quantized by Quantize. It
// panics if b does not fit.
func (m *Matrix) SetRows(lo int, b *Matrix) {
	if b.Bits != m.Bits || b.Cols != m.Cols || len(b.Scales) != b.Rows || len(m.Scales) != m.Rows || lo < 0 || lo+b.Rows > m.Rows {
		panic(fmt.Sprintf("quant: SetRows: %v %d×%d block at row %d of a %v %d×%d matrix", b.Bits, b.Rows, b.Cols, lo, m.Bits, m.Rows, m.Cols))
	}
	copy(m.Scales[lo:], b.Scales)
	switch m.Bits {
	case Int8:
		copy(m.I8[lo*m.Cols:], b.I8)
	case Int16:
		copy(m.I16[lo*m.Cols:], b.I16)
	default:
		copy(m.Packed[lo*m.Stride():], b.Packed)
	}
}
