package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKeyThreshold checks keyThresholdGeneric against its definition: the
// r-th largest key, or a smaller t that exactly r keys meet.
func TestKeyThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 2, 15, 16, 17, 128, 200, 1000} {
		for _, kind := range []string{"random", "equal", "ascending", "few", "top"} {
			keys := make([]uint32, n)
			for i := range keys {
				switch kind {
				case "random":
					keys[i] = r.Uint32() | 1
				case "equal":
					keys[i] = 7
				case "ascending":
					keys[i] = uint32(i + 1)
				case "few":
					keys[i] = uint32(1 + r.IntN(3))
				case "top":
					keys[i] = 1<<31 | r.Uint32()>>8
				}
			}
			lo := slices.Min(keys)
			sorted := slices.Clone(keys)
			slices.Sort(sorted)
			padded := append(slices.Clone(keys), make([]uint32, 16)...)
			for _, rr := range []int{1, (n + 1) / 2, n} {
				got := keyThresholdGeneric(padded, lo, rr)
				kth := sorted[n-rr]
				c := 0
				for _, k := range keys {
					c += b2i(k >= got)
				}
				if got > kth || (got != kth && c != rr) {
					t.Fatalf("n=%d %s r=%d: t=%d meets %d keys; r-th largest %d", n, kind, rr, got, c, kth)
				}
			}
		}
	}
}

// TestRowVecTwins checks the vector passes against their Go twins on every
// ISA the CPU has (make test runs the AVX2 level too), with NaNs, both
// zeros, ties and lengths that are not whole vectors.
func TestRowVecTwins(t *testing.T) {
	v := rowVecImpl()
	if v.lanes == 0 {
		t.Skip("no vector passes on this build")
	}
	r := rand.New(rand.NewPCG(23, 24))
	for _, n := range []int{1, 7, 8, 16, 17, 100, 2000} {
		y := uniformFill(r, n, 1)
		for i := 0; i < n; i += 5 {
			switch i % 4 {
			case 0:
				y[i] = float32(math.NaN())
			case 1:
				y[i] = float32(math.Copysign(0, -1))
			case 2:
				y[i] = 0
			case 3:
				y[i] = y[i/2]
			}
		}
		for _, tv := range []float32{-2, -0.5, 0, 0.25, 0.99, 2} {
			tk := rankKey(tv, false)
			gi, gk := make([]int32, n+32), make([]uint32, n+32)
			wi, wk := make([]int32, n), make([]uint32, n)
			gc := v.filter(y, tk, gi, gk)
			wc := filterKeysGeneric(y, tk, wi, wk, 0)
			if fmt.Sprint(gi[:gc], gk[:gc]) != fmt.Sprint(wi[:wc], wk[:wc]) {
				t.Fatalf("n=%d t=%v: filter %v %v, twin %v %v", n, tv, gi[:gc], gk[:gc], wi[:wc], wk[:wc])
			}
			if wc == 0 {
				continue
			}
			pad := (wc + v.lanes - 1) / v.lanes * v.lanes
			keys := append(slices.Clone(wk[:wc]), make([]uint32, pad-wc)...)
			idx := append(slices.Clone(wi[:wc]), make([]int32, pad-wc)...)
			for _, rr := range []int{1, (wc + 1) / 2, wc} {
				got, want := v.threshold(keys, tk, rr), keyThresholdGeneric(keys, tk, rr)
				if got != want {
					t.Fatalf("n=%d t=%v r=%d: threshold %d, twin %d", n, tv, rr, got, want)
				}
				out, wout := make([]int32, pad+v.lanes), make([]int32, pad)
				oc := v.selectGE(keys, idx, got, out)
				woc := selectGEGeneric(keys, idx, got, wout)
				if fmt.Sprint(out[:oc]) != fmt.Sprint(wout[:woc]) || woc < rr {
					t.Fatalf("n=%d t=%v r=%d: select %v, twin %v", n, tv, rr, out[:oc], wout[:woc])
				}
			}
		}
	}
}

// TestBlockMax checks the block maxima of the 1×4 and 1×8 selection
// against slices.Max per group (NaN propagates, as with Go's max) on rows
// that are and are not whole vectors of groups, with a NaN and both zeros.
func TestBlockMax(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, block := range []int{4, 8} {
		for _, n := range []int{3, 64, 127, 128, 1000, 2000, 4099} {
			for _, nan := range []bool{false, true} {
				y := uniformFill(r, n, 1)
				y[n/3] = float32(math.Copysign(0, -1))
				if nan {
					y[n/2] = float32(math.NaN())
				}
				groups := (n + block - 1) / block
				g := make([]float32, groups)
				blockMax(g, y, block)
				for b := range groups {
					want := slices.Max(y[b*block : min(n, (b+1)*block)])
					if rankKey(g[b], false) != rankKey(want, false) {
						t.Fatalf("block %d n=%d nan=%v: g[%d] = %g, want %g", block, n, nan, b, g[b], want)
					}
				}
			}
		}
	}
}
