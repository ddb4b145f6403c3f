package kernels

import "unsafe"

// Flush writes back and evicts every cache line of v from all levels of
// the cache hierarchy, on every core (CLFLUSH, then a fence, so the lines
// are gone when it returns). A cold-cache benchmark flushes exactly the
// weights a step reads, as a model larger than the cache finds them,
// instead of reading a buffer larger than the last-level cache, which on
// a machine with hundreds of MiB of L3 costs more time than the step it
// prepares. It changes no memory. It reports whether it could flush: on
// other architectures and with -tags purego it does nothing and returns
// false (see CanFlush).
func Flush[T any](v []T) bool {
	if !CanFlush() {
		return false
	}
	if len(v) == 0 {
		return true
	}
	size := uintptr(len(v)) * unsafe.Sizeof(v[0])
	p := uintptr(unsafe.Pointer(&v[0]))
	start := p &^ 63
	flushLines(unsafe.Pointer(&v[0]), int((p+size-start+63)/64))
	return true
}

// CanFlush reports whether Flush evicts lines on this build.
func CanFlush() bool { return canFlush }
