package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"slices"
	"testing"
)

// headerOnly is a ReaderAt that fails any read past the header, so a test
// can tell that ReadHeader never touches the tensor bytes.
type headerOnly struct {
	b     []byte
	limit int64 // first byte of the data buffer
}

var errDataRead = errors.New("read of tensor bytes")

func (r headerOnly) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.limit {
		return 0, errDataRead
	}
	return copy(p, r.b[off:]), nil
}

func TestReadHeaderKnownBytes(t *testing.T) {
	r := headerOnly{b: goldenBytes, limit: 8 + 144}
	h, start, err := ReadHeader(r, int64(len(goldenBytes)))
	if err != nil {
		t.Fatal(err)
	}
	if start != 152 || h.DataSize() != 11 {
		t.Errorf("data buffer at %d, %d bytes; want 152, 11", start, h.DataSize())
	}
	if got := h.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("names %v", got)
	}
	if got := h.Metadata(); !maps.Equal(got, map[string]string{"format": "pt"}) {
		t.Errorf("metadata %v", got)
	}
	for _, want := range []Tensor{{Name: "a", DType: F32, Shape: []int{2}}, {Name: "b", DType: U8, Shape: []int{3}}} {
		got, err := h.Tensor(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || got.Data != nil {
			t.Errorf("tensor %s: %v %v with %d data bytes, want %v %v and none", want.Name, got.DType, got.Shape, len(got.Data), want.DType, want.Shape)
		}
	}
	// Read needs the bytes ReadHeader does not.
	if _, err := Read(r, int64(len(goldenBytes))); !errors.Is(err, errDataRead) {
		t.Errorf("Read through the header-only reader: %v, want %v", err, errDataRead)
	}
}

func TestReadHeaderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"short", goldenBytes[:7], ErrTruncated},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), ErrHeaderTooLarge},
		{"header beyond the file", goldenBytes[:100], ErrHeaderTooLarge},
		// The header's offsets must tile the rest of the file, so a
		// truncated data buffer is refused from the header alone.
		{"data cut short", goldenBytes[:len(goldenBytes)-1], ErrOffsets},
		{"data too long", append(slices.Clone(goldenBytes), 0), ErrGap},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), ErrOverlap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := ReadHeader(bytes.NewReader(tc.b), int64(len(tc.b)))
			if !errors.Is(err, tc.want) || h != nil {
				t.Errorf("got %v, %v; want %v", h, err, tc.want)
			}
		})
	}
}

// FuzzReadHeader checks ReadHeader against Read: whatever Read accepts,
// ReadHeader accepts with the same names, dtypes, shapes and metadata, and
// without reading a byte of the data buffer.
func FuzzReadHeader(f *testing.F) {
	f.Add(goldenBytes)
	f.Add(file(`{"a":{"dtype":"BF16","shape":[2,0],"data_offsets":[0,0]},"__metadata__":{"x":"y"}}`, nil))
	f.Add(file(`{"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(goldenBytes[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		st, rerr := Read(bytes.NewReader(b), size)
		h, start, err := ReadHeader(bytes.NewReader(b), size)
		if err != nil {
			if h != nil {
				t.Fatal("Header returned with an error")
			}
			if rerr == nil {
				t.Fatalf("Read accepts what ReadHeader refuses: %v", err)
			}
			return
		}
		// Read again through a reader that refuses the data bytes.
		h2, start2, err := ReadHeader(headerOnly{b: b, limit: start}, size)
		if err != nil || start2 != start {
			t.Fatalf("ReadHeader read past the header at %d: %v", start, err)
		}
		if start+h2.DataSize() != size {
			t.Fatalf("header ends at %d with %d data bytes in a %d-byte file", start, h2.DataSize(), size)
		}
		if rerr != nil {
			return // the checksum, which needs the bytes
		}
		if !slices.Equal(h.Names(), st.Names()) || !maps.Equal(h.Metadata(), st.Metadata()) || h.DataSize() != st.DataSize() {
			t.Fatalf("header %v %v, file %v %v", h.Names(), h.Metadata(), st.Names(), st.Metadata())
		}
		var sum int64
		for _, ft := range st.Tensors() {
			ht, err := h.Tensor(ft.Name)
			if err != nil || ht.DType != ft.DType || !slices.Equal(ht.Shape, ft.Shape) || ht.Data != nil {
				t.Fatalf("tensor %q: header %v %v (%d bytes), file %v %v", ft.Name, ht.DType, ht.Shape, len(ht.Data), ft.DType, ft.Shape)
			}
			sum += int64(len(ft.Data))
		}
		if sum != h.DataSize() {
			t.Fatalf("tensors hold %d bytes, DataSize %d", sum, h.DataSize())
		}
	})
}
