package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// guardLen is the number of sentinel values placed before and after every
// slice handed to a kernel under test, to catch out-of-bounds reads that
// pollute results and out-of-bounds writes that change the sentinels.
const guardLen = 17

var guardVal = float32(math.Float32frombits(0x7fc0dead)) // a NaN with a recognisable payload

// guarded returns a slice of length n, starting at element offset align
// within its backing array, surrounded by guard values, filled by fill.
func guarded(n, align int, fill func(i int) float32) (s []float32, check func(t *testing.T, name string)) {
	buf := make([]float32, align+guardLen+n+guardLen)
	for i := range buf {
		buf[i] = guardVal
	}
	s = buf[align+guardLen : align+guardLen+n : align+guardLen+n]
	for i := range s {
		s[i] = fill(i)
	}
	check = func(t *testing.T, name string) {
		t.Helper()
		for i := 0; i < align+guardLen; i++ {
			if math.Float32bits(buf[i]) != math.Float32bits(guardVal) {
				t.Fatalf("%s: guard before slice overwritten at %d", name, i-align-guardLen)
			}
		}
		for i := align + guardLen + n; i < len(buf); i++ {
			if math.Float32bits(buf[i]) != math.Float32bits(guardVal) {
				t.Fatalf("%s: guard after slice overwritten at +%d", name, i-align-guardLen-n)
			}
		}
	}
	return s, check
}

// guardedInt8 and guardedBytes do the same for integer operands; the guard
// byte is 0x7f so a read past the end perturbs dot products visibly.
func guardedBytes(n, align int, fill func(i int) byte) (s []byte, check func(t *testing.T, name string)) {
	buf := make([]byte, align+guardLen+n+guardLen)
	for i := range buf {
		buf[i] = 0x7f
	}
	s = buf[align+guardLen : align+guardLen+n : align+guardLen+n]
	for i := range s {
		s[i] = fill(i)
	}
	check = func(t *testing.T, name string) {
		t.Helper()
		for i := 0; i < align+guardLen; i++ {
			if buf[i] != 0x7f {
				t.Fatalf("%s: guard before slice overwritten", name)
			}
		}
		for i := align + guardLen + n; i < len(buf); i++ {
			if buf[i] != 0x7f {
				t.Fatalf("%s: guard after slice overwritten", name)
			}
		}
	}
	return s, check
}

// randSlice returns n values uniform in [-1, 1) from a seeded source.
func randFill(seed uint64) func(int) float32 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	return func(int) float32 { return float32(2*r.Float64() - 1) }
}

// oddLengths are the sizes every conformance test runs at: empty, below one
// vector, around vector and unroll boundaries, and large odd sizes.
var oddLengths = []int{0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 255, 257, 1000, 1023, 4099}

// alignments are element offsets into the backing array, so kernels see
// unaligned starts.
var alignments = []int{0, 1, 3}
