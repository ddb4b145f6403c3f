package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/budget"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.safetensors from the writer")

const goldenPath = "testdata/golden.safetensors"

// goldenBytes is the golden file written out by hand: tensor "a" F32 [2] =
// {1, -2}, tensor "b" U8 [3] = {1, 2, 3}, metadata {"format": "pt"}.
var goldenBytes = slices.Concat(
	[]byte{0x90, 0, 0, 0, 0, 0, 0, 0}, // header length 144, little-endian
	[]byte(`{"__metadata__":{"format":"pt"},`+
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
		`"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}`+
		`      `), // 138 bytes of JSON + 6 spaces of padding
	[]byte{0x00, 0x00, 0x80, 0x3f}, // 1.0f
	[]byte{0x00, 0x00, 0x00, 0xc0}, // -2.0f
	[]byte{1, 2, 3},
)

func goldenTensors() ([]Tensor, map[string]string) {
	return []Tensor{
		FromUint8("b", []int{3}, []uint8{1, 2, 3}),
		FromFloat32("a", []int{2}, []float32{1, -2}),
	}, map[string]string{"format": "pt"}
}

func TestGolden(t *testing.T) {
	ts, meta := goldenTensors()
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("writer output differs from %s:\ngot  %q\nwant %q", goldenPath, buf.Bytes(), want)
	}
	if !bytes.Equal(want, goldenBytes) {
		t.Errorf("%s differs from the hand-written bytes:\ngot  %q\nwant %q", goldenPath, want, goldenBytes)
	}

	f, err := ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Names = %q", got)
	}
	if got := f.Metadata(); !maps.Equal(got, meta) {
		t.Errorf("Metadata = %v", got)
	}
	a, err := f.Tensor("a")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Float32s(); err != nil || !slices.Equal(got, []float32{1, -2}) {
		t.Errorf("a = %v, %v", got, err)
	}
	b, err := f.Tensor("b")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Uint8s(); err != nil || !slices.Equal(got, []uint8{1, 2, 3}) {
		t.Errorf("b = %v, %v", got, err)
	}
	if _, err := f.Tensor("c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tensor(c) error = %v, want ErrNotFound", err)
	}
}

func randomTensor(rng *rand.Rand, name string, dt DType, shape []int) Tensor {
	n, err := numElements(shape)
	if err != nil {
		panic(err)
	}
	data := make([]byte, n*dt.Size())
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	if dt.IsFloat() {
		// Keep random floats finite so CheckFinite has a clean baseline.
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(rng.NormFloat64())
		}
		switch dt {
		case F16:
			return FromFloat16(name, shape, vals)
		case BF16:
			return FromBFloat16(name, shape, vals)
		case F32:
			return FromFloat32(name, shape, vals)
		case F64:
			for i, v := range vals {
				binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(float64(v)))
			}
		}
	}
	return Tensor{Name: name, DType: dt, Shape: shape, Data: data}
}

func equalTensor(a, b Tensor) bool {
	return a.Name == b.Name && a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && bytes.Equal(a.Data, b.Data)
}

func TestRoundTrip(t *testing.T) {
	shapes := [][]int{{}, {0}, {1}, {7}, {3, 5}, {2, 0, 4}, {2, 3, 4}}
	for dt := F16; dt <= I64; dt++ {
		t.Run(dt.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(dt), 1))
			var ts []Tensor
			for i, s := range shapes {
				ts = append(ts, randomTensor(rng, string(rune('z'-i))+"/w", dt, s))
			}
			// A mixed-size companion checks alignment of the layout.
			ts = append(ts, randomTensor(rng, "odd", U8, []int{3}))
			path := filepath.Join(t.TempDir(), "m.safetensors")
			meta := map[string]string{"k": `quote " and \ and <tag>`, "ctl": "\x01\n"}
			if err := WriteFile(path, ts, meta); err != nil {
				t.Fatal(err)
			}
			f, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := maps.Clone(meta)
			want[ChecksumKey] = Checksum(ts)
			if f.Len() != len(ts) || !maps.Equal(f.Metadata(), want) || f.Checksum() != ChecksumVerified {
				t.Fatalf("read %d tensors, metadata %q, %v", f.Len(), f.Metadata(), f.Checksum())
			}
			raw, _ := os.ReadFile(path)
			hdrLen := binary.LittleEndian.Uint64(raw)
			for _, want := range ts {
				got, err := f.Tensor(want.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !equalTensor(got, want) {
					t.Errorf("%s: got %v %v %x, want %v %v %x", want.Name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
				}
				// Data must be aligned to its element size within the file.
				off := int(8+hdrLen) + int(bytesOffset(raw, got.Data))
				if len(got.Data) > 0 && off%got.DType.Size() != 0 {
					t.Errorf("%s: data at file offset %d, not %d-aligned", want.Name, off, got.DType.Size())
				}
			}
			if err := f.CheckFinite(); err != nil {
				t.Errorf("CheckFinite: %v", err)
			}
		})
	}
}

// bytesOffset finds where data lies in the file's buffer by content; the
// random tensors are long enough to be unique, and empty ones are skipped.
func bytesOffset(raw, data []byte) int {
	if len(data) == 0 {
		return 0
	}
	hdrLen := int(binary.LittleEndian.Uint64(raw))
	return bytes.Index(raw[8+hdrLen:], data)
}

func TestFloat32s(t *testing.T) {
	vals := []float32{0, 1, -2.5, 65504, 1e-3, float32(math.Inf(-1))}
	for _, tc := range []struct {
		tensor Tensor
		tol    float64
	}{
		{FromFloat32("f32", []int{6}, vals), 0},
		{FromFloat16("f16", []int{6}, vals), 1.0 / 1024},
		{FromBFloat16("bf16", []int{2, 3}, vals), 1.0 / 128},
	} {
		got, err := tc.tensor.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if math.IsInf(float64(v), 0) {
				if got[i] != v {
					t.Errorf("%s[%d] = %v, want %v", tc.tensor.Name, i, got[i], v)
				}
				continue
			}
			if d := math.Abs(float64(got[i] - v)); d > tc.tol*math.Abs(float64(v)) {
				t.Errorf("%s[%d] = %v, want %v (rel tol %v)", tc.tensor.Name, i, got[i], v, tc.tol)
			}
		}
	}
	i8 := FromInt8("q", []int{3}, []int8{-128, 0, 127})
	if got, err := i8.Int8s(); err != nil || !slices.Equal(got, []int8{-128, 0, 127}) {
		t.Errorf("Int8s = %v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		fn   func() error
		want error
	}{
		{"Float32s(I8)", func() error { _, err := i8.Float32s(); return err }, ErrDType},
		{"Int8s(F32)", func() error { _, err := FromFloat32("x", []int{1}, []float32{1}).Int8s(); return err }, ErrDType},
		{"Uint8s(I8)", func() error { _, err := i8.Uint8s(); return err }, ErrDType},
		{"short data", func() error {
			_, err := Tensor{Name: "x", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}.Float32s()
			return err
		}, ErrSize},
	} {
		if err := tc.fn(); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// file assembles a safetensors file from a header and a data buffer.
func file(header string, data []byte) []byte {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	return slices.Concat(n[:], []byte(header), data)
}

func TestReadMalformed(t *testing.T) {
	hugeLen := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	pastEnd := binary.LittleEndian.AppendUint64(nil, 100)
	ok := `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	data8 := make([]byte, 8)
	for _, tc := range []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short length", []byte{1, 0, 0}, ErrTruncated},
		{"header over cap", slices.Concat(hugeLen, make([]byte, 16)), ErrHeaderTooLarge},
		{"header past end", slices.Concat(pastEnd, []byte("{}")), ErrHeaderTooLarge},
		{"max uint64 length", slices.Concat(bytes.Repeat([]byte{0xff}, 8), []byte("{}")), ErrHeaderTooLarge},
		{"zero-length header", file("", nil), ErrHeader},
		{"not JSON", file("hello", nil), ErrHeader},
		{"JSON array", file("[]", nil), ErrHeader},
		{"unterminated", file(`{"a":`, nil), ErrHeader},
		{"trailing garbage", file("{}x", nil), ErrHeader},
		{"two objects", file("{}{}", nil), ErrHeader},
		{"invalid UTF-8", file("{\"\xff\":1}", nil), ErrHeader},
		{"entry not object", file(`{"a":1}`, nil), ErrHeader},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), ErrHeader},
		{"missing dtype", file(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"missing offsets", file(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), ErrHeader},
		{"fractional dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrHeader},
		{"metadata not strings", file(`{"__metadata__":{"k":1}}`, nil), ErrHeader},
		{"unknown dtype", file(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), ErrDType},
		{"lowercase dtype", file(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrDType},
		{"negative dim", file(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil), ErrShape},
		{"overflowing shape", file(`{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), ErrShape},
		{"overflowing bytes", file(`{"a":{"dtype":"I64","shape":[2305843009213693952],"data_offsets":[0,0]}}`, nil), ErrSize},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data8), ErrSize},
		{"one offset", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}`, data8), ErrOffsets},
		{"begin > end", file(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}`, data8), ErrOffsets},
		{"negative offset", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, data8), ErrOffsets},
		{"end out of bounds", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}`, data8), ErrOffsets},
		{"overlap", file(`{`+ok+`,"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data8), ErrOverlap},
		{"gap at start", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data8), ErrGap},
		{"one-byte gap", file(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[5],"data_offsets":[3,8]}}`, data8), ErrGap},
		{"trailing bytes", file(`{`+ok+`}`, make([]byte, 9)), ErrGap},
		{"duplicate name", file(`{`+ok+`,`+ok+`}`, data8), ErrDuplicate},
		{"duplicate metadata", file(`{"__metadata__":{},"__metadata__":{}}`, nil), ErrDuplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(tc.file), int64(len(tc.file)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read error = %v, want %v", err, tc.want)
			}
			if f != nil {
				t.Errorf("Read returned a File alongside error %v", err)
			}
		})
	}
}

func TestReadErrorNamesTensor(t *testing.T) {
	b := file(`{"w.0":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8))
	_, err := Read(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrSize) || !strings.Contains(err.Error(), `"w.0"`) {
		t.Errorf("error %q does not wrap ErrSize and name the tensor", err)
	}
}

// shortReader claims more bytes than it has, like a file truncated after Stat.
type shortReader struct{ *bytes.Reader }

func TestReadShortReader(t *testing.T) {
	r := shortReader{bytes.NewReader(goldenBytes[:len(goldenBytes)-2])}
	if _, err := Read(r, int64(len(goldenBytes))); !errors.Is(err, ErrTruncated) {
		t.Errorf("error = %v, want ErrTruncated", err)
	}
}

func TestWriteErrors(t *testing.T) {
	a := FromFloat32("a", []int{2}, []float32{1, 2})
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    error
	}{
		{"duplicate", []Tensor{a, FromUint8("b", []int{1}, []uint8{1}), a}, nil, ErrDuplicate},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int{0}}}, nil, ErrName},
		{"invalid UTF-8 name", []Tensor{{Name: "\xff", DType: U8, Shape: []int{0}}}, nil, ErrName},
		{"invalid dtype", []Tensor{{Name: "x", Shape: []int{0}}}, nil, ErrDType},
		{"size mismatch", []Tensor{{Name: "x", DType: F16, Shape: []int{2}, Data: make([]byte, 2)}}, nil, ErrSize},
		{"negative dim", []Tensor{{Name: "x", DType: U8, Shape: []int{-1}}}, nil, ErrShape},
		{"invalid metadata", []Tensor{a}, map[string]string{"k": "\xfe"}, ErrHeader},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, tc.tensors, tc.meta); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", tc.name, buf.Len())
		}
	}
}

func TestWriteFileKeepsOldOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	ts, meta := goldenTensors()
	if err := WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := []Tensor{{Name: "x", DType: F32, Shape: []int{2}}}
	if err := WriteFile(path, bad, nil); !errors.Is(err, ErrSize) {
		t.Fatalf("WriteFile error = %v, want ErrSize", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, old) {
		t.Errorf("original file changed after a failed write (err %v)", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestCheckFinite(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	f64 := Tensor{Name: "d", DType: F64, Shape: []int{2}, Data: binary.LittleEndian.AppendUint64(
		binary.LittleEndian.AppendUint64(nil, math.Float64bits(1)), math.Float64bits(math.Inf(-1)))}
	for _, tc := range []struct {
		tensor Tensor
		want   string // "" means finite
	}{
		{FromFloat32("f", []int{3}, []float32{1, 2, 3}), ""},
		{FromFloat32("f", []int{2, 2}, []float32{1, 2, nan, inf}), "at flat index 2"},
		{FromFloat16("h", []int{3}, []float32{1, 1e6, 0}), "+Inf at flat index 1"}, // 1e6 overflows half
		{FromBFloat16("bf", []int{2}, []float32{0, nan}), "NaN at flat index 1"},
		{FromUint8("u", []int{2}, []uint8{0xff, 0xff}), ""},
		{f64, "-Inf at flat index 1"},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, []Tensor{tc.tensor}, nil); err != nil {
			t.Fatal(err)
		}
		f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		err = f.CheckFinite()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.tensor.Name, err)
		case tc.want != "" && (!errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), `"`+tc.tensor.Name+`"`)):
			t.Errorf("%s: error %v, want ErrNonFinite naming the tensor and %q", tc.tensor.Name, err, tc.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(goldenBytes)
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Add(file(`{"a":{"dtype":"BF16","shape":[2,0],"data_offsets":[0,0]},"__metadata__":{"x":"y"}}`, nil))
	f.Add(file(`{"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(goldenBytes[:40])
	f.Add(binary.LittleEndian.AppendUint64(nil, math.MaxUint64))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if st != nil {
				t.Fatal("File returned with an error")
			}
			return
		}
		_ = st.CheckFinite()
		ts := st.Tensors()
		var buf bytes.Buffer
		if err := Write(&buf, ts, st.Metadata()); err != nil {
			t.Fatalf("re-writing a file that read cleanly: %v", err)
		}
		st2, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-reading our own output: %v", err)
		}
		ts2 := st2.Tensors()
		if len(ts) != len(ts2) || !maps.Equal(st.Metadata(), st2.Metadata()) {
			t.Fatalf("round trip changed the file: %d vs %d tensors", len(ts), len(ts2))
		}
		for i := range ts {
			if !equalTensor(ts[i], ts2[i]) {
				t.Fatalf("tensor %q changed in the round trip", ts[i].Name)
			}
		}
	})
}

func BenchmarkFloat32sF16(b *testing.B) {
	vals := make([]float32, 1<<16)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range vals {
		vals[i] = float32(rng.NormFloat64())
	}
	t := FromFloat16("w", []int{len(vals)}, vals)
	b.SetBytes(int64(len(t.Data)))
	for b.Loop() {
		if _, err := t.Float32s(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ts []Tensor
	for i := range 64 {
		ts = append(ts, randomTensor(rng, "layer."+string(rune('a'+i%26))+string(rune('a'+i/26)), F32, []int{64, 64}))
	}
	var buf bytes.Buffer
	if err := Write(&buf, ts, nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			b.Fatal(err)
		}
	}
}

// Issue 11: a device or pipe is refused by ReadFile before it is read.
func TestReadFileRefusesDevices(t *testing.T) {
	for _, p := range []string{"/dev/zero", t.TempDir()} {
		if _, err := ReadFile(p); !errors.Is(err, budget.ErrNotRegular) {
			t.Errorf("%s: %v, want budget.ErrNotRegular", p, err)
		}
	}
}

// Issue 11: a flipped bit in the tensor bytes of a file elastic wrote is
// caught on read; a file without a checksum (the golden file, as PyTorch
// writes them) still loads, its checksum reported absent.
func TestChecksum(t *testing.T) {
	g, err := ReadFile(goldenPath)
	if err != nil || g.Checksum() != ChecksumAbsent {
		t.Fatalf("golden file: %v, %v; want it to load with the checksum absent", err, g.Checksum())
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	ts, meta := goldenTensors()
	if err := WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil || f.Checksum() != ChecksumVerified {
		t.Fatalf("written file: %v, %v", err, f.Checksum())
	}
	hdr := 8 + int(binary.LittleEndian.Uint64(raw))
	for i := hdr; i < len(raw); i++ {
		for bit := range 8 {
			raw[i] ^= 1 << bit
			if _, err := Read(bytes.NewReader(raw), int64(len(raw))); !errors.Is(err, ErrChecksum) {
				t.Fatalf("bit %d of data byte %d flipped: %v, want ErrChecksum", bit, i-hdr, err)
			}
			raw[i] ^= 1 << bit
		}
	}
	// The checksum does not depend on the order tensors are given in.
	rev := slices.Clone(ts)
	slices.Reverse(rev)
	if Checksum(rev) != Checksum(ts) {
		t.Error("Checksum depends on the tensors' order")
	}
}

// TestInt32RoundTrip checks I32 tensors against known little-endian bytes
// and refuses reading another type as I32.
func TestInt32RoundTrip(t *testing.T) {
	ts := FromInt32("x", []int{3}, []int32{1, -2, 1 << 30})
	want := []byte{1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0x40}
	if !bytes.Equal(ts.Data, want) {
		t.Fatalf("bytes %v, want %v", ts.Data, want)
	}
	got, err := ts.Int32s()
	if err != nil || fmt.Sprint(got) != "[1 -2 1073741824]" {
		t.Errorf("Int32s = %v, %v", got, err)
	}
	if _, err := FromInt8("y", []int{1}, []int8{1}).Int32s(); !errors.Is(err, ErrDType) {
		t.Errorf("Int32s of I8: %v", err)
	}
}
