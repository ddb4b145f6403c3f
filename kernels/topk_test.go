package kernels

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refRank returns the indices of x in TopK's ranking, best first, by a
// stable sort in float64: value (or magnitude) descending, NaN last,
// −0 and +0 equal, ties by index.
func refRank(x []float32, mag bool) []int32 {
	key := func(i int32) float64 {
		v := float64(x[i])
		if mag {
			v = math.Abs(v)
		}
		return v
	}
	idx := make([]int32, len(x))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		ka, kb := key(a), key(b)
		switch an, bn := math.IsNaN(ka), math.IsNaN(kb); {
		case an && bn:
			return 0
		case an:
			return 1
		case bn:
			return -1
		}
		return -cmp.Compare(ka, kb)
	})
	return idx
}

// refTopK returns what TopK must return for x and k: the k best of
// refRank, ascending, and the k-th value (or magnitude).
func refTopK(x []float32, k int, mag bool) ([]int32, float32) {
	rank := refRank(x, mag)
	k = min(k, len(x))
	sel := slices.Clone(rank[:k])
	slices.Sort(sel)
	th := float32(math.Inf(1))
	if k > 0 {
		th = x[rank[k-1]]
		if mag {
			th = abs32(th)
		}
	}
	return sel, th
}

// refBottomK returns what BottomK must return: the complement of the
// len(x)−k best, ascending.
func refBottomK(x []float32, k int, mag bool) []int32 {
	k = min(k, len(x))
	top, _ := refTopK(x, len(x)-k, mag)
	var out []int32
	for i := range int32(len(x)) {
		if _, found := slices.BinarySearch(top, i); !found {
			out = append(out, i)
		}
	}
	return out
}

// sameValue reports a == b, with NaN equal to NaN and −0 equal to +0.
func sameValue(a, b float32) bool { return a == b || a != a && b != b }

// checkTopK verifies a TopK result exactly against the reference.
func checkTopK(t *testing.T, name string, x []float32, k int, mag bool, sel []int32, thresh float32) {
	t.Helper()
	want, wantTh := refTopK(x, k, mag)
	if !slices.Equal(sel, want) {
		t.Fatalf("%s: selected %v, want %v", name, head(sel), head(want))
	}
	if !sameValue(thresh, wantTh) {
		t.Fatalf("%s: thresh = %v, want %v", name, thresh, wantTh)
	}
}

func head(s []int32) []int32 { return s[:min(len(s), 12)] }

func TestTopKTable(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	for _, tc := range []struct {
		name string
		x    []float32
		k    int
		mag  bool
		want []int32
		th   float32
	}{
		{"empty k=0", nil, 0, false, []int32{}, inf},
		{"empty k=3", nil, 3, false, []int32{}, inf},
		{"k=0", []float32{1, 2}, 0, false, []int32{}, inf},
		{"one", []float32{5}, 1, false, []int32{0}, 5},
		{"basic", []float32{3, -1, 4, 1, -5, 9, 2, 6}, 3, false, []int32{2, 5, 7}, 4},
		{"magnitude", []float32{3, -1, 4, 1, -5, 9, 2, -6}, 3, true, []int32{4, 5, 7}, 5},
		{"k=n is min", []float32{3, -1, 4}, 3, false, []int32{0, 1, 2}, -1},
		{"k>n is min", []float32{3, -1, 4}, 7, true, []int32{0, 1, 2}, 1},
		{"ties by index", []float32{1, 2, 2, 2, 0}, 2, false, []int32{1, 2}, 2},
		{"all equal", []float32{7, 7, 7, 7}, 2, false, []int32{0, 1}, 7},
		{"NaN smallest", []float32{nan, 1, nan, -inf}, 2, false, []int32{1, 3}, -inf},
		{"NaN taken last, by index", []float32{nan, 1, nan, -inf}, 3, false, []int32{0, 1, 3}, nan},
		{"NaN magnitude", []float32{nan, -2, 0.5}, 2, true, []int32{1, 2}, 0.5},
		{"k>=n with NaN", []float32{nan, 1}, 2, false, []int32{0, 1}, nan},
		{"signed zeros tie", []float32{negZero, -1, 0}, 1, false, []int32{0}, 0},
		{"infinities", []float32{-inf, inf, 0}, 1, false, []int32{1}, inf},
		{"neg inf magnitude", []float32{-inf, 3, 0}, 1, true, []int32{0}, inf},
		{"magnitude ties by index", []float32{2, -3, 3, -3}, 2, true, []int32{1, 2}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := make([]int32, len(tc.x))
			sel, th := TopK(idx, tc.x, tc.k, tc.mag)
			if !slices.Equal(sel, tc.want) || !sameValue(th, tc.th) {
				t.Errorf("got %v, %v; want %v, %v", sel, th, tc.want, tc.th)
			}
			checkTopK(t, tc.name, tc.x, tc.k, tc.mag, sel, th)
		})
	}
}

// topKInputs are adversarial inputs: sorted, reversed, organ pipe, few
// distinct values, sawtooth, NaNs, signed zeros and infinities, keys
// sharing their top bytes, and long runs of ties.
func topKInputs(n int, seed uint64) map[string][]float32 {
	r := rand.New(rand.NewPCG(seed, 0x70b))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	in := map[string][]float32{}
	gen := func(name string, f func(i int) float32) {
		x := make([]float32, n)
		for i := range x {
			x[i] = f(i)
		}
		in[name] = x
	}
	gen("random", func(int) float32 { return float32(r.NormFloat64()) })
	gen("sorted", func(i int) float32 { return float32(i) })
	gen("reversed", func(i int) float32 { return float32(n - i) })
	gen("organ", func(i int) float32 { return float32(min(i, n-i)) })
	gen("few", func(int) float32 { return float32(r.IntN(3) - 1) })
	gen("saw", func(i int) float32 { return float32(i % 17) })
	gen("nans", func(int) float32 {
		if r.IntN(4) == 0 {
			return nan
		}
		return float32(r.NormFloat64())
	})
	gen("nanprefix", func(i int) float32 {
		if i < n/2 {
			return nan
		}
		return float32(r.NormFloat64())
	})
	gen("zeros", func(int) float32 {
		return [...]float32{0, float32(math.Copysign(0, -1)), -1, 1e-45, -1e-45}[r.IntN(5)]
	})
	gen("infs", func(int) float32 { return [...]float32{inf, -inf, nan, 1, -1}[r.IntN(5)] })
	gen("bucket", func(int) float32 { return 1 + float32(r.IntN(8))*1e-7 })
	gen("ties", func(i int) float32 { return float32(i / 1000) })
	return in
}

func TestTopKVsSort(t *testing.T) {
	for _, n := range []int{1, 2, 3, 16, 17, 100, 1000, 2048, 4099, 20000} {
		for name, x := range topKInputs(n, uint64(n)) {
			for _, k := range []int{0, 1, 2, 7, n / 300, n / 100, n / 5, n / 3, n / 2, n - 1, n, n + 1} {
				if k < 0 {
					continue
				}
				for _, mag := range []bool{false, true} {
					label := fmt.Sprintf("%s n=%d k=%d mag=%v", name, n, k, mag)
					idx, check := guardedInt32(n, 1)
					sel, th := TopK(idx, x, k, mag)
					check(t, label)
					checkTopK(t, label, x, k, mag, sel, th)

					idx, check = guardedInt32(n, 1)
					sel = BottomK(idx, x, k, mag)
					check(t, "BottomK "+label)
					if want := refBottomK(x, k, mag); !slices.Equal(sel, want) {
						t.Fatalf("BottomK %s: selected %v, want %v", label, head(sel), head(want))
					}
				}
			}
		}
	}
}

// TestTopKPaths runs each selection path on every k it accepts, not only
// the ones TopK routes to it, so each is checked on inputs that stress it:
// ascending values, where every element beats the streaming threshold; a
// NaN prefix, so the first threshold (or the sampled pivot) is NaN; and
// ties across compactions.
func TestTopKPaths(t *testing.T) {
	for _, n := range []int{9, 64, 2047, 4099, 20000} {
		for name, x := range topKInputs(n, uint64(n)+1) {
			for _, k := range []int{1, 2, 7, 64, 257, n / 8, n / 4, n / 2, n - 1} {
				if k < 1 || k >= n {
					continue
				}
				for _, mag := range []bool{false, true} {
					label := fmt.Sprintf("%s n=%d k=%d mag=%v", name, n, k, mag)
					paths := map[string]func([]int32) ([]int32, uint32){
						"radix":  func(idx []int32) ([]int32, uint32) { return radixTopK(idx, x, k, mag, false) },
						"sample": func(idx []int32) ([]int32, uint32) { return sampleTopK(idx, x, k, mag) },
					}
					if k <= n/8 {
						paths["stream"] = func(idx []int32) ([]int32, uint32) { return streamTopK(idx, x, k, mag) }
					}
					for path, f := range paths {
						idx, check := guardedInt32(n, 2)
						sel, th := f(idx)
						check(t, path+" "+label)
						checkTopK(t, path+" "+label, x, k, mag, sel, keyValue(th, mag))
					}
				}
			}
		}
	}
}

// TestTopKSampleFallback defeats the sampled pivot: the elements at the
// sample positions are the largest, so fewer than k reach it and
// sampleTopK must fall back to the full radix selection.
func TestTopKSampleFallback(t *testing.T) {
	const n = 4099
	step := n / (2 * isqrt(n))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%7) / 10
		if i%step == 0 {
			x[i] = 100 + float32(i)
		}
	}
	for _, k := range []int{n / step / 2, n/step + 1, n / 8, n / 4} {
		idx := make([]int32, n)
		m := 2 * isqrt(n)
		r := min((k-1)*m/n+isqrt(m), m-1)
		// Only the sample reaches the pivot, r+1 elements.
		if k > n/step/2 && r+1 >= k {
			t.Fatalf("k=%d: pivot rank %d; the test no longer reaches the fallback", k, r)
		}
		sel, th := sampleTopK(idx, x, k, false)
		checkTopK(t, fmt.Sprintf("k=%d", k), x, k, false, sel, keyValue(th, false))
	}
}

// TestRankKey checks the key order against the float order on values
// around every boundary: NaNs, infinities, zeros, subnormals.
func TestRankKey(t *testing.T) {
	vals := []float32{
		float32(math.NaN()), float32(math.Inf(-1)), -math.MaxFloat32, -1, -math.SmallestNonzeroFloat32,
		float32(math.Copysign(0, -1)), 0, math.SmallestNonzeroFloat32, 1, math.MaxFloat32, float32(math.Inf(1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xff800001),
	}
	for _, mag := range []bool{false, true} {
		for _, a := range vals {
			for _, b := range vals {
				fa, fb := float64(a), float64(b)
				if mag {
					fa, fb = math.Abs(fa), math.Abs(fb)
				}
				var want int
				switch an, bn := math.IsNaN(fa), math.IsNaN(fb); {
				case an && bn:
				case an:
					want = -1
				case bn:
					want = 1
				default:
					want = cmp.Compare(fa, fb)
				}
				if got := cmp.Compare(rankKey(a, mag), rankKey(b, mag)); got != want {
					t.Errorf("mag=%v: key order of %v, %v = %d, want %d", mag, a, b, got, want)
				}
			}
			if v := keyValue(rankKey(a, mag), mag); !sameValue(v, map[bool]float32{false: a, true: abs32(a)}[mag]) {
				t.Errorf("mag=%v: keyValue(rankKey(%v)) = %v", mag, a, v)
			}
		}
	}
}

func TestPoolTopK(t *testing.T) {
	const n = 1 << 16
	r := rand.New(rand.NewPCG(3, 4))
	in := map[string][]float32{"random": make([]float32, n), "ties": make([]float32, n), "nans": make([]float32, n)}
	for i := range n {
		in["random"][i] = float32(r.NormFloat64())
		in["ties"][i] = float32(r.IntN(4))
		in["nans"][i] = float32(math.NaN())
		if i%3 == 0 {
			in["nans"][i] = float32(r.IntN(2))
		}
	}
	for _, workers := range []int{1, 2, 3} {
		p := NewPool(workers)
		for name, x := range in {
			for _, k := range []int{0, 1, 35, 256, 1024, n / 12, n / 2, n} {
				for _, mag := range []bool{false, true} {
					label := fmt.Sprintf("workers=%d %s k=%d mag=%v", workers, name, k, mag)
					want, wantTh := TopK(make([]int32, n), x, k, mag)
					idx, check := guardedInt32(n, 1)
					sel, th := p.TopK(idx, x, k, mag)
					check(t, label)
					if !slices.Equal(sel, want) || !sameValue(th, wantTh) {
						t.Fatalf("%s: Pool.TopK = %v, %v; TopK = %v, %v", label, head(sel), th, head(want), wantTh)
					}
				}
			}
		}
		p.Close()
	}
}

// guardedInt32 returns a working slice surrounded by sentinels.
func guardedInt32(n, align int) ([]int32, func(*testing.T, string)) {
	const g = -0x5a5a5a5a
	buf := make([]int32, align+guardLen+n+guardLen)
	for i := range buf {
		buf[i] = g
	}
	s := buf[align+guardLen : align+guardLen+n : align+guardLen+n]
	return s, func(t *testing.T, name string) {
		t.Helper()
		for i, v := range buf {
			if (i < align+guardLen || i >= align+guardLen+n) && v != g {
				t.Fatalf("%s: guard overwritten at buffer offset %d", name, i)
			}
		}
	}
}

func TestTopKNoAlloc(t *testing.T) {
	x := topKInputs(10000, 1)["random"]
	idx := make([]int32, len(x))
	for _, k := range []int{10, 100, 1000, 5000} {
		if a := testing.AllocsPerRun(10, func() { TopK(idx, x, k, true) }); a != 0 {
			t.Errorf("TopK k=%d allocates %v times per call", k, a)
		}
		if a := testing.AllocsPerRun(10, func() { BottomK(idx, x, k, true) }); a != 0 {
			t.Errorf("BottomK k=%d allocates %v times per call", k, a)
		}
	}
}

func TestTopKPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short idx":         func() { TopK(make([]int32, 2), make([]float32, 3), 1, false) },
		"negative k":        func() { TopK(make([]int32, 3), make([]float32, 3), -1, false) },
		"bottom short idx":  func() { BottomK(make([]int32, 2), make([]float32, 3), 1, false) },
		"bottom negative k": func() { BottomK(make([]int32, 3), make([]float32, 3), -1, false) },
		"pool short idx": func() {
			p := NewPool(2)
			defer p.Close()
			p.TopK(make([]int32, 2), make([]float32, 3), 1, false)
		},
		"rows k>cols": func() {
			TopKRows(make([]int32, 8), make([]float32, 6), 2, 3, 4, false, make([]int32, 3))
		},
		"rows short work": func() {
			TopKRows(make([]int32, 4), make([]float32, 6), 2, 3, 2, false, make([]int32, 2))
		},
		"rows short dst": func() {
			TopKRows(make([]int32, 3), make([]float32, 6), 2, 3, 2, false, make([]int32, 3))
		},
		"pool short work": func() {
			p := NewPool(2)
			defer p.Close()
			p.TopKRows(make([]int32, 4), make([]float32, 6), 2, 3, 2, false, make([]int32, 3))
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

func TestTopKRows(t *testing.T) {
	const rows, cols = 13, 257
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(r.IntN(9) - 4)
	}
	for _, k := range []int{0, 1, 7, cols} {
		for _, mag := range []bool{false, true} {
			check := func(label string, dst []int32) {
				t.Helper()
				for row := range rows {
					xr := x[row*cols : (row+1)*cols]
					want, _ := refTopK(xr, k, mag)
					if got := dst[row*k : (row+1)*k]; !slices.Equal(got, want) {
						t.Fatalf("%s k=%d mag=%v row=%d: %v, want %v", label, k, mag, row, head(got), head(want))
					}
				}
			}
			dst, checkDst := guardedInt32(rows*k, 0)
			TopKRows(dst, x, rows, cols, k, mag, make([]int32, cols))
			checkDst(t, "TopKRows dst")
			check("TopKRows", dst)
			for _, workers := range []int{1, 2, 3, 16} {
				p := NewPool(workers)
				for _, work := range [][]int32{nil, make([]int32, workers*cols)} {
					dst, checkDst := guardedInt32(rows*k, 2)
					p.TopKRows(dst, x, rows, cols, k, mag, work)
					checkDst(t, "Pool.TopKRows dst")
					check(fmt.Sprintf("Pool(%d) work=%d", workers, len(work)), dst)
				}
				p.Close()
			}
		}
	}
}

func FuzzTopK(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint16(1), false)
	f.Add([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0xff, 0, 0, 0, 0x80, 0, 0, 0, 0}, uint16(2), true)
	f.Fuzz(func(t *testing.T, data []byte, k uint16, mag bool) {
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
		kk := int(k) % (len(x) + 2)
		idx := make([]int32, len(x))
		sel, th := TopK(idx, x, kk, mag)
		checkTopK(t, "fuzz", x, kk, mag, sel, th)
		if got, want := BottomK(idx, x, kk, mag), refBottomK(x, kk, mag); !slices.Equal(got, want) {
			t.Fatalf("BottomK = %v, want %v", got, want)
		}
	})
}

func ExampleTopK() {
	x := []float32{0.1, -3, 2, 0.5, -2}
	idx := make([]int32, len(x))
	// The two largest magnitudes: 3, then 2 twice, where index 2 ranks
	// above index 4.
	sel, thresh := TopK(idx, x, 2, true)
	fmt.Println(sel, thresh)
	// Output: [1 2] 2
}

func ExampleBottomK() {
	x := []float32{0.1, -3, 2, 0.5, -0.1}
	idx := make([]int32, len(x))
	// The two smallest magnitudes, 0.1 twice.
	fmt.Println(BottomK(idx, x, 2, true))
	// Output: [0 4]
}

// BenchmarkTopK covers the paths: streaming (1/1000), sampled pivot (1%,
// 10%) and full radix (50%), from an LSTM gate to a large vocabulary.
func BenchmarkTopK(b *testing.B) {
	for _, n := range []int{1500, 33278, 117659, 268000} {
		x := topKInputs(n, 1)["random"]
		idx := make([]int32, n)
		for _, k := range []int{n / 1000, n / 100, n / 10, n / 2} {
			for _, mag := range []bool{false, true} {
				if k == 0 {
					continue
				}
				b.Run(fmt.Sprintf("n=%d/k=%d/mag=%v", n, k, mag), func(b *testing.B) {
					b.SetBytes(int64(4 * n))
					for b.Loop() {
						TopK(idx, x, k, mag)
					}
				})
			}
		}
	}
}

// BenchmarkTopKScreen is approximate screening's selection: the top m of
// the approximate logits over a large vocabulary, by value, on the
// calling goroutine and on a pool of two.
func BenchmarkTopKScreen(b *testing.B) {
	p := NewPool(2)
	defer p.Close()
	for _, n := range []int{117659, 268000, 1000000} {
		x := topKInputs(n, 2)["random"]
		idx := make([]int32, len(x))
		for _, k := range []int{32, 35, 256, 1024} {
			b.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				for b.Loop() {
					TopK(idx, x, k, false)
				}
			})
			b.Run(fmt.Sprintf("n=%d/k=%d/pool", n, k), func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				for b.Loop() {
					p.TopK(idx, x, k, false)
				}
			})
		}
	}
}

// TestPoolStreamTopK checks the per-worker streaming selection against
// the reference on every input kind, with fine chunks so that each worker
// streams many, and with produce writing x chunk by chunk as the fused
// kernels do.
func TestPoolStreamTopK(t *testing.T) {
	const n = 40000
	var pools []*Pool
	for _, workers := range []int{1, 2, 3, 4} {
		p := NewPool(workers)
		defer p.Close()
		pools = append(pools, p)
	}
	for name, src := range topKInputs(n, 9) {
		for _, k := range []int{1, 2, 35, n / streamMinRatio} {
			for _, mag := range []bool{false, true} {
				want, wantTh := refTopK(src, k, mag)
				for _, p := range pools {
					if !p.streams(n, k) {
						t.Fatalf("workers=%d k=%d: streams is false", p.Workers(), k)
					}
					for _, grain := range []int{1000, 8192} {
						label := fmt.Sprintf("workers=%d %s k=%d mag=%v grain=%d", p.Workers(), name, k, mag, grain)
						x := make([]float32, n)
						idx, check := guardedInt32(n, 1)
						sel, th := p.streamTopK(idx, x, k, mag, grain, func(lo, hi int) { copy(x[lo:hi], src[lo:hi]) })
						check(t, label)
						if !slices.Equal(sel, want) || !sameValue(th, wantTh) {
							t.Fatalf("%s: selected %v, %v; want %v, %v", label, head(sel), th, head(want), wantTh)
						}
					}
				}
			}
		}
	}
}

// TestTopKStreamBlocks feeds one stream in uneven blocks: the result must
// not depend on how the elements arrive.
func TestTopKStreamBlocks(t *testing.T) {
	const n = 20000
	for name, x := range topKInputs(n, 11) {
		for _, k := range []int{1, 5, 39} {
			for _, block := range []int{1, 7, 1000, n} {
				idx := make([]int32, topKStreamLen(k))
				s := newTopKStream(idx, k, false)
				for lo := 0; lo < n; lo += block {
					s.push(x, lo, min(lo+block, n))
				}
				sel := s.finish(x)
				checkTopK(t, fmt.Sprintf("%s k=%d block=%d", name, k, block), x, k, false, sel, keyValue(s.th, false))
			}
		}
	}
}
