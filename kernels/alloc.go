package kernels

import (
	"log/slog"
	"os"
	"sync"
	"unsafe"
)

// HugeThreshold is the size from which Make places a buffer on
// transparent huge pages.
const HugeThreshold = 32 << 20

// hugePage is the x86-64 transparent huge page size.
const hugePage = 2 << 20

// HugePagesEnv names the environment variable that turns huge pages off
// when set to "0" or "off", for A/B measurements.
const HugePagesEnv = "ELASTIC_HUGEPAGES"

// Make returns a zeroed slice of n elements for weights. Buffers of at
// least HugeThreshold bytes are aligned to 2 MiB and advised onto
// transparent huge pages where the operating system offers them (Linux
// madvise MADV_HUGEPAGE, then MADV_COLLAPSE for pages already present):
// a GEMV streaming gigabytes of weights on 4 KiB pages takes a TLB miss
// every 4 KiB, and the hardware prefetchers stop at every 4 KiB boundary.
// Smaller buffers, other systems, a refused madvise, or ELASTIC_HUGEPAGES=0
// give an ordinary slice; a refusal is logged once at debug level. The
// slice is garbage-collected as usual.
func Make[T any](n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if n < 0 {
		panic("kernels: Make: negative length")
	}
	if size == 0 || n*size < HugeThreshold || !HugePages() {
		return make([]T, n)
	}
	// Over-allocate by one huge page and slice from the first 2 MiB
	// boundary; the slice keeps the whole allocation alive.
	pad := (hugePage + size - 1) / size
	buf := make([]T, n+pad)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	off := int((alignUp(base, hugePage) - base) / uintptr(size))
	s := buf[off : off+n : off+n]
	length := alignDown(n*size, hugePage)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), length)
	if err := adviseHuge(b); err != nil {
		adviseRefused.Do(func() {
			slog.Debug("kernels: huge pages refused; weights stay on 4 KiB pages", "err", err)
		})
	}
	return s
}

// HugePages reports whether Make may use huge pages: on systems that
// support them, unless ELASTIC_HUGEPAGES is "0" or "off".
func HugePages() bool {
	switch os.Getenv(HugePagesEnv) {
	case "0", "off", "false":
		return false
	}
	return hugeSupported
}

func alignUp(v, a uintptr) uintptr { return (v + a - 1) &^ (a - 1) }
func alignDown(v, a int) int       { return v &^ (a - 1) }

// adviseRefused logs the first madvise refusal only: the package's one
// piece of mutable state, a log line's, which changes no result.
var adviseRefused sync.Once

// Clone returns a copy of s allocated by Make.
func Clone[T any](s []T) []T {
	c := Make[T](len(s))
	copy(c, s)
	return c
}
