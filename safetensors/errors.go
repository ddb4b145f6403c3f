package safetensors

import "errors"

// MaxHeaderSize bounds the JSON header length accepted by Read. The
// reference implementation uses the same 100 MB limit; a larger header is
// treated as corruption rather than allocated.
const MaxHeaderSize = 100 << 20

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers can test with errors.Is; the wrapping message names the tensor.
var (
	// ErrTruncated: the file ends before its header or data does.
	ErrTruncated = errors.New("safetensors: truncated file")
	// ErrHeaderTooLarge: the header length exceeds the file or MaxHeaderSize.
	ErrHeaderTooLarge = errors.New("safetensors: header length too large")
	// ErrHeader: the header is not valid UTF-8 JSON of the expected form.
	ErrHeader = errors.New("safetensors: malformed header")
	// ErrDType: an unknown dtype, or a conversion the dtype does not allow.
	ErrDType = errors.New("safetensors: unsupported dtype")
	// ErrShape: a negative dimension or an element count that overflows.
	ErrShape = errors.New("safetensors: invalid shape")
	// ErrSize: the data length differs from element count times dtype size.
	ErrSize = errors.New("safetensors: data length does not match shape")
	// ErrOffsets: data_offsets are malformed, reversed or out of bounds.
	ErrOffsets = errors.New("safetensors: invalid data offsets")
	// ErrOverlap: two tensors share bytes of the data buffer.
	ErrOverlap = errors.New("safetensors: overlapping tensor data")
	// ErrGap: part of the data buffer belongs to no tensor.
	ErrGap = errors.New("safetensors: data buffer has a gap")
	// ErrDuplicate: a tensor name (or the metadata key) appears twice.
	ErrDuplicate = errors.New("safetensors: duplicate name")
	// ErrChecksum: the tensor bytes disagree with the checksum stored
	// under ChecksumKey; the file was corrupted after it was written.
	ErrChecksum = errors.New("safetensors: checksum mismatch")
	// ErrName: a tensor name that cannot be written (reserved or not UTF-8).
	ErrName = errors.New("safetensors: invalid tensor name")
	// ErrNotFound: File.Tensor was asked for a name the file lacks.
	ErrNotFound = errors.New("safetensors: tensor not found")
	// ErrNonFinite: CheckFinite found a NaN or an infinity.
	ErrNonFinite = errors.New("safetensors: non-finite value")
)
