package speculate_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/spec"
	"github.com/elasticml/elastic/speculate"
)

// The package's parts satisfy the runtime's interfaces as they are.
var (
	_ speculate.Speculator = (*spec.Speculator)(nil)
	_ speculate.Selector   = sel.Threshold{}
	_ speculate.Selector   = (*sel.TopK)(nil)
	_ speculate.Executor   = speculate.Rows{}
)

// problem is a random n×d layer, a speculator fitted to it in closed form
// on s samples through a k-dimensional projection, and held-out inputs.
type problem struct {
	n, d int
	w, b []float32
	sp   *spec.Speculator
	xs   [][]float32
}

func newProblem(t *testing.T, n, d, k int, seed uint64) *problem {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	pr := &problem{n: n, d: d, w: make([]float32, n*d), b: make([]float32, n)}
	for i := range pr.w {
		pr.w[i] = float32(r.NormFloat64() / math.Sqrt(float64(d)))
	}
	for i := range pr.b {
		pr.b[i] = float32(r.NormFloat64())
	}
	// Inputs near a k-dimensional subspace, so the speculator is good.
	basis := make([]float32, k*d)
	for i := range basis {
		basis[i] = float32(r.NormFloat64())
	}
	sample := func() []float32 {
		x := make([]float32, d)
		for j := range k {
			c := float32(r.NormFloat64())
			for i := range x {
				x[i] += c * basis[j*d+i]
			}
		}
		for i := range x {
			x[i] += 0.01 * float32(r.NormFloat64())
		}
		return x
	}
	p, err := rproj.New(k, d, 1, seed)
	if err != nil {
		t.Fatal(err)
	}
	st := spec.NewLinearStats(spec.NewLinear(pr.w, pr.b, n, d), p)
	cal := make([]float32, 0, 4*k*d)
	for range 4 * k {
		cal = append(cal, sample()...)
	}
	if err := st.Add(cal); err != nil {
		t.Fatal(err)
	}
	if pr.sp, err = st.Solve(1e-3); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		pr.xs = append(pr.xs, sample())
	}
	return pr
}

// exact returns W[i,:]·x + b[i] in float64.
func (pr *problem) exact(i int, x []float32) float64 {
	s := float64(pr.b[i])
	for j, v := range x {
		s += float64(pr.w[i*pr.d+j]) * float64(v)
	}
	return s
}

// TestStepAssembles checks eq. 3.5 on a fitted speculator, top-K
// selection and the row-gather executor: selected outputs are exact (to
// float32 dot-product rounding), the others are the speculator's, and
// the selection is the top K of the approximations; with Drop the others
// are zero.
func TestStepAssembles(t *testing.T) {
	pr := newProblem(t, 300, 97, 24, 1)
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, drop := range []bool{false, true} {
		for _, ratio := range []float64{0, 0.5, 0.9} {
			tk, err := sel.NewTopK(sel.Identity, ratio)
			if err != nil {
				t.Fatal(err)
			}
			st := speculate.NewStep(pr.n, pr.sp, tk, speculate.Rows{W: pr.w, B: pr.b, Cols: pr.d, Pool: pool})
			st.Drop = drop
			y := make([]float32, pr.n)
			approx := make([]float32, pr.n)
			for _, x := range pr.xs {
				idx := st.Run(y, x)
				if want := tk.K(pr.n); len(idx) != want {
					t.Fatalf("ratio %.1f: %d selected, want %d", ratio, len(idx), want)
				}
				pr.sp.Predict(approx, x)
				picked := make([]bool, pr.n)
				for _, i := range idx {
					picked[i] = true
				}
				// The threshold: every selected approximation is at
				// least every unselected one in magnitude (top-K of an
				// Identity output keeps the largest |ỹ|).
				lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
				for i := range pr.n {
					a := float32(math.Abs(float64(approx[i])))
					if picked[i] {
						lo = min(lo, a)
					} else {
						hi = max(hi, a)
					}
				}
				if len(idx) > 0 && len(idx) < pr.n && lo < hi {
					t.Fatalf("ratio %.1f: a selected approximation %v is below an unselected %v", ratio, lo, hi)
				}
				for i := range pr.n {
					switch {
					case picked[i]:
						w := pr.exact(i, x)
						if math.Abs(float64(y[i])-w) > 1e-5*(1+math.Abs(w)) {
							t.Fatalf("ratio %.1f: y[%d] = %v, exact %v", ratio, i, y[i], w)
						}
					case drop && y[i] != 0:
						t.Fatalf("ratio %.1f drop: y[%d] = %v, want 0", ratio, i, y[i])
					case !drop && y[i] != approx[i]:
						t.Fatalf("ratio %.1f: y[%d] = %v, want the approximation %v", ratio, i, y[i], approx[i])
					}
				}
			}
		}
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	pr := newProblem(t, 200, 64, 16, 2)
	tk, err := sel.NewTopK(sel.Identity, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	st := speculate.NewStep(pr.n, speculate.Func(pr.sp.Predict), tk, speculate.Rows{W: pr.w, B: pr.b, Cols: pr.d})
	y := make([]float32, pr.n)
	if n := testing.AllocsPerRun(20, func() { st.Run(y, pr.xs[0]) }); n != 0 {
		t.Errorf("%v allocations per Run", n)
	}
}

func TestStepPanicsOnShape(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Run with a short y did not panic")
		}
	}()
	pr := newProblem(t, 50, 20, 8, 3)
	st := speculate.NewStep(pr.n, pr.sp, sel.Threshold{}, speculate.Rows{W: pr.w, Cols: pr.d})
	st.Run(make([]float32, pr.n-1), pr.xs[0])
}

// fusedTopM selects the top m of its own outputs while it speculates;
// calls counts how often each path ran.
type fusedTopM struct {
	sp    *spec.Speculator
	m     int
	calls *[2]int
}

func (f fusedTopM) Speculate(approx, x []float32) { f.calls[0]++; f.sp.Predict(approx, x) }

func (f fusedTopM) SpeculateSelect(approx, x []float32, dst []int32) []int32 {
	f.calls[1]++
	f.sp.Predict(approx, x)
	return sel.TopM{M: f.m}.Select(dst, approx)
}

// A Fused speculator with no Selector runs SpeculateSelect, and its Step
// gives what the unfused pair gives; Select and Execute split Run.
func TestStepFused(t *testing.T) {
	pr := newProblem(t, 120, 40, 12, 4)
	var calls [2]int
	rows := speculate.Rows{W: pr.w, B: pr.b, Cols: pr.d}
	fused := speculate.NewStep(pr.n, fusedTopM{pr.sp, 17, &calls}, nil, rows)
	plain := speculate.NewStep(pr.n, pr.sp, sel.TopM{M: 17}, rows)
	y1, y2 := make([]float32, pr.n), make([]float32, pr.n)
	for _, x := range pr.xs {
		i1 := slices.Clone(fused.Select(y1, x))
		fused.Execute(y1, x)
		i2 := plain.Run(y2, x)
		if !slices.Equal(i1, i2) || !slices.Equal(fused.Selected(), i1) {
			t.Fatalf("fused selected %v, the pair %v", i1, i2)
		}
		if !slices.Equal(y1, y2) {
			t.Fatal("fused and unfused steps assembled different outputs")
		}
	}
	if calls[0] != 0 || calls[1] != len(pr.xs) {
		t.Errorf("Speculate ran %d times, SpeculateSelect %d, want 0 and %d", calls[0], calls[1], len(pr.xs))
	}
	defer func() {
		if recover() == nil {
			t.Error("NewStep with neither a Selector nor a Fused speculator did not panic")
		}
	}()
	speculate.NewStep(pr.n, pr.sp, nil, rows)
}

// thresholdRows is a test RowSelector: each row of a rows×cols matrix
// keeps the columns whose value reaches t.
type thresholdRows struct {
	m          []float32
	rows, cols int
	t          float32
}

func (s thresholdRows) SelectRows(ptr []int, idx []int32) ([]int, []int32) {
	for r := range s.rows {
		for c, v := range s.m[r*s.cols : (r+1)*s.cols] {
			if v >= s.t {
				idx = append(idx, int32(c))
			}
		}
		ptr = append(ptr, len(idx))
	}
	return ptr, idx
}

// sumRows is a test RowExecutor: out[r] = Σ of row r's selected entries.
type sumRows struct {
	m    []float32
	cols int
}

func (e sumRows) ExecuteRows(out []float32, ptr []int, idx []int32) {
	for r := range len(ptr) - 1 {
		out[r] = 0
		for _, c := range idx[ptr[r]:ptr[r+1]] {
			out[r] += e.m[r*e.cols+int(c)]
		}
	}
}

// TestRowStepSharedPattern runs two RowSteps into one pattern, as a layer's
// heads do: the second's rows follow the first's in ptr and idx, and each
// Execute sees only its own rows.
func TestRowStepSharedPattern(t *testing.T) {
	a := []float32{1, 5, 2, 7, 0, 9}       // 2×3
	b := []float32{4, 4, 1, 3, 8, 8, 2, 6} // 2×4
	s1 := speculate.RowStep{thresholdRows{a, 2, 3, 2}, sumRows{a, 3}}
	s2 := speculate.RowStep{thresholdRows{b, 2, 4, 4}, sumRows{b, 4}}
	ptr, idx := []int{0}, []int32(nil)
	out1, out2 := make([]float32, 2), make([]float32, 2)
	ptr, idx = s1.Run(out1, ptr, idx)
	ptr, idx, r0 := s2.Select(ptr, idx)
	s2.Execute(out2, ptr, idx, r0)
	if fmt.Sprint(ptr, idx, r0) != "[0 2 4 6 9] [1 2 0 2 0 1 0 1 3] 2" {
		t.Errorf("pattern %v %v, second step from row %d", ptr, idx, r0)
	}
	if fmt.Sprint(out1, out2) != "[7 16] [8 22]" {
		t.Errorf("outputs %v %v, want [7 16] [8 22]", out1, out2)
	}
}
