package kernels

// PrefetchLines is how many cache lines Prefetch asks for by default: the
// first line of a row starts its DRAM access early; the hardware's stream
// prefetcher picks up the rest of a row once it is read.
const PrefetchLines = 2

// Prefetch hints that the first lines 64-byte cache lines of v will be
// read soon, so a graph walk can start fetching the next candidate's row
// while it scores the current one (as hnswlib does). It never faults and
// changes no memory: on other architectures and with -tags purego it does
// nothing.
func Prefetch(v []float32, lines int) {
	if len(v) == 0 || lines <= 0 {
		return
	}
	prefetch(v, min(lines, (len(v)*4+63)/64))
}
