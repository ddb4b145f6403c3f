package quant

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// randMatrix returns rows×cols values whose rows have very different
// magnitudes, so per-row and per-tensor scales differ.
func randMatrix(rows, cols int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	w := make([]float32, rows*cols)
	for i := range rows {
		mag := math.Pow(10, 4*r.Float64()-2)
		for j := range cols {
			w[i*cols+j] = float32(mag * r.NormFloat64())
		}
	}
	return w
}

func TestQuantizeRoundTrip(t *testing.T) {
	shapes := []struct{ rows, cols int }{{0, 0}, {1, 1}, {1, 7}, {3, 5}, {4, 8}, {7, 33}, {16, 129}}
	for _, bits := range []Bits{Int2, Int4, Int8, Int16} {
		for _, perRow := range []bool{false, true} {
			for _, sh := range shapes {
				name := fmt.Sprintf("%v perRow=%v %d×%d", bits, perRow, sh.rows, sh.cols)
				w := randMatrix(sh.rows, sh.cols, uint64(sh.rows*1000+sh.cols))
				if sh.rows > 2 {
					// An all-zero row exercises the zero-scale guard.
					clear(w[2*sh.cols : 3*sh.cols])
				}
				m, err := Quantize(w, sh.rows, sh.cols, bits, perRow)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				checkMatrix(t, name, m, w, perRow)
			}
		}
	}
}

// checkMatrix asserts the properties Quantize promises.
func checkMatrix(t *testing.T, name string, m *Matrix, w []float32, perRow bool) {
	t.Helper()
	wantScales := 1
	if perRow {
		wantScales = m.Rows
	}
	if len(m.Scales) != wantScales {
		t.Fatalf("%s: %d scales, want %d", name, len(m.Scales), wantScales)
	}
	qmax := float64(m.Bits.Max())
	// Scale is max|w|/qmax over its group.
	for g := range m.Scales {
		group := w
		if perRow {
			group = w[g*m.Cols : (g+1)*m.Cols]
		}
		var mx float64
		for _, v := range group {
			mx = max(mx, math.Abs(float64(v)))
		}
		if want := mx / qmax; math.Abs(float64(m.Scales[g])-want) > want*1e-7 {
			t.Fatalf("%s: scale[%d] = %v, want %v", name, g, m.Scales[g], want)
		}
	}
	deq := m.Dequantize()
	if len(deq) != len(w) {
		t.Fatalf("%s: Dequantize returned %d values, want %d", name, len(deq), len(w))
	}
	for i := range m.Rows {
		s := float64(m.Scale(i))
		for j := range m.Cols {
			v := float64(w[i*m.Cols+j])
			c := m.Code(i, j)
			if math.Abs(float64(c)) > qmax {
				t.Fatalf("%s: code(%d,%d) = %d outside ±%v", name, i, j, c, qmax)
			}
			// Half a step, plus float32 rounding of code·scale.
			tol := s/2 + math.Abs(v)*0x1p-23
			if d := math.Abs(v - float64(deq[i*m.Cols+j])); d > tol {
				t.Fatalf("%s: (%d,%d): |%v − %v| = %g > scale/2 = %g", name, i, j, v, deq[i*m.Cols+j], d, s/2)
			}
			if at := m.At(i, j); at != deq[i*m.Cols+j] {
				t.Fatalf("%s: At(%d,%d) = %v, Dequantize has %v", name, i, j, at, deq[i*m.Cols+j])
			}
		}
	}
	codeBytes := map[Bits]int{Int2: m.Rows * ((m.Cols + 3) / 4), Int4: m.Rows * ((m.Cols + 1) / 2), Int8: m.Rows * m.Cols, Int16: 2 * m.Rows * m.Cols}[m.Bits]
	if got, want := m.Bytes(), codeBytes+4*len(m.Scales); got != want {
		t.Fatalf("%s: Bytes() = %d, want %d", name, got, want)
	}
}

// TestQuantizeExtremes checks that the largest element maps to ±qmax and
// that values exactly representable on the grid are exact.
func TestQuantizeExtremes(t *testing.T) {
	for _, bits := range []Bits{Int2, Int4, Int8, Int16} {
		q := float32(bits.Max())
		w := []float32{-q, q, 0, -1, 1}
		m, err := Quantize(w, 1, len(w), bits, false)
		if err != nil {
			t.Fatal(err)
		}
		if m.Scales[0] != 1 {
			t.Fatalf("%v: scale %v, want 1", bits, m.Scales[0])
		}
		if got := m.Dequantize(); !slices.Equal(got, w) {
			t.Fatalf("%v: Dequantize = %v, want %v", bits, got, w)
		}
	}
}

func TestQuantizeGolden(t *testing.T) {
	// INT4, per row: row 0 has scale 0.5 and codes 7, −7, 2 (nibbles
	// 15, 1, 10, then the zero pad 8); row 1 has scale 2/7 and codes −7,
	// 2, 5 (nibbles 1, 10, 13, pad 8).
	m, err := Quantize([]float32{3.5, -3.5, 1, -2, 0.5, 1.5}, 2, 3, Int4, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x1f, 0x8a, 0xa1, 0x8d}; !slices.Equal(m.Packed, want) {
		t.Errorf("INT4 bytes % x, want % x", m.Packed, want)
	}
	if want := []float32{0.5, float32(2.0 / 7)}; !slices.Equal(m.Scales, want) {
		t.Errorf("INT4 scales %v, want %v", m.Scales, want)
	}
	// INT2, per tensor, scale 1: codes 1, −1, 0, 0 | −1 stored as
	// 3, 1, 2, 2 | 1, 2, 2, 2 from the lowest bits up.
	m, err = Quantize([]float32{1, -1, 0, 0.2, -0.9}, 1, 5, Int2, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0xa7, 0xa9}; !slices.Equal(m.Packed, want) {
		t.Errorf("INT2 bytes % x, want % x", m.Packed, want)
	}
	// INT8 and INT16 are plain row-major codes.
	m, _ = Quantize([]float32{-1, 0.5, 1, 0}, 2, 2, Int8, false)
	if want := []int8{-127, 64, 127, 0}; !slices.Equal(m.I8, want) {
		t.Errorf("INT8 codes %v, want %v", m.I8, want)
	}
	m, _ = Quantize([]float32{-1, 0.5}, 1, 2, Int16, false)
	if want := []int16{-32767, 16384}; !slices.Equal(m.I16, want) {
		t.Errorf("INT16 codes %v, want %v", m.I16, want)
	}
}

func TestQuantizeErrors(t *testing.T) {
	w := []float32{1, 2, 3, 4, 5, 6}
	for _, tc := range []struct {
		name    string
		pos     int
		v       float32
		bits    Bits
		wantErr error
		wantMsg string
	}{
		{"NaN", 4, float32(math.NaN()), Int8, ErrNotFinite, "w[4] (row 1, col 1)"},
		{"+Inf", 0, float32(math.Inf(1)), Int4, ErrNotFinite, "w[0] (row 0, col 0)"},
		{"-Inf", 5, float32(math.Inf(-1)), Int2, ErrNotFinite, "w[5] (row 1, col 2)"},
		{"bits 3", -1, 0, 3, ErrBits, "Bits(3)"},
		{"bits 32", -1, 0, 32, ErrBits, "Bits(32)"},
	} {
		x := slices.Clone(w)
		if tc.pos >= 0 {
			x[tc.pos] = tc.v
		}
		_, err := Quantize(x, 2, 3, tc.bits, true)
		if !errors.Is(err, tc.wantErr) || !strings.Contains(fmt.Sprint(err), tc.wantMsg) {
			t.Errorf("%s: err %v, want %v mentioning %q", tc.name, err, tc.wantErr, tc.wantMsg)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("shape mismatch did not panic")
		}
	}()
	Quantize(w, 2, 4, Int8, false)
}

func TestRowScales(t *testing.T) {
	w := randMatrix(3, 4, 1)
	pt, _ := Quantize(w, 3, 4, Int8, false)
	pr, _ := Quantize(w, 3, 4, Int8, true)
	if got := pt.RowScales(); len(got) != 3 || got[0] != pt.Scales[0] || got[2] != pt.Scales[0] {
		t.Errorf("per-tensor RowScales = %v, want 3×%v", got, pt.Scales[0])
	}
	if got := pr.RowScales(); !slices.Equal(got, pr.Scales) {
		t.Errorf("per-row RowScales = %v, want %v", got, pr.Scales)
	}
}

func TestPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, tc := range []struct {
		name   string
		lo, hi int
		per    int
		pack   func([]byte, []int8)
		unpack func([]int8, []byte)
	}{
		{name: "int4", lo: -8, hi: 7, per: 2, pack: PackInt4, unpack: UnpackInt4},
		{name: "int2", lo: -2, hi: 1, per: 4, pack: PackInt2, unpack: UnpackInt2},
	} {
		for n := range 40 {
			v := make([]int8, n)
			for i := range v {
				v[i] = int8(tc.lo + r.IntN(tc.hi-tc.lo+1))
			}
			nb := (n + tc.per - 1) / tc.per
			buf := make([]byte, nb+1)
			buf[nb] = 0x5a // sentinel past the end
			tc.pack(buf[:nb], v)
			if buf[nb] != 0x5a {
				t.Fatalf("%s n=%d: wrote past %d bytes", tc.name, n, nb)
			}
			got := make([]int8, n)
			tc.unpack(got, buf[:nb])
			if !slices.Equal(got, v) {
				t.Fatalf("%s n=%d: unpacked %v, want %v", tc.name, n, got, v)
			}
			// Padding slots must decode as zero.
			if rem := n % tc.per; rem != 0 {
				full := make([]int8, nb*tc.per)
				tc.unpack(full, buf[:nb])
				for _, c := range full[n:] {
					if c != 0 {
						t.Fatalf("%s n=%d: padding decodes as %v, want zeros", tc.name, n, full[n:])
					}
				}
			}
		}
	}
}

func TestPackPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"int4 range":     func() { PackInt4(make([]byte, 1), []int8{8}) },
		"int4 range neg": func() { PackInt4(make([]byte, 1), []int8{-9}) },
		"int4 short dst": func() { PackInt4(make([]byte, 1), []int8{1, 2, 3}) },
		"int4 short src": func() { UnpackInt4(make([]int8, 3), make([]byte, 1)) },
		"int2 range":     func() { PackInt2(make([]byte, 1), []int8{2}) },
		"int2 short dst": func() { PackInt2(make([]byte, 1), make([]int8, 5)) },
		"int2 short src": func() { UnpackInt2(make([]int8, 5), make([]byte, 1)) },
		"code range":     func() { (&Matrix{Bits: Int8, Rows: 1, Cols: 1, Scales: []float32{1}, I8: []int8{0}}).Code(0, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func FuzzPackInt4(f *testing.F) {
	f.Add([]byte{0x00, 0x0f, 0x80, 0x7f, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Codes from the low nibble of each byte, sign-extended.
		v := make([]int8, len(data))
		for i, b := range data {
			v[i] = int8(b<<4) >> 4
		}
		packed := make([]byte, (len(v)+1)/2)
		PackInt4(packed, v)
		got := make([]int8, len(v))
		UnpackInt4(got, packed)
		if !slices.Equal(got, v) {
			t.Fatalf("round trip %v -> % x -> %v", v, packed, got)
		}
		// Bytes unpack and repack exactly when the padding nibble is 8.
		if len(data)%2 == 0 {
			codes := make([]int8, 2*len(data))
			UnpackInt4(codes, data)
			again := make([]byte, len(data))
			PackInt4(again, codes)
			if !slices.Equal(again, data) {
				t.Fatalf("bytes % x repack to % x", data, again)
			}
		}
	})
}

func ExampleQuantize() {
	w := []float32{
		0.7, -0.32, 0,
		-2, 1.1, 2,
	}
	m, err := Quantize(w, 2, 3, Int4, true)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Scales, m.Bytes())
	fmt.Println(m.Dequantize())
	// Output:
	// [0.1 0.2857143] 12
	// [0.7 -0.3 0 -2 1.1428572 2]
}

func BenchmarkQuantizeInt4(b *testing.B) {
	w := randMatrix(256, 1024, 1)
	for b.Loop() {
		Quantize(w, 256, 1024, Int4, true)
	}
}

// TestSetRows checks that a matrix assembled from blocks quantized apart is
// the matrix quantized whole, at every width.
func TestSetRows(t *testing.T) {
	const rows, cols = 11, 7
	r := rand.New(rand.NewPCG(4, 4))
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	for _, bits := range []Bits{Int2, Int4, Int8, Int16} {
		whole, err := Quantize(w, rows, cols, bits, true)
		if err != nil {
			t.Fatal(err)
		}
		m := NewMatrix(bits, rows, cols)
		for lo := 0; lo < rows; lo += 4 {
			hi := min(lo+4, rows)
			b, err := Quantize(w[lo*cols:hi*cols], hi-lo, cols, bits, true)
			if err != nil {
				t.Fatal(err)
			}
			m.SetRows(lo, b)
		}
		if !reflect.DeepEqual(m, whole) {
			t.Fatalf("%v: blocks differ from the whole", bits)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetRows past the end did not panic")
		}
	}()
	NewMatrix(Int4, 2, cols).SetRows(1, NewMatrix(Int4, 2, cols))
}
