package fmnist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadIdx(t *testing.T) {
	good := (&Idx{Dims: []int{2, 3}, Data: []byte{1, 2, 3, 4, 5, 6}}).Encode()
	for _, tc := range []struct {
		name  string
		data  []byte
		size  int64
		max   int
		ok    bool
		dims  []int
		bytes []byte
	}{
		{"good", good, int64(len(good)), 0, true, []int{2, 3}, []byte{1, 2, 3, 4, 5, 6}},
		{"size unknown", good, -1, 0, true, []int{2, 3}, []byte{1, 2, 3, 4, 5, 6}},
		{"empty dimension", []byte{0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 5}, 12, 0, true, []int{0, 5}, []byte{}},
		{"empty", nil, 0, 0, false, nil, nil},
		{"short magic", []byte{0, 0, 8}, 3, 0, false, nil, nil},
		{"nonzero magic", append([]byte{1}, good[1:]...), int64(len(good)), 0, false, nil, nil},
		{"int32 elements", append([]byte{0, 0, 0x0c}, good[3:]...), int64(len(good)), 0, false, nil, nil},
		{"zero dimensions", []byte{0, 0, 8, 0}, 4, 0, false, nil, nil},
		{"truncated dims", good[:9], -1, 0, false, nil, nil},
		{"truncated data", good[:len(good)-1], -1, 0, false, nil, nil},
		{"trailing data", append(slices.Clone(good), 7), -1, 0, false, nil, nil},
		{"size disagrees", good, int64(len(good)) + 1, 0, false, nil, nil},
		{"over bound", good, int64(len(good)), 5, false, nil, nil},
		{"huge dims", []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 16, 0, false, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ReadIdx(bytes.NewReader(tc.data), tc.size, tc.max)
			if !tc.ok {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(x.Dims, tc.dims) || !bytes.Equal(x.Data, tc.bytes) {
				t.Fatalf("got %v %v, want %v %v", x.Dims, x.Data, tc.dims, tc.bytes)
			}
		})
	}
}

// writeSplit writes a gzipped split of n patterned images and the given
// labels to dir.
func writeSplit(t *testing.T, dir string, s Split, n int, labels []byte) {
	t.Helper()
	img := &Idx{Dims: []int{n, Rows, Cols}, Data: make([]byte, n*Pixels)}
	for i := range img.Data {
		img.Data[i] = byte(i)
	}
	ip, lp := Paths(dir, s)
	writeGz(t, ip, img)
	writeGz(t, lp, &Idx{Dims: []int{len(labels)}, Data: labels})
}

func writeGz(t *testing.T, path string, x *Idx) {
	t.Helper()
	if err := x.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSynthetic(t *testing.T) {
	dir := t.TempDir()
	writeSplit(t, dir, Test, 3, []byte{9, 0, 4})
	s, err := Load(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || !bytes.Equal(s.Labels, []byte{9, 0, 4}) || s.Image(1)[0] != byte(Pixels%256) {
		t.Fatalf("got N=%d labels %v first pixel of image 1 %d", s.N, s.Labels, s.Image(1)[0])
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		_, err := Load(t.TempDir(), Train)
		if !errors.Is(err, ErrMissing) {
			t.Fatalf("err = %v, want ErrMissing", err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte(Package)) {
			t.Errorf("error %q does not name %s", err, Package)
		}
	})
	for _, tc := range []struct {
		name   string
		labels []byte
	}{
		{"label out of range", []byte{1, 10}},
		{"count mismatch", []byte{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSplit(t, dir, Train, 2, tc.labels)
			if _, err := Load(dir, Train); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
	t.Run("wrong image size", func(t *testing.T) {
		dir := t.TempDir()
		ip, lp := Paths(dir, Train)
		writeGz(t, ip, &Idx{Dims: []int{1, 2, 2}, Data: make([]byte, 4)})
		writeGz(t, lp, &Idx{Dims: []int{1}, Data: []byte{0}})
		if _, err := Load(dir, Train); !errors.Is(err, ErrFormat) {
			t.Fatalf("err = %v, want ErrFormat", err)
		}
	})
	t.Run("gzip trailer disagrees", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "x.gz")
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write((&Idx{Dims: []int{4}, Data: []byte{1, 2, 3, 4}}).Encode())
		zw.Close()
		raw := b.Bytes()
		raw[len(raw)-4]++ // ISIZE
		os.WriteFile(p, raw, 0o644)
		_, err := ReadIdxFile(p, 0)
		if !errors.Is(err, ErrFormat) || !bytes.Contains([]byte(err.Error()), []byte(p)) {
			t.Fatalf("err = %v, want ErrFormat naming %s", err, p)
		}
	})
	t.Run("truncated gzip", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "x.gz")
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write((&Idx{Dims: []int{4000}, Data: make([]byte, 4000)}).Encode())
		zw.Close()
		raw := b.Bytes()
		os.WriteFile(p, raw[:len(raw)/2], 0o644)
		if _, err := ReadIdxFile(p, 0); err == nil {
			t.Fatal("no error for a truncated gzip file")
		}
	})
}

// The real files, checked against bytes read with zcat and xxd and the
// SHA-256 of each decompressed file from sha256sum.
func TestRealFiles(t *testing.T) {
	if _, err := os.Stat(DefaultDir); err != nil {
		t.Skipf("Fashion-MNIST not installed (%v): install the Debian package %s (make data)", err, Package)
	}
	for _, tc := range []struct {
		split     Split
		n         int
		first     []byte
		imgSHA    string
		labSHA    string
		perClass  int
		pixels320 []byte // image 0, pixels 320–335
	}{
		{Train, 60000, []byte{9, 0, 0, 3, 0, 2, 7, 2, 5, 5},
			"c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
			"bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 6000,
			[]byte{0x0c, 0xdb, 0xdc, 0xd4, 0xda, 0xc0, 0xa9, 0xe3, 0xd0, 0xda, 0xe0, 0xd4, 0xe2, 0xc5, 0xd1, 0x34}},
		{Test, 10000, []byte{9, 2, 1, 1, 6, 1, 4, 6, 5, 7},
			"5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
			"0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 1000, nil},
	} {
		t.Run(tc.split.String(), func(t *testing.T) {
			s, err := Load("", tc.split)
			if err != nil {
				t.Fatal(err)
			}
			if s.N != tc.n || len(s.Images) != tc.n*Pixels {
				t.Fatalf("N=%d with %d pixels, want %d images", s.N, len(s.Images), tc.n)
			}
			if !bytes.Equal(s.Labels[:len(tc.first)], tc.first) {
				t.Errorf("first labels %v, want %v", s.Labels[:len(tc.first)], tc.first)
			}
			var count [Classes]int
			for _, l := range s.Labels {
				count[l]++
			}
			for c, k := range count {
				if k != tc.perClass {
					t.Errorf("class %d (%s): %d items, want %d", c, ClassNames[c], k, tc.perClass)
				}
			}
			if tc.pixels320 != nil {
				// xxd of the pixels alone (tail -c +17) shows them at offset 0x140.
				if got := s.Image(0)[320:336]; !bytes.Equal(got, tc.pixels320) {
					t.Errorf("image 0 pixels 320–335: %x, want %x", got, tc.pixels320)
				}
			}
			check := func(what, want string, x *Idx) {
				sum := sha256.Sum256(x.Encode())
				if got := hex.EncodeToString(sum[:]); got != want {
					t.Errorf("%s: SHA-256 %s, want %s", what, got, want)
				}
			}
			check("images", tc.imgSHA, &Idx{Dims: []int{s.N, Rows, Cols}, Data: s.Images})
			check("labels", tc.labSHA, &Idx{Dims: []int{s.N}, Data: s.Labels})
		})
	}
}

func FuzzIdx(f *testing.F) {
	f.Add((&Idx{Dims: []int{2, 3}, Data: []byte{1, 2, 3, 4, 5, 6}}).Encode(), true)
	f.Add((&Idx{Dims: []int{3}, Data: []byte{9, 0, 4}}).Encode(), false)
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28}, true)
	f.Add([]byte{0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, data []byte, knownSize bool) {
		size := int64(-1)
		if knownSize {
			size = int64(len(data))
		}
		x, err := ReadIdx(bytes.NewReader(data), size, 1<<20)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if len(x.Data) != n {
			t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
		}
		// Only the whole input parses, so re-encoding gives it back.
		if !bytes.Equal(x.Encode(), data) {
			t.Fatalf("Encode does not give back the input")
		}
	})
}
