package svdsoftmax

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// lowRank returns a rows×cols classifier W = A·C + noise·E with A, C, E
// standard normal (C scaled by 1/√rank), rows scaled by log-normal factors
// so row norms are skewed as in trained output layers, and a small bias.
func lowRank(rows, cols, rank int, noise float64, seed uint64) (w, b []float32) {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := make([]float64, rank*cols)
	for i := range c {
		c[i] = rng.NormFloat64() / math.Sqrt(float64(rank))
	}
	w = make([]float32, rows*cols)
	b = make([]float32, rows)
	a := make([]float64, rank)
	for r := range rows {
		for k := range a {
			a[k] = rng.NormFloat64()
		}
		scale := math.Exp(0.3 * rng.NormFloat64())
		for j := range cols {
			var s float64
			for k, ak := range a {
				s += ak * c[k*cols+j]
			}
			w[r*cols+j] = float32(scale * (s + noise*rng.NormFloat64()))
		}
		b[r] = float32(0.1 * rng.NormFloat64())
	}
	return w, b
}

func normals(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// exactLogits returns W·h + b in float64.
func exactLogits(w, b []float32, cols int, h []float32) []float64 {
	z := make([]float64, len(w)/cols)
	for r := range z {
		s := float64(b[r])
		for j, x := range h {
			s += float64(w[r*cols+j]) * float64(x)
		}
		z[r] = s
	}
	return z
}

// top2 returns the index of the largest z and its gap to the second.
func top2(z []float64) (int32, float64) {
	best, second := math.Inf(-1), math.Inf(-1)
	arg := int32(-1)
	for i, v := range z {
		if v > best {
			best, second, arg = v, best, int32(i)
		} else if v > second {
			second = v
		}
	}
	return arg, best - second
}

func TestFullBudgetIsExact(t *testing.T) {
	const rows, cols, nq = 800, 48, 60
	w, b := lowRank(rows, cols, 6, 0.3, 1)
	m, err := New(nil, w, b, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, win := range []int{cols, 4} {
		s := m.Searcher(win, nil)
		checked := 0
		for q := range nq {
			h := normals(cols, uint64(100+q))
			ref := exactLogits(w, b, cols, h)
			top, err := s.TopK(h, rows, 1)
			if err != nil {
				t.Fatal(err)
			}
			// With n = rows every logit is recomputed over the full width.
			for r, v := range s.Logits() {
				if d := math.Abs(float64(v) - ref[r]); d > 1e-4*(1+math.Abs(ref[r])) {
					t.Fatalf("window %d input %d class %d: logit %v, exact %v", win, q, r, v, ref[r])
				}
			}
			arg, gap := top2(ref)
			if gap < 1e-3 {
				continue // a rounding-level tie; either class is right
			}
			checked++
			if top[0] != arg {
				t.Errorf("window %d input %d: top-1 %d, exact %d (gap %.3g)", win, q, top[0], arg, gap)
			}
		}
		if checked < nq*9/10 {
			t.Fatalf("window %d: only %d of %d inputs without near-ties", win, checked, nq)
		}
	}
}

func TestGramRouteMatchesSVD(t *testing.T) {
	// Well-conditioned matrices match to 1e-6 relative. A square Gaussian
	// matrix has a tiny smallest singular value, which squaring in WᵀW
	// loses; there the error is bounded relative to σ_max instead.
	for _, tc := range []struct {
		rows, cols int
		relToMax   bool
	}{{300, 24, false}, {1000, 7, false}, {100, 32, false}, {24, 24, true}} {
		w := normals(tc.rows*tc.cols, 3)
		m, err := New(kernels.NewPool(2), w, nil, tc.rows, tc.cols)
		if err != nil {
			t.Fatal(err)
		}
		w64 := make([]float64, len(w))
		for i, x := range w {
			w64[i] = float64(x)
		}
		var svd mat.SVD
		if !svd.Factorize(mat.NewDense(tc.rows, tc.cols, w64), mat.SVDNone) {
			t.Fatal("mat.SVD failed")
		}
		want := svd.Values(nil)
		got := m.SingularValues()
		for i := range want {
			den := want[i]
			if tc.relToMax {
				den = want[0]
			}
			if rel := math.Abs(got[i]-want[i]) / den; rel > 1e-6 {
				t.Errorf("%d×%d: σ%d = %v, mat.SVD %v (rel %.2g)", tc.rows, tc.cols, i, got[i], want[i], rel)
			}
		}
		// Exactness of the candidate logits rests on V being orthogonal.
		d := tc.cols
		for i := range d {
			for j := range d {
				var s float64
				for k := range d {
					s += float64(m.vt[i*d+k]) * float64(m.vt[j*d+k])
				}
				if want := b2f(i == j); math.Abs(s-want) > 1e-6 {
					t.Fatalf("%d×%d: (VᵀV)[%d,%d] = %v", tc.rows, tc.cols, i, j, s)
				}
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestAgreementGrowsWithBudget(t *testing.T) {
	const rows, cols, nq = 5000, 64, 200
	w, b := lowRank(rows, cols, 8, 0.08, 4)
	m, err := New(nil, w, b, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	ref := make([]int32, nq)
	hs := make([][]float32, nq)
	for q := range nq {
		hs[q] = normals(cols, uint64(1000+q))
		ref[q], _ = top2(exactLogits(w, b, cols, hs[q]))
	}
	agree := func(win, n int) float64 {
		s := m.Searcher(win, nil)
		pred := make([]int32, nq)
		for q, h := range hs {
			top, err := s.TopK(h, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			pred[q] = top[0]
		}
		return clsmetrics.Agreement(pred, ref)
	}
	windows, cands := []int{1, 4, 16}, []int{1, 4, 32}
	grid := make([][]float64, len(windows))
	for i, win := range windows {
		for _, n := range cands {
			grid[i] = append(grid[i], agree(win, n))
		}
		// Candidate sets are nested in n, so agreement cannot drop.
		if !slices.IsSorted(grid[i]) {
			t.Errorf("window %d: agreement over n=%v not monotone: %v", win, cands, grid[i])
		}
	}
	t.Logf("agreement (rows: window %v, cols: n %v): %v", windows, cands, grid)
	for j := range cands {
		if grid[0][j] > grid[len(windows)-1][j] {
			t.Errorf("n=%d: window %d agrees %.3f > window %d %.3f", cands[j], windows[0], grid[0][j], windows[len(windows)-1], grid[len(windows)-1][j])
		}
	}
	if lo, hi := grid[0][0], grid[len(windows)-1][len(cands)-1]; lo > 0.7 || hi < 0.99 {
		t.Errorf("agreement at the smallest budget %.3f (want ≤ 0.7), largest %.3f (want ≥ 0.99)", lo, hi)
	}
}

func TestMixedLogits(t *testing.T) {
	const rows, cols, win, n = 600, 32, 5, 40
	w, b := lowRank(rows, cols, 4, 0.2, 5)
	m, err := New(nil, w, b, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Searcher(win, nil)
	h := normals(cols, 6)
	cand, err := s.Query(h, n)
	if err != nil {
		t.Fatal(err)
	}
	ref := exactLogits(w, b, cols, h)
	ht := make([]float64, cols)
	for j := range cols {
		for k := range cols {
			ht[j] += float64(m.vt[j*cols+k]) * float64(h[k])
		}
	}
	isCand := make([]bool, rows)
	for _, c := range cand {
		isCand[c] = true
	}
	var minCand, maxOther = math.Inf(1), math.Inf(-1)
	for r, v := range s.Logits() {
		want := ref[r]
		if !isCand[r] {
			want = float64(b[r])
			for j := range win {
				want += float64(m.bm[r*cols+j]) * ht[j]
			}
			maxOther = max(maxOther, want)
		}
		if math.Abs(float64(v)-want) > 1e-4*(1+math.Abs(want)) {
			t.Fatalf("class %d (candidate %v): mixed logit %v, want %v", r, isCand[r], v, want)
		}
	}
	// The candidates are the n largest previews.
	for _, c := range cand {
		p := float64(b[c])
		for j := range win {
			p += float64(m.bm[int(c)*cols+j]) * ht[j]
		}
		minCand = min(minCand, p)
	}
	if len(cand) != n || minCand < maxOther-1e-4 {
		t.Errorf("%d candidates, smallest preview %v < largest other %v", len(cand), minCand, maxOther)
	}
}

func TestParallelSelectionMatchesSerial(t *testing.T) {
	const rows, cols = parallelTopKMin + 123, 4
	w, b := lowRank(rows, cols, 2, 0.5, 7)
	m, err := New(nil, w, b, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	p := kernels.NewPool(2)
	defer p.Close()
	serial, parallel := m.Searcher(2, nil), m.Searcher(2, p)
	for q := range 5 {
		h := normals(cols, uint64(q))
		for _, n := range []int{1, 17, 500} {
			a, _ := serial.Query(h, n)
			c, _ := parallel.Query(h, n)
			a, c = slices.Clone(a), slices.Clone(c)
			slices.Sort(a)
			slices.Sort(c)
			if !slices.Equal(a, c) {
				t.Fatalf("input %d n=%d: parallel candidates differ from serial", q, n)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	w, b := lowRank(50, 8, 2, 0.1, 8)
	bad := slices.Clone(w)
	bad[17] = float32(math.NaN())
	if _, err := New(nil, bad, b, 50, 8); !errors.Is(err, clsmetrics.ErrNaN) {
		t.Errorf("NaN in W: err = %v, want ErrNaN", err)
	}
	badB := slices.Clone(b)
	badB[3] = float32(math.Inf(1))
	if _, err := New(nil, w, badB, 50, 8); !errors.Is(err, clsmetrics.ErrNaN) {
		t.Errorf("Inf in b: err = %v, want ErrNaN", err)
	}
	m, err := New(nil, w, b, 50, 8)
	if err != nil {
		t.Fatal(err)
	}
	h := normals(8, 9)
	h[2] = float32(math.NaN())
	if _, err := m.Searcher(4, nil).Query(h, 5); !errors.Is(err, clsmetrics.ErrNaN) {
		t.Errorf("NaN in h: err = %v, want ErrNaN", err)
	}
	for name, f := range map[string]func(){
		"short w":    func() { New(nil, w[:10], b, 50, 8) },
		"short b":    func() { New(nil, w, b[:3], 50, 8) },
		"window 0":   func() { m.Searcher(0, nil) },
		"window > d": func() { m.Searcher(9, nil) },
		"n > l":      func() { m.Searcher(4, nil).Query(normals(8, 1), 51) },
		"short h":    func() { m.Searcher(4, nil).Query(normals(7, 1), 5) },
		"k > n":      func() { m.Searcher(4, nil).TopK(normals(8, 1), 5, 6) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestSweep(t *testing.T) {
	const rows, cols, nq = 2000, 32, 40
	w, b := lowRank(rows, cols, 6, 0.1, 10)
	task, err := clsmetrics.NewTask(nil, w, b, rows, cols, normals(nq*cols, 11))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(nil, w, b, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Sweep(task, m, nil, []int{2, cols, cols + 1}, []int{5, rows}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d rows, want 4 (window %d is skipped): %+v", len(got), cols+1, got)
	}
	for _, r := range got {
		if r.Method != MethodName || r.MsPerQuery <= 0 || r.Speedup <= 0 {
			t.Errorf("bad row %+v", r)
		}
	}
	// Full width with every class a candidate reproduces the classifier.
	if last := got[3]; last.Top1 < 0.97 || last.Top5Recall < 0.97 {
		t.Errorf("full budget %+v: want agreement ≈ 1", last)
	}
	if got[0].Top1 >= got[3].Top1 {
		t.Errorf("window 2, n=5 agreement %.3f not below full budget %.3f", got[0].Top1, got[3].Top1)
	}
}
