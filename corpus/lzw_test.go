package corpus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// bitWriter packs codes least-significant bit first, as compress(1) does.
type bitWriter struct {
	buf []byte
	pos int
}

func (w *bitWriter) write(code, n int) {
	for i := range n {
		if w.pos>>3 == len(w.buf) {
			w.buf = append(w.buf, 0)
		}
		if code>>i&1 != 0 {
			w.buf[w.pos>>3] |= 1 << (w.pos & 7)
		}
		w.pos++
	}
}

// lzwEncode is a reference compress(1)-style encoder for one window, used
// to build synthetic bible.data files. It widens codes on the schedule the
// decoder expects and pads each width change to a group of eight codes,
// lazily, so that no padding trails the last code.
func lzwEncode(src []byte, maxBits int) []byte {
	if len(src) == 0 {
		return nil
	}
	var (
		w       bitWriter
		nbits   = lzwMinBits
		group   = 0
		pad     = false
		dfree   = lzwClear + 1 // the decoder's next free code
		efree   = lzwClear + 1 // ours: one entry ahead until the table fills
		dict    = map[uint32]int{}
		emitted = 0
	)
	emit := func(code int) {
		if pad {
			w.pos = alignGroup(w.pos, group, nbits-1)
			for len(w.buf) < (w.pos+7)/8 {
				w.buf = append(w.buf, 0)
			}
			group, pad = w.pos, false
		}
		w.write(code, nbits)
		emitted++
		if emitted > 1 && dfree < 1<<maxBits {
			dfree++
			if dfree > 1<<nbits-1 && nbits < maxBits {
				nbits++
				pad = true
			}
		}
	}
	ent := int(src[0])
	for _, c := range src[1:] {
		key := uint32(ent)<<8 | uint32(c)
		if code, ok := dict[key]; ok {
			ent = code
			continue
		}
		emit(ent)
		if efree < 1<<maxBits {
			dict[key] = efree
			efree++
		}
		ent = int(c)
	}
	emit(ent)
	return w.buf
}

// buildData wraps text in a bible.data container with the given window
// size and code width.
func buildData(text []byte, window, maxBits int) []byte {
	var chunks [][]byte
	for len(text) > 0 {
		n := min(window, len(text))
		chunks = append(chunks, lzwEncode(text[:n], maxBits))
		text = text[n:]
	}
	if len(chunks) == 0 {
		chunks = append(chunks, nil)
	}
	out := make([]byte, headerSize, headerSize+4*(len(chunks)+1))
	copy(out, dataMagic+"Compressed Data File")
	binary.BigEndian.PutUint32(out[0x54:], uint32(window))
	binary.BigEndian.PutUint32(out[0x58:], uint32(len(chunks)))
	off := headerSize + 4*(len(chunks)+1) + 3
	for _, c := range chunks {
		out = binary.BigEndian.AppendUint32(out, uint32(off))
		off += len(c)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(off))
	out = append(out, lzwMagic0, lzwMagic1, byte(lzwBlock|maxBits))
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

// randomText returns n bytes of word-like text with a skewed alphabet, so
// that the LZW table fills and codes widen.
func randomText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	const alphabet = "eeeeetttaaoinshrdlu ,.\n'ABCxyzq"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func TestDecompressRoundTrip(t *testing.T) {
	cases := []struct {
		n, window, maxBits int
	}{
		{1, 16, 9},
		{100, 16, 9},
		{5000, 4096, 9}, // 9-bit table fills inside a window
		{20000, 8192, 12},
		{70000, 65536, 16}, // 16-bit codes, a short last window
		{65536 * 2, 65536, 16},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("n=%d/w=%d/bits=%d", c.n, c.window, c.maxBits), func(t *testing.T) {
			text := randomText(c.n, uint64(i))
			got, err := Decompress(buildData(text, c.window, c.maxBits))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, text) {
				t.Fatalf("decoded %d bytes, differs from the %d encoded", len(got), len(text))
			}
		})
	}
}

func TestDecompressMalformed(t *testing.T) {
	good := buildData(randomText(3000, 7), 1024, 10)
	if _, err := Decompress(good); err != nil {
		t.Fatalf("the unmodified file fails: %v", err)
	}
	corrupt := func(f func(b []byte) []byte) []byte {
		return f(bytes.Clone(good))
	}
	cases := map[string][]byte{
		"empty":            nil,
		"bad magic":        corrupt(func(b []byte) []byte { b[0] = 'X'; return b }),
		"header only":      good[:headerSize],
		"zero window":      corrupt(func(b []byte) []byte { binary.BigEndian.PutUint32(b[0x54:], 0); return b }),
		"huge window":      corrupt(func(b []byte) []byte { binary.BigEndian.PutUint32(b[0x54:], 1<<30); return b }),
		"huge count":       corrupt(func(b []byte) []byte { binary.BigEndian.PutUint32(b[0x58:], 1<<31); return b }),
		"bad lzw magic":    corrupt(func(b []byte) []byte { b[headerSize+4*4] = 0; return b }),
		"17-bit codes":     corrupt(func(b []byte) []byte { b[headerSize+4*4+2] = lzwBlock | 17; return b }),
		"offsets reversed": corrupt(func(b []byte) []byte { binary.BigEndian.PutUint32(b[headerSize+4:], 5); return b }),
		"truncated":        good[:len(good)-10],
		"short window":     corrupt(func(b []byte) []byte { binary.BigEndian.PutUint32(b[0x54:], 1000); return b }),
		"bad code":         corrupt(func(b []byte) []byte { b[headerSize+4*4+4] = 0xff; b[headerSize+4*4+5] = 0xff; return b }),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decompress(data)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

// FuzzDecode checks that arbitrary bytes never make the decoder panic or
// return an error other than ErrFormat, and that whatever it accepts parses
// or fails cleanly too.
func FuzzDecode(f *testing.F) {
	f.Add(buildData([]byte("Title\nGe1:1 In the beginning.\n"), 16, 9))
	f.Add(buildData(randomText(3000, 3), 1024, 12))
	f.Add([]byte(dataMagic))
	if data, err := os.ReadFile(DefaultPath); err == nil {
		f.Add(data[:min(len(data), 4096)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := Decompress(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if _, err := ParseText(text); err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("ParseText error %v does not wrap ErrFormat", err)
		}
	})
}

// FuzzRoundTrip checks the decoder against the reference encoder on
// arbitrary text, window sizes and code widths.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("abababababababab"), uint16(4), uint8(9))
	f.Add(randomText(2000, 5), uint16(700), uint8(10))
	f.Fuzz(func(t *testing.T, text []byte, window uint16, bits uint8) {
		w := int(window)%4096 + 1
		maxBits := lzwMinBits + int(bits)%(16-lzwMinBits+1)
		got, err := Decompress(buildData(text, w, maxBits))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, text) {
			t.Fatalf("round trip changed %q to %q", text, got)
		}
	})
}

func BenchmarkDecompress(b *testing.B) {
	data, err := os.ReadFile(DefaultPath)
	if err != nil {
		b.Skipf("%v: install the Debian package %s", err, TextPackage)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decompress(data); err != nil {
			b.Fatal(err)
		}
	}
}
