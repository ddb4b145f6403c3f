package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/elasticml/elastic/kernels"
)

// DefaultLLC is assumed when the last-level cache size cannot be read.
const DefaultLLC = 64 << 20

// LastLevelCache returns the size in bytes of the largest CPU cache listed
// under /sys/devices/system/cpu/cpu0/cache, or DefaultLLC.
func LastLevelCache() int {
	best := 0
	for i := 0; i < 8; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/sys/devices/system/cpu/cpu0/cache/index%d/size", i))
		if err != nil {
			continue
		}
		if n, err := parseCacheSize(strings.TrimSpace(string(b))); err == nil && n > best {
			best = n
		}
	}
	if best == 0 {
		return DefaultLLC
	}
	return best
}

// parseCacheSize parses sysfs sizes such as "266240K", "2M" or "512".
func parseCacheSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bench: bad cache size %q", s)
	}
	return n * mult, nil
}

// Copies returns how many copies of an operand of the given size must be
// rotated through so that together they span at least twice the last-level
// cache: then every access of a copy misses the cache, as a decoder step's
// weight reads do.
func Copies(operandBytes, llc int) int {
	if operandBytes <= 0 {
		return 1
	}
	return max(2, (2*llc+operandBytes-1)/operandBytes+1)
}

// CopyProbe returns a STREAM-style copy operation over two buffers of
// bufBytes each (bufBytes should be at least four times the last-level
// cache), and the bytes each call moves: bytes read plus bytes written, as
// STREAM counts them. Pages are touched up front so no call pays first-touch
// faults.
func CopyProbe(p *kernels.Pool, bufBytes int) (op func(int), moved int) {
	n := bufBytes / 4
	src := make([]float32, n)
	dst := make([]float32, n)
	p.For(n, 1<<16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			src[i] = float32(i & 1023)
		}
		clear(dst[lo:hi])
	})
	op = func(int) {
		p.For(n, 1<<16, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
	}
	return op, 2 * n * 4
}

// ReadProbe returns a streaming-read operation over a buffer of bufBytes
// (at least four times the last-level cache): a dot product of the buffer
// with itself, chunk by chunk on the pool's workers, which reads each byte
// once and writes nothing. It is the plainest read-only stream, the bound
// a GEMV that reads its weights once can hope for; on a virtual machine it
// may run well below the copy probe's read-plus-write figure.
func ReadProbe(p *kernels.Pool, bufBytes int) (op func(int), read int) {
	n := bufBytes / 4
	buf := kernels.Make[float32](n)
	p.For(n, 1<<16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			buf[i] = float32(i&1023) / 1024
		}
	})
	const grain = 1 << 16
	sums := make([]float32, (n+grain-1)/grain) // one per grain, so no two chunks share one
	op = func(int) {
		p.For(n, grain, func(lo, hi int) { sums[lo/grain] += kernels.Dot(buf[lo:hi], buf[lo:hi]) })
	}
	return op, 4 * n
}

// CopyBandwidth measures memory-copy bandwidth in GB/s (10^9 bytes per
// second) with the pool's workers; see CopyProbe.
func CopyBandwidth(p *kernels.Pool, bufBytes, reps int) (gbps float64, t Timing) {
	op, moved := CopyProbe(p, bufBytes)
	t = Measure(reps, op)
	return float64(moved) / (t.Median * 1e6), t
}
