package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/elasticml/elastic/budget"
)

// metadataKey is the reserved header key holding free-form string metadata.
const metadataKey = "__metadata__"

// File is a parsed, validated safetensors file held in memory.
type File struct {
	tensors  map[string]Tensor
	names    []string // sorted
	meta     map[string]string
	checksum ChecksumStatus
}

// ReadFile reads and validates the safetensors file at path. It refuses a
// path that is not a regular file (a device or pipe that may never end)
// and a file larger than the process's memory budget, before reading.
func ReadFile(path string) (*File, error) {
	f, size, err := budget.Open(path, budget.Limit())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := Read(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Read reads and validates a safetensors file of size bytes from r. The
// header is fully validated before the data buffer is allocated, and no
// allocation depends on a length taken from the file without first being
// checked against size.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("%w: %d bytes, need at least 8", ErrTruncated, size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrHeaderTooLarge, n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, fmt.Errorf("%w: %d bytes in a %d-byte file", ErrHeaderTooLarge, n, size)
	}
	hdr := make([]byte, n)
	if err := readFull(r, hdr, 8); err != nil {
		return nil, err
	}
	bufLen := size - 8 - int64(n)
	if bufLen > math.MaxInt {
		return nil, fmt.Errorf("%w: %d-byte data buffer", ErrOffsets, bufLen)
	}
	entries, meta, err := parseHeader(hdr, int(bufLen))
	if err != nil {
		return nil, err
	}
	if bufLen > 0 {
		// Probe the last byte so a reader shorter than the claimed size
		// fails before the buffer is allocated.
		var last [1]byte
		if err := readFull(r, last[:], size-1); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, bufLen)
	if err := readFull(r, buf, 8+int64(n)); err != nil {
		return nil, err
	}
	f := &File{tensors: make(map[string]Tensor, len(entries)), meta: meta}
	for _, e := range entries {
		e.t.Data = buf[e.begin:e.end:e.end]
		f.tensors[e.t.Name] = e.t
		f.names = append(f.names, e.t.Name)
	}
	slices.Sort(f.names)
	if err := f.verify(); err != nil {
		return nil, err
	}
	return f, nil
}

// readFull reads len(p) bytes at off, reporting a short read as ErrTruncated.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: read %d of %d bytes at offset %d", ErrTruncated, n, len(p), off)
	}
	return err
}

// entry is a header record before the data buffer is attached.
type entry struct {
	t          Tensor
	begin, end int
}

// headerEntry mirrors one tensor's JSON object; pointers detect absence.
type headerEntry struct {
	DType       *string `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// parseHeader decodes and validates the JSON header against a data buffer
// of bufLen bytes. It walks the top-level object token by token because
// encoding/json silently keeps the last of duplicate keys.
func parseHeader(hdr []byte, bufLen int) ([]entry, map[string]string, error) {
	if !utf8.Valid(hdr) {
		return nil, nil, fmt.Errorf("%w: not valid UTF-8", ErrHeader)
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("%w: header is not a JSON object", ErrHeader)
	}
	var (
		entries []entry
		meta    map[string]string
		hasMeta bool
		seen    = make(map[string]bool)
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrHeader, err)
		}
		name := tok.(string) // object keys are always strings
		if name == metadataKey {
			if hasMeta {
				return nil, nil, fmt.Errorf("%w: %q appears twice", ErrDuplicate, metadataKey)
			}
			hasMeta = true
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%w: %s: %v", ErrHeader, metadataKey, err)
			}
			continue
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, ErrDuplicate)
		}
		seen[name] = true
		var he headerEntry
		if err := dec.Decode(&he); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w: %v", name, ErrHeader, err)
		}
		e, err := he.entry(name, bufLen)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		entries = append(entries, e)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, nil, fmt.Errorf("%w: unterminated object", ErrHeader)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: trailing data after the header object", ErrHeader)
	}
	if err := checkCoverage(entries, bufLen); err != nil {
		return nil, nil, err
	}
	return entries, meta, nil
}

// entry validates one header record; errors are wrapped with the name by
// the caller.
func (he *headerEntry) entry(name string, bufLen int) (entry, error) {
	if he.DType == nil || he.Shape == nil || he.DataOffsets == nil {
		return entry{}, fmt.Errorf("%w: need dtype, shape and data_offsets", ErrHeader)
	}
	dt, err := parseDType(*he.DType)
	if err != nil {
		return entry{}, err
	}
	shape := make([]int, len(he.Shape))
	for i, d := range he.Shape {
		if d < 0 || d > math.MaxInt {
			return entry{}, fmt.Errorf("%w: dimension %d", ErrShape, d)
		}
		shape[i] = int(d)
	}
	if len(he.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("%w: %d data_offsets, want 2", ErrOffsets, len(he.DataOffsets))
	}
	begin, end := he.DataOffsets[0], he.DataOffsets[1]
	switch {
	case begin < 0 || end < 0:
		return entry{}, fmt.Errorf("%w: negative offset in [%d, %d]", ErrOffsets, begin, end)
	case begin > end:
		return entry{}, fmt.Errorf("%w: begin %d > end %d", ErrOffsets, begin, end)
	case end > int64(bufLen):
		return entry{}, fmt.Errorf("%w: end %d beyond the %d-byte buffer", ErrOffsets, end, bufLen)
	}
	n, err := numElements(shape)
	if err != nil {
		return entry{}, err
	}
	if size := dt.Size(); n > math.MaxInt/size || n*size != int(end-begin) {
		return entry{}, fmt.Errorf("%w: %d bytes for shape %v of %v", ErrSize, end-begin, shape, dt)
	}
	return entry{t: Tensor{Name: name, DType: dt, Shape: shape}, begin: int(begin), end: int(end)}, nil
}

// checkCoverage requires the tensors to tile [0, bufLen) exactly, as the
// format demands: no byte shared, no byte unclaimed.
func checkCoverage(entries []entry, bufLen int) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b entry) int {
		if a.begin != b.begin {
			return a.begin - b.begin
		}
		return a.end - b.end
	})
	pos, prev := 0, ""
	for _, e := range sorted {
		switch {
		case e.begin < pos:
			return fmt.Errorf("tensor %q: %w with %q at byte %d", e.t.Name, ErrOverlap, prev, e.begin)
		case e.begin > pos:
			return fmt.Errorf("tensor %q: %w: bytes [%d, %d) unclaimed", e.t.Name, ErrGap, pos, e.begin)
		}
		pos, prev = e.end, e.t.Name
	}
	if pos != bufLen {
		return fmt.Errorf("%w: bytes [%d, %d) after the last tensor", ErrGap, pos, bufLen)
	}
	return nil
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string { return slices.Clone(f.names) }

// Len returns the number of tensors.
func (f *File) Len() int { return len(f.names) }

// Tensor returns the named tensor, or an error wrapping ErrNotFound. Its
// Data shares the file's buffer and must not be modified.
func (f *File) Tensor(name string) (Tensor, error) {
	t, ok := f.tensors[name]
	if !ok {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, ErrNotFound)
	}
	t.Shape = slices.Clone(t.Shape)
	return t, nil
}

// Tensors returns every tensor in name order, sharing the file's buffer.
func (f *File) Tensors() []Tensor {
	ts := make([]Tensor, len(f.names))
	for i, name := range f.names {
		ts[i], _ = f.Tensor(name)
	}
	return ts
}

// Metadata returns a copy of the header's "__metadata__" map (nil if the
// file has none).
func (f *File) Metadata() map[string]string { return maps.Clone(f.meta) }

// CheckFinite returns an error wrapping ErrNonFinite for the first NaN or
// infinity, scanning tensors in name order, naming the tensor and the flat
// (row-major) index. Integer tensors are always finite.
func (f *File) CheckFinite() error {
	for _, name := range f.names {
		t := f.tensors[name]
		if i, v, ok := firstNonFinite(t); ok {
			return fmt.Errorf("tensor %q: %w: %v at flat index %d", name, ErrNonFinite, v, i)
		}
	}
	return nil
}

// firstNonFinite tests exponent bits directly, so no conversion is needed.
func firstNonFinite(t Tensor) (int, float64, bool) {
	le := binary.LittleEndian
	switch t.DType {
	case F16:
		for i := 0; 2*i+1 < len(t.Data); i++ {
			if h := le.Uint16(t.Data[2*i:]); h&0x7c00 == 0x7c00 {
				return i, float64(Float16ToFloat32(h)), true
			}
		}
	case BF16:
		for i := 0; 2*i+1 < len(t.Data); i++ {
			if h := le.Uint16(t.Data[2*i:]); h&0x7f80 == 0x7f80 {
				return i, float64(BFloat16ToFloat32(h)), true
			}
		}
	case F32:
		for i := 0; 4*i+3 < len(t.Data); i++ {
			if b := le.Uint32(t.Data[4*i:]); b&0x7f800000 == 0x7f800000 {
				return i, float64(math.Float32frombits(b)), true
			}
		}
	case F64:
		for i := 0; 8*i+7 < len(t.Data); i++ {
			if b := le.Uint64(t.Data[8*i:]); b&0x7ff0000000000000 == 0x7ff0000000000000 {
				return i, math.Float64frombits(b), true
			}
		}
	}
	return 0, 0, false
}
