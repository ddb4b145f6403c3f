package sel

import (
	"cmp"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

var nan = float32(math.NaN())

// TestThresholdEq317 checks the fixed-threshold rule against hand-worked
// cases of eq. 3.17.
func TestThresholdEq317(t *testing.T) {
	y := []float32{-3, -0.5, 0, 0.5, 3, 1}
	for _, tc := range []struct {
		act   Activation
		theta float32
		y     []float32
		want  []int32
	}{
		{Tanh, 1, y, []int32{1, 2, 3, 5}},        // |y| > 1 is saturated; |1| is not > 1
		{Sigmoid, 0.5, y, []int32{1, 2, 3}},      // |y| > 0.5 is saturated
		{ReLU, 0, y, []int32{2, 3, 4, 5}},        // y < 0 is insensitive
		{ReLU, 0.75, y, []int32{4, 5}},           // y < 0.75 is insensitive
		{Identity, 0.75, y, []int32{0, 4, 5}},    // |y| < 0.75 is insensitive
		{Tanh, 1, []float32{nan, 5}, []int32{0}}, // NaN is recomputed
		{ReLU, 0, []float32{nan, -1}, []int32{0}},
		{Identity, 1, []float32{nan, 0}, []int32{0}},
		{Tanh, 1, nil, []int32{}},
	} {
		got := Threshold{tc.act, tc.theta}.Select(nil, tc.y)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v θ=%v on %v: got %v, want %v", tc.act, tc.theta, tc.y, got, tc.want)
		}
		for i, v := range tc.y {
			if tc.act.Insensitive(v, tc.theta) == slices.Contains(tc.want, int32(i)) {
				t.Errorf("%v.Insensitive(%v, %v) disagrees with Select", tc.act, v, tc.theta)
			}
		}
	}
}

// TestThresholdMonotone: raising θ grows the sensitive set of sigmoid and
// tanh (less counts as saturated) and shrinks that of ReLU and Identity.
func TestThresholdMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	y := make([]float32, 500)
	for i := range y {
		y[i] = float32(math.Round(rng.NormFloat64()*8) / 4) // ties on purpose
	}
	for _, act := range []Activation{Sigmoid, Tanh, ReLU, Identity} {
		prev := Threshold{act, -5}.Select(nil, y)
		for th := float32(-4.75); th <= 5; th += 0.25 {
			cur := Threshold{act, th}.Select(nil, y)
			grow := act == Sigmoid || act == Tanh
			small, big := prev, cur
			if !grow {
				small, big = cur, prev
			}
			if !subset(small, big) {
				t.Fatalf("%v: sensitive set at θ=%v is not monotone", act, th)
			}
			prev = cur
		}
	}
}

func subset(a, b []int32) bool {
	for _, v := range a {
		if _, ok := slices.BinarySearch(b, v); !ok {
			return false
		}
	}
	return true
}

// TestAdaptiveEq318 checks eq. 3.18 numerically and against the noise
// bounds of eqs. 3.1 and 3.2 it was derived from: at |y| = θ_th the bound
// equals θ exactly.
func TestAdaptiveEq318(t *testing.T) {
	const theta, delta = 0.01, 0.5
	for _, tc := range []struct {
		act   Activation
		want  float64
		bound func(y float64) float64 // error bound at pre-activation y
	}{
		{Tanh, 0.5 * math.Log(100), func(y float64) float64 { return 2 * math.Exp(-2*math.Abs(y)) * delta }}, // 2.302585
		{Sigmoid, math.Log(50), func(y float64) float64 { return math.Exp(-math.Abs(y)) * delta }},           // 3.912023
		{ReLU, -0.49, nil},
		{Identity, 0, nil}, // δ ≥ θ: the linear error δ is never tolerable
	} {
		th, err := Adaptive(tc.act, theta, delta)
		if err != nil {
			t.Fatal(err)
		}
		if th.Act != tc.act || math.Abs(float64(th.Theta)-tc.want) > 1e-6 {
			t.Errorf("%v: θ_th = %v, want %v", tc.act, th.Theta, tc.want)
		}
		if tc.bound != nil {
			if b := tc.bound(float64(th.Theta)); math.Abs(b-theta) > 1e-8 {
				t.Errorf("%v: bound at θ_th is %v, want θ = %v", tc.act, b, theta)
			}
		}
	}
	// With |δ| < θ everything is tolerable: the logs go negative and every
	// output is insensitive.
	y := []float32{0, 0.1, -4}
	for _, act := range []Activation{Sigmoid, Tanh, Identity} {
		th, err := Adaptive(act, 0.1, 0.01)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.Select(nil, y); len(got) != 0 {
			t.Errorf("%v with |δ| < θ: sensitive %v, want none", act, got)
		}
	}
	for _, tc := range []struct {
		act          Activation
		theta, delta float64
	}{
		{Tanh, 0, 1}, {Tanh, -1, 1}, {Tanh, math.NaN(), 1}, {Tanh, math.Inf(1), 1},
		{Sigmoid, 1, -1}, {Sigmoid, 1, math.NaN()}, {ReLU, 1, math.Inf(1)},
		{Activation(9), 1, 1},
	} {
		if _, err := Adaptive(tc.act, tc.theta, tc.delta); !errors.Is(err, ErrParam) {
			t.Errorf("Adaptive(%v, %v, %v) error = %v, want ErrParam", tc.act, tc.theta, tc.delta, err)
		}
	}
}

func TestDelta(t *testing.T) {
	// ‖(3,4,0,0)‖₂ = 5 over n = 4.
	if d := Delta([]float32{3, 4, 0, 0}, make([]float32, 4)); d != 1.25 {
		t.Errorf("Delta = %v, want 1.25", d)
	}
	var c Calibrator
	if !math.IsNaN(c.Delta()) {
		t.Error("empty Calibrator should report NaN")
	}
	c.Add([]float32{3, 4, 0, 0}, make([]float32, 4))
	c.Add([]float32{2, 3, 4, 5}, []float32{1, 2, 3, 4}) // ‖1,1,1,1‖ = 2, /4
	if c.N() != 2 || c.Delta() != (1.25+0.5)/2 {
		t.Errorf("Calibrator: N=%d Delta=%v, want 2, 0.875", c.N(), c.Delta())
	}
}

// TestTopKEq319 checks top-K selection on a hand-worked vector.
func TestTopKEq319(t *testing.T) {
	y := []float32{-3, -0.5, 0.1, 0.5, 3, 1, -2, 0.2}
	for _, tc := range []struct {
		act    Activation
		ratio  float64
		want   []int32
		thresh float32
	}{
		// |y| ascending: 0.1 0.2 0.5 0.5 | 1 2 3 3 → keep the 4 smallest.
		{Tanh, 0.5, []int32{1, 2, 3, 7}, 0.5},
		// y descending: 3 1 0.5 0.2 0.1 -0.5 | -2 -3 → keep 6.
		{ReLU, 0.25, []int32{1, 2, 3, 4, 5, 7}, -0.5},
		{Identity, 0.75, []int32{0, 4}, 3},
		{Sigmoid, 0, []int32{0, 1, 2, 3, 4, 5, 6, 7}, 3},
		{Sigmoid, 0.9, []int32{2}, 0.1}, // round(7.2) = 7 insensitive
		{Tanh, 0.99, []int32{}, float32(math.Inf(-1))},
		{ReLU, 0.99, []int32{}, float32(math.Inf(1))},
	} {
		s, err := NewTopK(tc.act, tc.ratio)
		if err != nil {
			t.Fatal(err)
		}
		got := s.Select(nil, y)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v ratio %v: got %v, want %v", tc.act, tc.ratio, got, tc.want)
		}
		if th := s.Threshold(make([]int32, len(y)), y); th != tc.thresh {
			t.Errorf("%v ratio %v: threshold %v, want %v", tc.act, tc.ratio, th, tc.thresh)
		}
	}
	// Ties at the K-th place split by index, whatever order TopK returns.
	ties := []float32{1, -1, 1, 1}
	for _, tc := range []struct {
		act  Activation
		want []int32
	}{
		{ReLU, []int32{0, 2}},
		{Identity, []int32{0, 1}},
		{Tanh, []int32{2, 3}}, // the first tied entries become insensitive
	} {
		s, _ := NewTopK(tc.act, 0.5)
		if got := s.Select(nil, ties); !slices.Equal(got, tc.want) {
			t.Errorf("%v on ties %v: got %v, want %v", tc.act, ties, got, tc.want)
		}
	}
	for _, r := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if _, err := NewTopK(Tanh, r); !errors.Is(err, ErrRatio) {
			t.Errorf("NewTopK ratio %v: error %v, want ErrRatio", r, err)
		}
	}
	if _, err := NewTopK(Activation(7), 0.5); !errors.Is(err, ErrParam) {
		t.Errorf("NewTopK bad activation: error %v, want ErrParam", err)
	}
	s, _ := NewTopK(ReLU, 0.5)
	if err := s.SetRatio(1); !errors.Is(err, ErrRatio) || s.Ratio() != 0.5 {
		t.Errorf("SetRatio(1): error %v, ratio now %v", err, s.Ratio())
	}
}

// TestTopKProperties: for random sizes, ratios and heavily tied data, the
// selection keeps exactly n − round(r·n) outputs, ascending and unique, and
// every kept output is at least as sensitive as every dropped one. The
// threshold of eq. 3.19 fed to eq. 3.17 selects a superset, equal when the
// values are distinct.
func TestTopKProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 2000 {
		n := 1 + rng.IntN(300)
		ratio := rng.Float64()
		if trial%40 == 0 {
			// Long vectors with extreme ratios reach kernels.TopK's
			// sampled-pivot path (k <= n/4) and BottomK's complement.
			n = 2048 + rng.IntN(4000)
			ratio = []float64{0.02, 0.97}[trial/40%2]
		}
		act := Activation(rng.IntN(4))
		distinct := trial%2 == 0
		y := make([]float32, n)
		for i := range y {
			if distinct {
				y[i] = float32(rng.NormFloat64())
			} else {
				y[i] = float32(rng.IntN(7) - 3)
			}
		}
		s, err := NewTopK(act, ratio)
		if err != nil {
			t.Fatal(err)
		}
		got := s.Select(make([]int32, 0, n), y)
		wantIns := int(math.Round(ratio * float64(n)))
		if n-len(got) != wantIns {
			t.Fatalf("n=%d r=%v: %d insensitive, want %d", n, ratio, n-len(got), wantIns)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("selection not ascending and unique: %v", got)
		}
		score := sensitivity(act)
		m := make([]bool, n)
		Mask(m, got)
		minSel, maxIns := math.Inf(1), math.Inf(-1)
		for i, v := range y {
			if m[i] {
				minSel = min(minSel, score(v))
			} else {
				maxIns = max(maxIns, score(v))
			}
		}
		if minSel < maxIns {
			t.Fatalf("%v: a dropped output (score %v) outranks a kept one (%v)", act, maxIns, minSel)
		}
		th := Threshold{act, s.Threshold(make([]int32, n), y)}.Select(nil, y)
		if !subset(got, th) || distinct && !slices.Equal(got, th) {
			t.Fatalf("%v: eq. 3.17 with the eq. 3.19 threshold gives %v, top-K gives %v", act, th, got)
		}
	}
}

// TestTopKExact: Select must return exactly the K most sensitive outputs
// of a sort-based reference, ties split by index (for sigmoid and tanh,
// the complement of the n−K least sensitive, so the higher index stays
// sensitive), NaN least sensitive for ReLU and Identity and most for
// sigmoid and tanh, ±0 equal, infinities included.
func TestTopKExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1, 1e-40, -1e-40}
	for _, n := range []int{1, 2, 3, 7, 64, 257, 1500, 5000} {
		for trial := range 6 {
			v := make([]float32, n)
			for i := range v {
				switch trial {
				case 0: // distinct
					v[i] = float32(rng.NormFloat64())
				case 1: // heavy ties
					v[i] = float32(rng.IntN(5) - 2)
				case 2: // specials mixed in
					v[i] = float32(rng.NormFloat64() * 3)
					if rng.IntN(4) == 0 {
						v[i] = special[rng.IntN(len(special))]
					}
				case 3: // keys sharing their top bytes
					v[i] = 1 + float32(rng.IntN(8))*1e-7
				case 4: // all equal
					v[i] = 0.5
				default: // wide range
					v[i] = float32(math.Exp(rng.NormFloat64()*20) * float64(rng.IntN(3)-1))
				}
			}
			for _, act := range []Activation{Sigmoid, Tanh, ReLU, Identity} {
				for _, ratio := range []float64{0, 0.1, 0.5, 0.9, 0.999} {
					s, err := NewTopK(act, ratio)
					if err != nil {
						t.Fatal(err)
					}
					want := refTopK(v, s.K(n), act)
					if got := s.Select(make([]int32, n), v); !slices.Equal(got, want) {
						t.Fatalf("n=%d trial %d %v ratio %v: got %v, want %v", n, trial, act, ratio, got, want)
					}
				}
			}
		}
	}
}

// refTopK ranks v by a stable sort on sensitivity, where NaN and ties are
// placed by the rules TopK documents, and returns the best k, ascending.
func refTopK(v []float32, k int, act Activation) []int32 {
	idx := make([]int32, len(v))
	for i := range idx {
		idx[i] = int32(i)
	}
	// Sigmoid and tanh rank the reverse of |v| descending with NaN last
	// and lower index first, so reverse the index order before sorting.
	compl := act == Sigmoid || act == Tanh
	if compl {
		slices.Reverse(idx)
	}
	key := func(i int32) float64 {
		f := float64(v[i])
		if act != ReLU {
			f = math.Abs(f)
		}
		return f
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		ka, kb := key(a), key(b)
		c := 0
		switch an, bn := math.IsNaN(ka), math.IsNaN(kb); {
		case an && bn:
		case an:
			c = 1
		case bn:
			c = -1
		default:
			c = -cmp.Compare(ka, kb)
		}
		if compl {
			c = -c
		}
		return c
	})
	sel := slices.Clone(idx[:k])
	slices.Sort(sel)
	return sel
}

// sensitivity ranks outputs: higher means more in need of exact compute.
func sensitivity(act Activation) func(float32) float64 {
	switch act {
	case Sigmoid, Tanh:
		return func(v float32) float64 { return -math.Abs(float64(v)) }
	case ReLU:
		return func(v float32) float64 { return float64(v) }
	}
	return func(v float32) float64 { return math.Abs(float64(v)) }
}

// TestSelectBatch follows Figure A.1: the threshold comes from the first
// sample and is applied to all.
func TestSelectBatch(t *testing.T) {
	for _, tc := range []struct {
		act    Activation
		x      []float32
		counts []int
		want   []int32
	}{
		// ReLU, K = 2: sample 0 gives θ = 3, then y >= 3 is kept.
		{ReLU, []float32{4, 1, 3, 2, 0, 5, 3, -1, 1, 1, 1, 1}, []int{2, 2, 0}, []int32{0, 2, 1, 2}},
		// tanh, K = 2: sample 0 gives θ = 0.3, then |y| <= 0.3 is kept.
		{Tanh, []float32{0.1, -2, 0.3, 5, 0.3, -0.31, 0, 9}, []int{2, 2}, []int32{0, 2, 0, 2}},
	} {
		s, _ := NewTopK(tc.act, 0.5)
		counts := make([]int, len(tc.counts))
		got := s.SelectBatch(nil, counts, tc.x, 4)
		if !slices.Equal(got, tc.want) || !slices.Equal(counts, tc.counts) {
			t.Errorf("%v: got %v counts %v, want %v counts %v", tc.act, got, counts, tc.want, tc.counts)
		}
	}
	s, _ := NewTopK(ReLU, 0.5)
	if got := s.SelectBatch(nil, nil, nil, 4); len(got) != 0 {
		t.Errorf("empty batch selected %v", got)
	}
}

func TestRowTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const rows, cols, k = 6, 9, 3
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for _, mag := range []bool{false, true} {
		dst := make([]int32, rows*k)
		got := RowTopK{K: k, ByMagnitude: mag}.SelectRows(dst, x, rows, cols, make([]int32, cols))
		for r := range rows {
			row := x[r*cols : (r+1)*cols]
			order := make([]int32, cols)
			for i := range order {
				order[i] = int32(i)
			}
			key := func(i int32) float64 {
				if mag {
					return math.Abs(float64(row[i]))
				}
				return float64(row[i])
			}
			slices.SortFunc(order, func(a, b int32) int { return -cmpF(key(a), key(b)) })
			want := slices.Sorted(slices.Values(order[:k]))
			if !slices.Equal(got[r*k:(r+1)*k], want) {
				t.Errorf("mag=%v row %d: got %v, want %v", mag, r, got[r*k:(r+1)*k], want)
			}
		}
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestAssembleEq35 checks eq. 3.5 by hand, that rows the exact module
// skipped cannot leak, and that the executor's copy-then-GemvGather route
// computes the same y.
func TestAssembleEq35(t *testing.T) {
	exact := []float32{10, nan, 30, float32(math.Inf(1))} // skipped rows hold junk
	approx := []float32{1, 2, 3, 4}
	idx := []int32{0, 2}
	want := []float32{10, 2, 30, 4}
	m := make([]bool, 4)
	Mask(m, idx)
	if !slices.Equal(m, []bool{true, false, true, false}) {
		t.Fatalf("Mask = %v", m)
	}
	if back := Indices(nil, m); !slices.Equal(back, idx) {
		t.Errorf("Indices(Mask(idx)) = %v, want %v", back, idx)
	}
	got := make([]float32, 4)
	Assemble(got, exact, approx, m)
	if !slices.Equal(got, want) {
		t.Errorf("Assemble = %v, want %v", got, want)
	}
	got = make([]float32, 4)
	AssembleIndex(got, exact, approx, idx)
	if !slices.Equal(got, want) {
		t.Errorf("AssembleIndex = %v, want %v", got, want)
	}
	inPlace := slices.Clone(approx)
	AssembleIndex(inPlace, exact, inPlace, idx)
	if !slices.Equal(inPlace, want) {
		t.Errorf("AssembleIndex in place = %v, want %v", inPlace, want)
	}
	if r := InsensitiveRatio(len(idx), 4); r != 0.5 {
		t.Errorf("InsensitiveRatio = %v, want 0.5", r)
	}

	// Executor form: y = approx, then GemvGather overwrites the selected rows.
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, cols = 16, 5
	w := make([]float32, rows*cols)
	x := make([]float32, cols)
	ya := make([]float32, rows)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range ya {
		ya[i] = float32(rng.NormFloat64())
	}
	s, _ := NewTopK(Tanh, 0.5)
	sel := s.Select(nil, ya)
	ye := make([]float32, rows)
	kernels.Gemv(ye, w, cols, x, nil)
	ref := make([]float32, rows)
	mk := make([]bool, rows)
	Mask(mk, sel)
	Assemble(ref, ye, ya, mk)
	y := slices.Clone(ya)
	kernels.GemvGather(y, w, cols, x, nil, sel)
	// Unselected rows are copies, so exact; Gemv and GemvGather are
	// different kernels, free to sum a row's cols products in different
	// orders, so selected rows agree within twice the float32 dot bound
	// γ(cols)·Σ|wx|, γ(n) = nu/(1-nu), u = 2⁻²⁴.
	const u = 0x1p-24
	g := float64(cols) * u / (1 - float64(cols)*u)
	for i := range rows {
		var mag float64
		for j, v := range x {
			mag += math.Abs(float64(w[i*cols+j]) * float64(v))
		}
		tol := 0.0
		if mk[i] {
			tol = 2 * g * mag
		}
		if d := math.Abs(float64(y[i]) - float64(ref[i])); !(d <= tol) {
			t.Errorf("row %d (selected %v): copy+GemvGather %v, eq. 3.5 %v, want within %.3g", i, mk[i], y[i], ref[i], tol)
		}
	}
}

func TestSelectNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 4096
	y := make([]float32, 4*n)
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	dst := make([]int32, 0, len(y))
	counts := make([]int, 4)
	tanhK, _ := NewTopK(Tanh, 0.5)
	reluK, _ := NewTopK(ReLU, 0.3)
	for name, fn := range map[string]func(){
		"Threshold":   func() { Threshold{Tanh, 1}.Select(dst, y[:n]) },
		"TopK tanh":   func() { tanhK.Select(dst, y[:n]) },
		"TopK relu":   func() { reluK.Select(dst, y[:n]) },
		"SelectBatch": func() { tanhK.SelectBatch(dst, counts, y, n) },
		"RowTopK":     func() { RowTopK{K: 8}.SelectRows(dst[:4*8], y, 4, n, dst[len(y)-n:len(y)]) },
	} {
		if a := testing.AllocsPerRun(10, fn); a != 0 {
			t.Errorf("%s: %v allocations per call", name, a)
		}
	}
}

func BenchmarkSelect(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 4096
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	dst := make([]int32, 0, n)
	tanhK, _ := NewTopK(Tanh, 0.5)
	reluK, _ := NewTopK(ReLU, 0.5)
	for _, bc := range []struct {
		name string
		s    Selector
	}{
		{"Threshold", Threshold{Tanh, 0.7}},
		{"TopK/tanh", tanhK},
		{"TopK/relu", reluK},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				dst = bc.s.Select(dst, y)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for m := ModeTopK; m <= ModeCertified; m++ {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("gap", ModeTopK, ModeFixed); !errors.Is(err, ErrMode) || !strings.Contains(err.Error(), "topk, fixed") {
		t.Errorf("ParseMode(gap, topk, fixed) = %v, want ErrMode listing the allowed names", err)
	}
	if _, err := ParseMode("nonsense"); !errors.Is(err, ErrMode) {
		t.Errorf("ParseMode(nonsense) = %v", err)
	}
	if s := Mode(99).String(); s != "Mode(99)" {
		t.Errorf("Mode(99).String() = %q", s)
	}
}

// TopM, Gap and the flat RowTopK agree with a sort of the values.
func TestTopMGapRowTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 97
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return v[order[a]] > v[order[b]] })
	for _, m := range []int{0, 1, 5, n, n + 3} {
		got := TopM{M: m}.Select(nil, v)
		want := slices.Clone(order[:min(m, n)])
		slices.Sort(want)
		if len(got) != len(want) {
			t.Fatalf("TopM{%d}: %d indices, want %d", m, len(got), len(want))
		}
		for i := range got {
			if int(got[i]) != want[i] {
				t.Fatalf("TopM{%d}: %v, want %v", m, got, want)
			}
		}
	}
	top := v[order[0]]
	for _, gap := range []float32{0, 0.5, 2, 100} {
		got := Gap{Gap: gap}.Select(nil, v)
		var want []int32
		for i, x := range v {
			if top-x <= gap {
				want = append(want, int32(i))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Gap{%v}: %v, want %v", gap, got, want)
		}
	}
	w := slices.Clone(v)
	w[10] = float32(math.NaN())
	for _, i := range (Gap{Gap: 100}).Select(nil, w) {
		if i == 10 {
			t.Fatal("Gap kept a NaN output")
		}
	}
	// RowTopK over rows of cols: flat indices, each row's ascending, and
	// each row's K largest.
	const rows, cols, k = 4, 24, 5
	x := v[:rows*cols]
	got := RowTopK{K: k, Cols: cols}.Select(make([]int32, 0, rows*k+cols), x)
	if len(got) != rows*k {
		t.Fatalf("RowTopK: %d indices, want %d", len(got), rows*k)
	}
	for r := range rows {
		row := got[r*k : (r+1)*k]
		for i, f := range row {
			if int(f)/cols != r || (i > 0 && f <= row[i-1]) {
				t.Fatalf("row %d: %v not ascending flat indices of the row", r, row)
			}
		}
		kth := slices.Clone(x[r*cols : (r+1)*cols])
		slices.Sort(kth)
		for _, f := range row {
			if x[f] < kth[cols-k] {
				t.Fatalf("row %d: kept %v below the %d-th largest %v", r, x[f], k, kth[cols-k])
			}
		}
	}
}
