package quant

import "fmt"

// PackInt4 packs the 4-bit codes v, each in [−8, 7], two per byte into
// dst[:(len(v)+1)/2]: code 2t goes in the low nibble and 2t+1 in the high
// nibble of dst[t], each stored as code+8 (offset binary). For odd len(v)
// the last high nibble is 8, the encoding of zero, so a kernel that reads
// whole bytes adds nothing for it. It panics if dst is too short or a code
// is out of range.
func PackInt4(dst []byte, v []int8) {
	n := (len(v) + 1) / 2
	if len(dst) < n {
		panic(fmt.Sprintf("quant: PackInt4 len(dst)=%d < %d for %d codes", len(dst), n, len(v)))
	}
	for i, c := range v {
		if c < -8 || c > 7 {
			panic(fmt.Sprintf("quant: PackInt4 code v[%d]=%d outside [-8, 7]", i, c))
		}
	}
	for t := range n {
		lo := byte(v[2*t] + 8)
		hi := byte(8)
		if 2*t+1 < len(v) {
			hi = byte(v[2*t+1] + 8)
		}
		dst[t] = lo | hi<<4
	}
}

// UnpackInt4 decodes len(dst) 4-bit codes packed by PackInt4 from src. It
// panics if src holds fewer than (len(dst)+1)/2 bytes.
func UnpackInt4(dst []int8, src []byte) {
	if n := (len(dst) + 1) / 2; len(src) < n {
		panic(fmt.Sprintf("quant: UnpackInt4 len(src)=%d < %d for %d codes", len(src), n, len(dst)))
	}
	for j := range dst {
		dst[j] = int8(src[j/2]>>(4*(j%2))&0xf) - 8
	}
}

// PackInt2 packs the 2-bit codes v, each in [−2, 1], four per byte into
// dst[:(len(v)+3)/4]: code 4t+i goes in bits 2i and 2i+1 of dst[t], stored
// as code+2 (offset binary). Unused slots of the last byte hold 2, the
// encoding of zero. It panics if dst is too short or a code is out of
// range.
func PackInt2(dst []byte, v []int8) {
	n := (len(v) + 3) / 4
	if len(dst) < n {
		panic(fmt.Sprintf("quant: PackInt2 len(dst)=%d < %d for %d codes", len(dst), n, len(v)))
	}
	for i, c := range v {
		if c < -2 || c > 1 {
			panic(fmt.Sprintf("quant: PackInt2 code v[%d]=%d outside [-2, 1]", i, c))
		}
	}
	for t := range n {
		var b byte
		for i := range 4 {
			c := byte(2)
			if j := 4*t + i; j < len(v) {
				c = byte(v[j] + 2)
			}
			b |= c << (2 * i)
		}
		dst[t] = b
	}
}

// UnpackInt2 decodes len(dst) 2-bit codes packed by PackInt2 from src. It
// panics if src holds fewer than (len(dst)+3)/4 bytes.
func UnpackInt2(dst []int8, src []byte) {
	if n := (len(dst) + 3) / 4; len(src) < n {
		panic(fmt.Sprintf("quant: UnpackInt2 len(src)=%d < %d for %d codes", len(src), n, len(dst)))
	}
	for j := range dst {
		dst[j] = int8(src[j/4]>>(2*(j%4))&3) - 2
	}
}
