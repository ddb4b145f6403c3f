package kernels

import (
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageEdge maps two pages and makes one inaccessible, returning the bytes
// of the other: the inaccessible page follows them if after is set, else
// precedes them. A kernel that touches a byte beyond the returned span, on
// that side, faults.
func pageEdge(t *testing.T, after bool) []byte {
	t.Helper()
	ps := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 2*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	off, data := 0, mem[ps:]
	if after {
		off, data = ps, mem[:ps]
	}
	if err := unix.Mprotect(mem[off:off+ps], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	return data
}

// edgeSlice returns n elements of type T at the end of data (atEnd) or its
// start.
func edgeSlice[T uint16 | float32](data []byte, n int, atEnd bool) []T {
	if n == 0 {
		return nil
	}
	sz := int(unsafe.Sizeof(T(0)))
	off := 0
	if atEnd {
		off = len(data) - n*sz
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&data[off])), n)
}

// TestHalfGemvPageEdge places the weights and x flush against an
// inaccessible page, after them and then before them, so a read of even
// one byte outside a row or x — by an overlapping or masked tail, say —
// crashes the test.
func TestHalfGemvPageEdge(t *testing.T) {
	runHalfImpls(t, func(t *testing.T, im halfImpl) {
		for _, atEnd := range []bool{true, false} {
			wmem, xmem := pageEdge(t, atEnd), pageEdge(t, atEnd)
			for _, rows := range []int{1, 3, 5} {
				for _, cols := range halfCols()[1:72] {
					w := edgeSlice[uint16](wmem, rows*cols, atEnd)
					x := edgeSlice[float32](xmem, cols, atEnd)
					wf, xf := signedFill(uint64(cols)), signedFill(uint64(cols)+1)
					for i := range w {
						w[i] = uint16(0x3800 | i&0x3ff) // 0.5 to 1
						if wf(i) < 0 {
							w[i] |= 0x8000
						}
					}
					for i := range x {
						x[i] = xf(i)
					}
					y := make([]float32, rows)
					im.gemv(y, w, cols, x)
					idx := []int32{0, int32(rows - 1)} // every row, unsorted, two repeated
					for i := rows - 1; i >= 0; i-- {
						idx = append(idx, int32(i))
					}
					g := make([]float32, rows)
					im.gather(g, w, cols, x, idx)
					for i := range rows {
						what := fmt.Sprintf("atEnd=%v rows=%d cols=%d y[%d]", atEnd, rows, cols, i)
						checkHalfRow(t, what, y[i], w[i*cols:(i+1)*cols], x)
						checkHalfRow(t, "gather "+what, g[i], w[i*cols:(i+1)*cols], x)
					}
				}
			}
		}
	})
}
