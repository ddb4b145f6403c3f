package kernels

import "unsafe"

// PrefetchLines is how many cache lines Prefetch asks for by default: the
// first line of a row starts its DRAM access early; the hardware's stream
// prefetcher picks up the rest of a row once it is read.
const PrefetchLines = 2

// Prefetch hints that the first lines 64-byte cache lines of v will be
// read soon, so a graph walk can start fetching the next candidate's row
// while it scores the current one (as hnswlib does), or a layer the
// weights of the next one while it computes. It never faults and changes
// no memory: on other architectures and with -tags purego it does nothing.
func Prefetch[T any](v []T, lines int) {
	if len(v) == 0 || lines <= 0 {
		return
	}
	size := int(unsafe.Sizeof(v[0]))
	prefetch(unsafe.Pointer(&v[0]), min(lines, (len(v)*size+63)/64))
}

// PrefetchAll hints that all of v will be read soon.
func PrefetchAll[T any](v []T) { Prefetch(v, len(v)) }
