package safetensors

import "fmt"

// DType is the element type of a tensor. The zero value is invalid.
type DType uint8

// The element types this package reads and writes.
const (
	F16 DType = iota + 1
	BF16
	F32
	F64
	I8
	U8
	I32
	I64
)

var dtypeNames = [...]string{
	F16:  "F16",
	BF16: "BF16",
	F32:  "F32",
	F64:  "F64",
	I8:   "I8",
	U8:   "U8",
	I32:  "I32",
	I64:  "I64",
}

var dtypeSizes = [...]int{
	F16:  2,
	BF16: 2,
	F32:  4,
	F64:  8,
	I8:   1,
	U8:   1,
	I32:  4,
	I64:  8,
}

// String returns the name the safetensors header uses for d, such as "F32".
func (d DType) String() string {
	if d.Valid() {
		return dtypeNames[d]
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Valid reports whether d is one of the supported element types.
func (d DType) Valid() bool { return d >= F16 && d <= I64 }

// Size returns the size of one element in bytes, or 0 if d is invalid.
func (d DType) Size() int {
	if d.Valid() {
		return dtypeSizes[d]
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == F16 || d == BF16 || d == F32 || d == F64 }

// parseDType maps a header dtype name to a DType.
func parseDType(s string) (DType, error) {
	for d := F16; d <= I64; d++ {
		if dtypeNames[d] == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrDType, s)
}
