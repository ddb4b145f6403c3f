package safetensors

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFloat16Bits(t *testing.T) {
	for _, tc := range []struct {
		f float32
		h uint16
	}{
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{65504, 0x7bff},     // largest finite half
		{0x1p-14, 0x0400},   // smallest normal
		{0x1p-24, 0x0001},   // smallest subnormal
		{0x3ffp-24, 0x03ff}, // largest subnormal
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
	} {
		if got := Float32ToFloat16(tc.f); got != tc.h {
			t.Errorf("Float32ToFloat16(%v) = %#04x, want %#04x", tc.f, got, tc.h)
		}
		if got := Float16ToFloat32(tc.h); math.Float32bits(got) != math.Float32bits(tc.f) {
			t.Errorf("Float16ToFloat32(%#04x) = %v, want %v", tc.h, got, tc.f)
		}
	}
	for _, h := range []uint16{0x7e00, 0x7c01, 0xfe00} {
		if f := Float16ToFloat32(h); !math.IsNaN(float64(f)) {
			t.Errorf("Float16ToFloat32(%#04x) = %v, want NaN", h, f)
		}
	}
	if h := Float32ToFloat16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("Float32ToFloat16(NaN) = %#04x, not a NaN", h)
	}
	// Rounding at the edges: ties go to even, overflow goes to infinity.
	for _, tc := range []struct {
		f float32
		h uint16
	}{
		{1 + 0x1p-11, 0x3c00},           // tie between 1 and next: even is 1
		{1 + 3*0x1p-11, 0x3c02},         // tie, rounds up to even
		{1 + 0x1p-11 + 0x1p-20, 0x3c01}, // just above the tie
		{65519, 0x7bff},                 // below the 65520 midpoint
		{65520, 0x7c00},                 // tie with "65536": even is infinity
		{0x1p-25, 0x0000},               // half the smallest subnormal: tie to 0
		{0x1p-25 + 0x1p-35, 0x0001},     // just above it
		{3 * 0x1p-25, 0x0002},           // tie between 1 and 2 subnormal units
		{0x3ffp-24 + 0x1p-25, 0x0400},   // carries into the smallest normal
		{0x1p-26, 0x0000},
		{1e-30, 0x0000},
		{-1e-30, 0x8000},
		{1e10, 0x7c00},
	} {
		if got := Float32ToFloat16(tc.f); got != tc.h {
			t.Errorf("Float32ToFloat16(%g) = %#04x, want %#04x", tc.f, got, tc.h)
		}
	}
}

// TestFloat16Exhaustive: every half value survives half→float32→half.
func TestFloat16Exhaustive(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		f := Float16ToFloat32(h)
		if math.IsNaN(float64(f)) {
			if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
				t.Fatalf("%#04x decoded to NaN", h)
			}
			continue
		}
		if got := Float32ToFloat16(f); got != h {
			t.Fatalf("round trip of %#04x (%v) gave %#04x", h, f, got)
		}
	}
}

// TestFloat16Nearest checks rounding of random float32s against the
// definition: no other half value is closer, and ties pick the even one.
func TestFloat16Nearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		f := math.Float32frombits(rng.Uint32())
		if math.IsNaN(float64(f)) || math.Abs(float64(f)) >= 65520 {
			continue
		}
		h := Float32ToFloat16(f)
		checkNearest(t, "half", float64(f), h, func(x uint16) float64 { return float64(Float16ToFloat32(x)) }, 0x7bff)
	}
}

func TestBFloat16(t *testing.T) {
	for _, tc := range []struct {
		f float32
		h uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{float32(math.Inf(1)), 0x7f80},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1 + 0x1p-8, 0x3f80},      // tie, even is 1
		{1 + 3*0x1p-8, 0x3f82},    // tie, rounds up to even
		{math.MaxFloat32, 0x7f80}, // rounds past the largest bfloat16
		{0x1p-133, 0x0001},        // smallest bfloat16 subnormal
	} {
		if got := Float32ToBFloat16(tc.f); got != tc.h {
			t.Errorf("Float32ToBFloat16(%g) = %#04x, want %#04x", tc.f, got, tc.h)
		}
	}
	if h := Float32ToBFloat16(math.Float32frombits(0x7f800001)); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("signalling NaN became %#04x, not a NaN", h)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		f := math.Float32frombits(rng.Uint32())
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) || math.Abs(float64(f)) > 0x1.fep127 {
			continue
		}
		h := Float32ToBFloat16(f)
		checkNearest(t, "bfloat16", float64(f), h, func(x uint16) float64 { return float64(BFloat16ToFloat32(x)) }, 0x7f7f)
	}
}

// checkNearest asserts that h is a correctly rounded encoding of f among
// its neighbours in the same sign (maxFinite is the largest finite code).
func checkNearest(t *testing.T, kind string, f float64, h uint16, val func(uint16) float64, maxFinite uint16) {
	t.Helper()
	mag := h & 0x7fff
	d := math.Abs(val(h) - f)
	for _, m := range []uint16{mag - 1, mag + 1} {
		if mag == 0 && m == mag-1 || m > maxFinite {
			continue
		}
		n := h&0x8000 | m
		dn := math.Abs(val(n) - f)
		if dn < d || dn == d && h&1 == 1 {
			t.Fatalf("%s(%g) = %#04x (%g), but %#04x (%g) is nearer or even", kind, f, h, val(h), n, val(n))
		}
	}
}
