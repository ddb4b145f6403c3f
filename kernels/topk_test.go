package kernels

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// topKRef returns the keys (values, or magnitudes) of x sorted descending
// with NaN last, by full sort in float64.
func topKRef(x []float32, mag bool) []float64 {
	keys := make([]float64, len(x))
	for i, v := range x {
		keys[i] = float64(v)
		if mag {
			keys[i] = math.Abs(keys[i])
		}
	}
	slices.SortFunc(keys, func(a, b float64) int {
		switch an, bn := math.IsNaN(a), math.IsNaN(b); {
		case an && bn:
			return 0
		case an:
			return 1
		case bn:
			return -1
		}
		return -cmp.Compare(a, b)
	})
	return keys
}

// sameKey reports a == b, with NaN equal to NaN.
func sameKey(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// checkTopK verifies a TopK result against the sorted reference: the
// selection holds k distinct in-range indices whose keys, as a multiset,
// are the k largest, and thresh is the k-th largest key.
func checkTopK(t *testing.T, name string, x []float32, k int, mag bool, sel []int32, thresh float32) {
	t.Helper()
	ref := topKRef(x, mag)
	wantK := min(k, len(x))
	if len(sel) != wantK {
		t.Fatalf("%s: len(sel) = %d, want %d", name, len(sel), wantK)
	}
	wantThresh := math.Inf(1)
	if wantK > 0 {
		wantThresh = ref[wantK-1]
	}
	if !sameKey(float64(thresh), wantThresh) {
		t.Fatalf("%s: thresh = %v, want %v", name, thresh, wantThresh)
	}
	seen := make(map[int32]bool, len(sel))
	got := make([]float32, 0, len(sel))
	for _, i := range sel {
		if i < 0 || int(i) >= len(x) || seen[i] {
			t.Fatalf("%s: bad or repeated index %d in %v", name, i, sel)
		}
		seen[i] = true
		got = append(got, x[i])
	}
	gotKeys := topKRef(got, mag)
	for i := range gotKeys {
		if !sameKey(gotKeys[i], ref[i]) {
			t.Fatalf("%s: selected keys %v, want top %v", name, gotKeys, ref[:wantK])
		}
	}
}

func TestTopKTable(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	for _, tc := range []struct {
		name string
		x    []float32
		k    int
		mag  bool
		want []float32 // expected selected values, any order
		th   float32
	}{
		{"empty k=0", nil, 0, false, nil, inf},
		{"empty k=3", nil, 3, false, nil, inf},
		{"k=0", []float32{1, 2}, 0, false, nil, inf},
		{"one", []float32{5}, 1, false, []float32{5}, 5},
		{"basic", []float32{3, -1, 4, 1, -5, 9, 2, 6}, 3, false, []float32{9, 6, 4}, 4},
		{"magnitude", []float32{3, -1, 4, 1, -5, 9, 2, -6}, 3, true, []float32{9, -6, -5}, 5},
		{"k=n is min", []float32{3, -1, 4}, 3, false, []float32{3, -1, 4}, -1},
		{"k>n is min", []float32{3, -1, 4}, 7, true, []float32{3, -1, 4}, 1},
		{"ties at threshold", []float32{1, 2, 2, 2, 0}, 2, false, []float32{2, 2}, 2},
		{"all equal", []float32{7, 7, 7, 7}, 2, false, []float32{7, 7}, 7},
		{"NaN smallest", []float32{nan, 1, nan, -inf}, 2, false, []float32{1, -inf}, -inf},
		{"NaN taken last", []float32{nan, 1, nan, -inf}, 3, false, []float32{1, -inf, nan}, nan},
		{"NaN magnitude", []float32{nan, -2, 0.5}, 2, true, []float32{-2, 0.5}, 0.5},
		{"k>=n with NaN", []float32{nan, 1}, 2, false, []float32{nan, 1}, nan},
		{"signed zeros", []float32{negZero, -1, 0}, 2, false, []float32{0, 0}, 0},
		{"infinities", []float32{-inf, inf, 0}, 1, false, []float32{inf}, inf},
		{"neg inf magnitude", []float32{-inf, 3, 0}, 1, true, []float32{-inf}, inf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := make([]int32, len(tc.x))
			sel, th := TopK(idx, tc.x, tc.k, tc.mag)
			if !sameKey(float64(th), float64(tc.th)) {
				t.Errorf("thresh = %v, want %v", th, tc.th)
			}
			got := make([]float32, len(sel))
			for i, j := range sel {
				got[i] = tc.x[j]
			}
			byBits := func(a, b float32) int {
				return cmp.Compare(topKey(a, false), topKey(b, false))
			}
			want := slices.Clone(tc.want)
			slices.SortFunc(got, byBits)
			slices.SortFunc(want, byBits)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				// −0 and +0 tie, so compare by value when the text differs.
				ok := len(got) == len(want)
				for i := 0; ok && i < len(got); i++ {
					ok = sameKey(float64(got[i]), float64(want[i]))
				}
				if !ok {
					t.Errorf("selected %v, want %v", got, want)
				}
			}
			checkTopK(t, tc.name, tc.x, tc.k, tc.mag, sel, th)
		})
	}
}

// adversarial inputs for quickselect: sorted, reversed, organ pipe,
// few distinct values, and sawtooth.
func topKInputs(n int, seed uint64) map[string][]float32 {
	r := rand.New(rand.NewPCG(seed, 0x70b))
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
	gen("nans", func(i int) float32 {
		if r.IntN(4) == 0 {
			return float32(math.NaN())
		}
		return float32(r.NormFloat64())
	})
	return in
}

func TestTopKVsSort(t *testing.T) {
	for _, n := range []int{1, 2, 3, 16, 17, 100, 1000, 4099} {
		for name, x := range topKInputs(n, uint64(n)) {
			for _, k := range []int{0, 1, 2, n / 100, n / 3, n / 2, n - 1, n, n + 1} {
				if k < 0 {
					continue
				}
				for _, mag := range []bool{false, true} {
					idx, check := guardedInt32(n, 1)
					sel, th := TopK(idx, x, k, mag)
					label := fmt.Sprintf("%s n=%d k=%d mag=%v", name, n, k, mag)
					check(t, label)
					checkTopK(t, label, x, k, mag, sel, th)
				}
			}
		}
	}
}

// TestTopKStream runs the streaming selection on the inputs
// that stress it: ascending values, where every element beats the running
// threshold and the buffer compacts again and again; a NaN prefix, so the
// first threshold is NaN and numbers, −Inf included, must still get in;
// signed zeros and infinities, which the float comparison treats as the
// key order does up to ±0 ties; and long runs of ties.
func TestTopKStream(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, n := range []int{8, 9, 64, 2047, 2048, 4099, 20000} {
		in := topKInputs(n, uint64(n)+1)
		r := rand.New(rand.NewPCG(uint64(n), 5))
		gen := func(name string, f func(i int) float32) {
			x := make([]float32, n)
			for i := range x {
				x[i] = f(i)
			}
			in[name] = x
		}
		gen("nanprefix", func(i int) float32 {
			if i < n/2 {
				return nan
			}
			return float32(r.NormFloat64())
		})
		gen("nanprefix-inf", func(i int) float32 {
			switch {
			case i < n-3:
				return nan
			case i == n-1:
				return -inf
			}
			return float32(-i)
		})
		gen("zeros", func(i int) float32 {
			return [...]float32{0, float32(math.Copysign(0, -1)), -1, 1e-45, -1e-45}[r.IntN(5)]
		})
		gen("infs", func(i int) float32 {
			return [...]float32{inf, -inf, nan, 1, -1}[r.IntN(5)]
		})
		gen("ties", func(i int) float32 { return float32(i / 1000) })
		for name, x := range in {
			for _, k := range []int{1, 2, 7, 64, 257, n / 8} {
				if k < 1 || k > n/8 {
					continue
				}
				for _, mag := range []bool{false, true} {
					label := fmt.Sprintf("%s n=%d k=%d mag=%v", name, n, k, mag)
					idx, check := guardedInt32(n, 2)
					sel, th := TopK(idx, x, k, mag)
					check(t, label)
					checkTopK(t, label, x, k, mag, sel, th)
					// TopK streams only for k <= n/streamMinRatio; the
					// streaming selection must be right for any k <= n/8.
					idx, check = guardedInt32(n, 2)
					sel = streamTopK(idx, x, k, mag)
					check(t, "streamTopK "+label)
					checkTopK(t, "streamTopK "+label, x, k, mag, sel, keyValue(topKey(x[sel[k-1]], mag)))
				}
			}
		}
	}
}

// TestTopKSampleFallback defeats the sampling first step: the elements at
// the sample positions are the largest, so fewer than k survive its filter
// and TopK must fall back to plain introselect.
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
	for _, k := range []int{n / step / 2, n/step + 1, n / 8} {
		idx := make([]int32, n)
		if c := sampleFilter(idx, x, k, false); k > n/step+1 && c != 0 {
			t.Fatalf("k=%d: sampleFilter kept %d candidates; the test no longer reaches the fallback", k, c)
		}
		sel, th := TopK(idx, x, k, false)
		checkTopK(t, fmt.Sprintf("k=%d", k), x, k, false, sel, th)
	}
}

// TestTopKSortFallback runs the selection with no partition budget, and a
// budget of one, so the sort-based fallback is exercised.
func TestTopKSortFallback(t *testing.T) {
	for name, x := range topKInputs(1000, 9) {
		for _, budget := range []int{0, 1} {
			for _, k := range []int{1, 10, 500, 999} {
				idx := make([]int32, len(x))
				for i := range idx {
					idx[i] = int32(i)
				}
				selectBudget(idx, x, k-1, true, budget)
				sel := idx[:k]
				checkTopK(t, fmt.Sprintf("%s budget=%d k=%d", name, budget, k), x, k, true, sel, keyValue(topKey(x[idx[k-1]], true)))
			}
		}
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
	if a := testing.AllocsPerRun(10, func() { TopK(idx, x, 100, true) }); a != 0 {
		t.Fatalf("TopK allocates %v times per call", a)
	}
}

func TestTopKPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short idx":  func() { TopK(make([]int32, 2), make([]float32, 3), 1, false) },
		"negative k": func() { TopK(make([]int32, 3), make([]float32, 3), -1, false) },
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
		x[i] = float32(r.NormFloat64())
	}
	for _, k := range []int{0, 1, 7, cols} {
		for _, mag := range []bool{false, true} {
			check := func(label string, dst []int32) {
				t.Helper()
				for row := range rows {
					sel := dst[row*k : (row+1)*k]
					xr := x[row*cols : (row+1)*cols]
					checkTopK(t, fmt.Sprintf("%s k=%d mag=%v row=%d", label, k, mag, row), xr, k, mag, sel, topKThresh(xr, sel, mag))
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

// topKThresh recomputes the minimum key of a selection, to feed checkTopK
// for callers that do not return a threshold.
func topKThresh(x []float32, sel []int32, mag bool) float32 {
	if len(sel) == 0 {
		return float32(math.Inf(1))
	}
	m := topKey(x[sel[0]], mag)
	for _, i := range sel[1:] {
		m = min(m, topKey(x[i], mag))
	}
	return keyValue(m)
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
	})
}

func ExampleTopK() {
	x := []float32{0.1, -3, 2, 0.5, -0.2}
	idx := make([]int32, len(x))
	sel, thresh := TopK(idx, x, 2, true)
	slices.Sort(sel)
	fmt.Println(sel, thresh)
	// Output: [1 2] 2
}

// The benchmark size is a vocabulary-sized output layer with a 1% budget.
const benchTopKN = 33278

func BenchmarkTopK(b *testing.B) {
	x := topKInputs(benchTopKN, 1)["random"]
	idx := make([]int32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		TopK(idx, x, benchTopKN/100, true)
	}
}

func BenchmarkTopKSortBaseline(b *testing.B) {
	x := topKInputs(benchTopKN, 1)["random"]
	idx := make([]int32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		for i := range idx {
			idx[i] = int32(i)
		}
		slices.SortFunc(idx, func(a, b int32) int {
			return cmp.Compare(math.Abs(float64(x[b])), math.Abs(float64(x[a])))
		})
		_ = idx[:benchTopKN/100]
	}
}

// BenchmarkTopKScreen is approximate screening's selection: the top m of
// the approximate logits over a large vocabulary, by value.
func BenchmarkTopKScreen(b *testing.B) {
	for _, n := range []int{268000, 1000000} {
		x := topKInputs(n, 2)["random"]
		idx := make([]int32, len(x))
		for _, k := range []int{64, 256} {
			b.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				for b.Loop() {
					TopK(idx, x, k, false)
				}
			})
		}
	}
}
