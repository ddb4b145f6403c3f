package corpus

import (
	"encoding/binary"
	"fmt"
)

// Layout of bible.data (the "Text Storage Library" container of the Bible
// Retrieval System), as read from the file and confirmed by decoding all of
// it byte for byte against the bible reader's output:
//
//	offset  size        field
//	0x00    4           magic "EC02"
//	0x04    80          NUL-padded description ("Compressed Data File")
//	0x54    4           window size W, big-endian (65536)
//	0x58    4           window count n, big-endian (68)
//	0x5c    4*(n+1)     big-endian file offsets of the n windows, then the file size
//	...     3           compress(1) header 1f 9d, flags (0x80 block mode | max bits)
//	...                 the windows
//
// Each window holds exactly W bytes of text (the last one fewer), compressed
// as an independent LZW stream in compress(1) format: codes packed
// least-significant bit first, 9 bits wide at first and growing to the
// header's maximum, code 256 clearing the dictionary in block mode. Restarting
// the dictionary at each window is what lets the reader decode a single
// window; here we decode them all in order.
const (
	dataMagic   = "EC02"
	headerSize  = 0x5c
	lzwMagic0   = 0x1f
	lzwMagic1   = 0x9d
	lzwBlock    = 0x80
	lzwBitsMask = 0x1f
	lzwClear    = 256
	lzwMinBits  = 9

	// maxWindow and maxText bound the sizes a header may claim, so a
	// corrupt file cannot make the decoder produce gigabytes; the real
	// text is 68 windows of 64 KiB.
	maxWindow = 1 << 22
	maxText   = 1 << 26
)

// Decompress returns the text stored in a bible.data file's contents.
// A malformed input yields an error wrapping ErrFormat.
func Decompress(data []byte) ([]byte, error) {
	if len(data) < headerSize || string(data[:4]) != dataMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	window := int(binary.BigEndian.Uint32(data[0x54:]))
	n := int(binary.BigEndian.Uint32(data[0x58:]))
	if window <= 0 || window > maxWindow {
		return nil, fmt.Errorf("%w: window size %d", ErrFormat, window)
	}
	tableEnd := headerSize + 4*(n+1)
	if n <= 0 || n > len(data)/4 || tableEnd+3 > len(data) || n > maxText/window {
		return nil, fmt.Errorf("%w: window count %d", ErrFormat, n)
	}
	lzw := data[tableEnd:]
	if lzw[0] != lzwMagic0 || lzw[1] != lzwMagic1 || lzw[2]&lzwBlock == 0 {
		return nil, fmt.Errorf("%w: bad compress header % x", ErrFormat, lzw[:3])
	}
	maxBits := int(lzw[2] & lzwBitsMask)
	if maxBits < lzwMinBits || maxBits > 16 {
		return nil, fmt.Errorf("%w: %d-bit codes", ErrFormat, maxBits)
	}
	offs := make([]int, n+1)
	prev := tableEnd + 3
	for i := range offs {
		o := int(binary.BigEndian.Uint32(data[headerSize+4*i:]))
		if o < prev || o > len(data) || (i == 0 && o != prev) {
			return nil, fmt.Errorf("%w: window %d offset %d", ErrFormat, i, o)
		}
		offs[i], prev = o, o
	}
	if offs[n] != len(data) {
		return nil, fmt.Errorf("%w: file is %d bytes, table says %d", ErrFormat, len(data), offs[n])
	}

	d := newDecoder(maxBits)
	var out []byte
	for i := range n {
		start := len(out)
		src := data[offs[i]:offs[i+1]]
		var (
			used int
			err  error
		)
		out, used, err = d.decode(out, src, window)
		if err != nil {
			return nil, fmt.Errorf("%w: window %d: %v", ErrFormat, i, err)
		}
		if i == n-1 {
			break
		}
		if got := len(out) - start; got != window {
			return nil, fmt.Errorf("%w: window %d holds %d bytes, want %d", ErrFormat, i, got, window)
		}
		// The encoder pads a window to the end of a group of eight
		// codes, at most maxBits bytes; more left over means the window
		// size is wrong.
		if left := len(src) - used; left > maxBits {
			return nil, fmt.Errorf("%w: window %d has %d bytes after its last code", ErrFormat, i, left)
		}
	}
	return out, nil
}

// decoder is an LZW (compress(1)) decoder whose tables are reused across
// windows.
type decoder struct {
	maxBits int
	prefix  []uint16
	suffix  []byte
	stack   []byte
}

func newDecoder(maxBits int) *decoder {
	size := 1 << maxBits
	return &decoder{
		maxBits: maxBits,
		prefix:  make([]uint16, size),
		suffix:  make([]byte, size),
		stack:   make([]byte, 0, size),
	}
}

// decode appends to out the text of one window, read from src, stopping at
// limit bytes or when src holds no further whole code. It returns the
// extended out and the number of bytes of src read.
func (d *decoder) decode(out, src []byte, limit int) ([]byte, int, error) {
	var (
		nbits   = lzwMinBits
		free    = lzwClear + 1
		bitpos  = 0 // next unread bit of src
		group   = 0 // bit at which the current code width started
		old     = -1
		first   byte
		written = 0
		total   = len(src) * 8
	)
	for written < limit && bitpos+nbits <= total {
		code := readBits(src, bitpos, nbits)
		bitpos += nbits

		if code == lzwClear {
			// compress(1) writes codes in groups of eight, so a width
			// change (including this reset) skips to the end of the group.
			bitpos = alignGroup(bitpos, group, nbits)
			group, nbits, free, old = bitpos, lzwMinBits, lzwClear+1, -1
			continue
		}
		if old < 0 {
			if code > 0xff {
				return out, 0, fmt.Errorf("first code %d is not a literal", code)
			}
			out = append(out, byte(code))
			written++
			old, first = code, byte(code)
			continue
		}

		stack := d.stack[:0]
		c := code
		if c >= free {
			// The code being defined right now: the previous string
			// plus its own first byte (the KwKwK case).
			if c > free {
				return out, 0, fmt.Errorf("code %d beyond next free code %d", c, free)
			}
			stack = append(stack, first)
			c = old
		}
		for c > 0xff {
			// Chains end: every prefix is smaller than the code it
			// prefixes, because entries are added in increasing order.
			stack = append(stack, d.suffix[c])
			c = int(d.prefix[c])
		}
		first = byte(c)
		stack = append(stack, first)
		if written+len(stack) > limit {
			return out, 0, fmt.Errorf("string crosses the %d-byte window end", limit)
		}
		for i := len(stack) - 1; i >= 0; i-- {
			out = append(out, stack[i])
		}
		written += len(stack)
		d.stack = stack

		if free < 1<<d.maxBits {
			d.prefix[free] = uint16(old)
			d.suffix[free] = first
			free++
			if free > 1<<nbits-1 && nbits < d.maxBits {
				bitpos = alignGroup(bitpos, group, nbits)
				group = bitpos
				nbits++
			}
		}
		old = code
	}
	return out, (bitpos + 7) / 8, nil
}

// readBits returns the n-bit little-endian code starting at bit pos of src;
// the caller guarantees pos+n <= 8*len(src).
func readBits(src []byte, pos, n int) int {
	i := pos >> 3
	var v uint32
	for k := 0; k < 3 && i+k < len(src); k++ {
		v |= uint32(src[i+k]) << (8 * k)
	}
	return int(v>>(pos&7)) & (1<<n - 1)
}

// alignGroup rounds bit position pos up to the end of the current group of
// eight nbits-wide codes that began at bit group.
func alignGroup(pos, group, nbits int) int {
	g := 8 * nbits
	return group + (pos-group+g-1)/g*g
}
