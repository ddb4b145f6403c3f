package rproj

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestKGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(float64, int) (int, error)
		eps  float64
		n    int
		want int
	}{
		// Thesis Table 3.4: LSTM with 1500 hidden units, 4·1500 rows.
		{"DMI", KForDMI, 0.3, 6000, 966},
		{"DMI", KForDMI, 0.5, 6000, 417},
		{"DMI", KForDMI, 0.7, 6000, 266},
		// Thesis Table A.1: VGG8 layers with nK output channels.
		{"DSG", KForDSG, 0.3, 128, 539},
		{"DSG", KForDSG, 0.5, 128, 232},
		{"DSG", KForDSG, 0.7, 128, 148},
		{"DSG", KForDSG, 0.9, 128, 119},
		{"DSG", KForDSG, 0.3, 256, 616},
		{"DSG", KForDSG, 0.5, 256, 266},
		{"DSG", KForDSG, 0.7, 256, 169},
		{"DSG", KForDSG, 0.9, 256, 136},
		{"DSG", KForDSG, 0.3, 512, 693},
		{"DSG", KForDSG, 0.5, 512, 299},
		{"DSG", KForDSG, 0.7, 512, 190},
		{"DSG", KForDSG, 0.9, 512, 154},
		// Equation 3.7 with β = 1: ⌊6·ln(40)/(1/8 − 1/24)⌋ + 1.
		{"Prob", func(e float64, n int) (int, error) { return KForProb(e, 1, n) }, 0.5, 40, 266},
		{"Prob β=0", func(e float64, n int) (int, error) { return KForProb(e, 0, n) }, 0.5, 6000, 418},
	} {
		got, err := tc.f(tc.eps, tc.n)
		if err != nil || got != tc.want {
			t.Errorf("%s(ε=%v, n=%d) = %d, %v; want %d", tc.name, tc.eps, tc.n, got, err, tc.want)
		}
	}
}

func TestKErrors(t *testing.T) {
	for _, tc := range []struct {
		eps  float64
		beta float64
		n    int
	}{
		{0, 0, 10}, {1, 0, 10}, {-0.5, 0, 10}, {math.NaN(), 0, 10}, {0.5, 0, 1}, {0.5, 0, 0}, {0.5, -1, 10}, {0.5, math.NaN(), 10},
	} {
		_, err1 := KForDMI(tc.eps, tc.n)
		_, err2 := KForDSG(tc.eps, tc.n)
		_, err3 := KForProb(tc.eps, tc.beta, tc.n)
		if tc.beta == 0 && (!errors.Is(err1, ErrParam) || !errors.Is(err2, ErrParam)) {
			t.Errorf("ε=%v n=%d: KForDMI err %v, KForDSG err %v; want ErrParam", tc.eps, tc.n, err1, err2)
		}
		if !errors.Is(err3, ErrParam) {
			t.Errorf("ε=%v β=%v n=%d: KForProb err %v; want ErrParam", tc.eps, tc.beta, tc.n, err3)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		k, d int
		s    float64
	}{{0, 5, 3}, {5, 0, 3}, {-1, 5, 3}, {5, 5, 0.5}, {5, 5, math.NaN()}, {5, 5, math.Inf(1)}} {
		if _, err := New(tc.k, tc.d, tc.s, 1); !errors.Is(err, ErrParam) {
			t.Errorf("New(%d, %d, %v): err %v, want ErrParam", tc.k, tc.d, tc.s, err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := New(20, 300, DefaultSparsity, 42)
	b, _ := New(20, 300, DefaultSparsity, 42)
	c, _ := New(20, 300, DefaultSparsity, 43)
	if !slices.Equal(a.Dense(), b.Dense()) {
		t.Fatal("same seed gave different projections")
	}
	if slices.Equal(a.Dense(), c.Dense()) {
		t.Fatal("different seeds gave the same projection")
	}
	if a.K() != 20 || a.D() != 300 || a.Sparsity() != 3 || a.Seed() != 42 {
		t.Fatalf("accessors: K=%d D=%d s=%v seed=%d", a.K(), a.D(), a.Sparsity(), a.Seed())
	}
}

// TestEntryDistribution checks equation 3.6/4.6: entries take only the
// values ±sqrt(s/k) and 0, with counts matching 1/(2s), 1−1/s, 1/(2s) by a
// chi-square test at the 0.1% level.
func TestEntryDistribution(t *testing.T) {
	const k, d = 300, 1000
	for _, s := range []float64{1, 2, 3, 10} {
		p, err := New(k, d, s, 7)
		if err != nil {
			t.Fatal(err)
		}
		v := float32(math.Sqrt(s / k))
		var plus, zero, minus float64
		for i, e := range p.Dense() {
			switch e {
			case v:
				plus++
			case 0:
				zero++
			case -v:
				minus++
			default:
				t.Fatalf("s=%v: entry %d = %v, want 0 or ±%v", s, i, e, v)
			}
		}
		n := float64(k * d)
		chi2, df := 0.0, -1
		for _, c := range []struct{ got, p float64 }{{plus, 1 / (2 * s)}, {zero, 1 - 1/s}, {minus, 1 / (2 * s)}} {
			if c.p == 0 {
				if c.got != 0 {
					t.Fatalf("s=%v: %v entries of a zero-probability value", s, c.got)
				}
				continue
			}
			e := n * c.p
			chi2 += (c.got - e) * (c.got - e) / e
			df++
		}
		// 0.1% critical values of the chi-square distribution.
		crit := map[int]float64{1: 10.83, 2: 13.82}[df]
		if chi2 > crit {
			t.Errorf("s=%v: chi-square %.2f with %d df exceeds %.2f (+%v 0%v -%v)", s, chi2, df, crit, plus, zero, minus)
		}
	}
}

// TestGram checks E[PᵀP] = I: diagonal entries of PᵀP have mean 1 and
// variance (s−1)/k, off-diagonal entries mean 0 and variance 1/k. Every
// entry must lie within 5 standard deviations and the diagonal's mean
// within 5 standard errors.
func TestGram(t *testing.T) {
	const k, d = 2000, 48
	for _, s := range []float64{1, 3, 6} {
		p, _ := New(k, d, s, 11)
		m := p.Dense()
		diagSD, offSD := math.Sqrt((s-1)/k), math.Sqrt(1.0/k)
		var diagSum float64
		for i := range d {
			for j := i; j < d; j++ {
				var g float64
				for r := range k {
					g += float64(m[r*d+i]) * float64(m[r*d+j])
				}
				if i == j {
					diagSum += g
					if math.Abs(g-1) > 5*diagSD+1e-6 {
						t.Errorf("s=%v: (PᵀP)[%d,%d] = %v, want 1 ± %v", s, i, i, g, 5*diagSD)
					}
				} else if math.Abs(g) > 5*offSD {
					t.Errorf("s=%v: (PᵀP)[%d,%d] = %v, want 0 ± %v", s, i, j, g, 5*offSD)
				}
			}
		}
		if mean := diagSum / d; math.Abs(mean-1) > 5*diagSD/math.Sqrt(d)+1e-6 {
			t.Errorf("s=%v: mean diagonal of PᵀP = %v, want 1 ± %v", s, mean, 5*diagSD/math.Sqrt(d))
		}
	}
}

// gaussianPoints returns n points in R^d, sample-major.
func gaussianPoints(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func sqDist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// TestDistancePreservation checks equation 3.8 at the k of equation 3.7:
// with probability at least 1 − n^(−β) all pairwise squared distances are
// preserved within 1±ε, so (for a fixed seed) the fraction preserved must
// be at least that, and is in fact all of them.
func TestDistancePreservation(t *testing.T) {
	const n, d, beta = 40, 2000, 1.0
	x := gaussianPoints(n, d, 3)
	for _, eps := range []float64{0.3, 0.5} {
		for _, s := range []float64{1, 3} {
			k, err := KForProb(eps, beta, n)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := New(k, d, s, 5)
			z := make([]float32, n*k)
			p.ApplyBatch(z, x, n)
			pairs, kept := 0, 0
			for i := range n {
				for j := i + 1; j < n; j++ {
					orig := sqDist(x[i*d:(i+1)*d], x[j*d:(j+1)*d])
					proj := sqDist(z[i*k:(i+1)*k], z[j*k:(j+1)*k])
					pairs++
					if (1-eps)*orig <= proj && proj <= (1+eps)*orig {
						kept++
					}
				}
			}
			frac := float64(kept) / float64(pairs)
			if want := 1 - math.Pow(n, -beta); frac < want {
				t.Errorf("ε=%v s=%v k=%d: %.4f of pairwise distances preserved, JL guarantees ≥ %.4f", eps, s, k, frac, want)
			}
		}
	}
}

// TestInnerProducts checks equation 4.4 at the k of KForDSG: for unit
// vectors, |⟨f(X), f(W)⟩ − ⟨X, W⟩| ≤ ε with probability 1 − O(ε²); we
// require the fraction of pairs within ε to be at least 1 − ε². The W are
// correlated with the X so the inner products span [−1, 1] and a wrongly
// scaled projection fails.
func TestInnerProducts(t *testing.T) {
	const nx, nw, d = 30, 30, 2000
	r := rand.New(rand.NewPCG(9, 9))
	x := gaussianPoints(nx, d, 4)
	w := gaussianPoints(nw, d, 5)
	for j := range nw {
		c := float32(2*r.Float64() - 1) // correlation strength
		for i := range d {
			w[j*d+i] += 3 * c * x[(j%nx)*d+i]
		}
	}
	normalize := func(v []float32, n int) {
		for i := range n {
			row := v[i*d : (i+1)*d]
			inv := float32(1 / math.Sqrt(dot(row, row)))
			for j := range row {
				row[j] *= inv
			}
		}
	}
	normalize(x, nx)
	normalize(w, nw)
	for _, eps := range []float64{0.3, 0.5} {
		k, err := KForDSG(eps, nx+nw)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := New(k, d, DefaultSparsity, 6)
		fx, fw := make([]float32, nx*k), make([]float32, nw*k)
		p.ApplyBatch(fx, x, nx)
		p.ApplyBatch(fw, w, nw)
		within, worst := 0, 0.0
		for i := range nx {
			for j := range nw {
				e := math.Abs(dot(fx[i*k:(i+1)*k], fw[j*k:(j+1)*k]) - dot(x[i*d:(i+1)*d], w[j*d:(j+1)*d]))
				worst = max(worst, e)
				if e <= eps {
					within++
				}
			}
		}
		frac := float64(within) / (nx * nw)
		if frac < 1-eps*eps {
			t.Errorf("ε=%v k=%d: %.4f of inner products within ε (worst %.3f), want ≥ %.4f", eps, k, frac, worst, 1-eps*eps)
		}
	}
}

// TestApplyMatchesDense checks Apply and ApplyBatch against P·x computed in
// float64 from Dense.
func TestApplyMatchesDense(t *testing.T) {
	const k, d, n = 17, 301, 3
	p, _ := New(k, d, DefaultSparsity, 8)
	m := p.Dense()
	x := gaussianPoints(n, d, 10)
	zb := make([]float32, n*k)
	p.ApplyBatch(zb, x, n)
	for s := range n {
		z := make([]float32, k)
		p.Apply(z, x[s*d:(s+1)*d])
		for i := range k {
			want := dot(m[i*d:(i+1)*d], x[s*d:(s+1)*d])
			if math.Abs(float64(z[i])-want) > 1e-4 || z[i] != zb[s*k+i] {
				t.Fatalf("sample %d row %d: Apply %v, ApplyBatch %v, want %v", s, i, z[i], zb[s*k+i], want)
			}
		}
	}
}

func TestApplyPanics(t *testing.T) {
	p, _ := New(3, 5, DefaultSparsity, 1)
	for name, f := range map[string]func(){
		"Apply short z":    func() { p.Apply(make([]float32, 2), make([]float32, 5)) },
		"Apply long x":     func() { p.Apply(make([]float32, 3), make([]float32, 6)) },
		"ApplyBatch n":     func() { p.ApplyBatch(make([]float32, 6), make([]float32, 10), 3) },
		"ApplyBatch neg n": func() { p.ApplyBatch(nil, nil, -1) },
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

func ExampleKForDMI() {
	// The LSTM of thesis Table 3.4: 1500 hidden units, 4·1500 rows in W_HH.
	for _, eps := range []float64{0.3, 0.5, 0.7} {
		k, _ := KForDMI(eps, 4*1500)
		fmt.Println(eps, k)
	}
	// Output:
	// 0.3 966
	// 0.5 417
	// 0.7 266
}

func ExampleNew() {
	p, err := New(4, 10, DefaultSparsity, 1)
	if err != nil {
		panic(err)
	}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	z := make([]float32, p.K())
	p.Apply(z, x)
	// The projection is a fixed function of the seed.
	q, _ := New(4, 10, DefaultSparsity, 1)
	z2 := make([]float32, q.K())
	q.Apply(z2, x)
	fmt.Println(slices.Equal(z, z2))
	// Output: true
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New(256, 4096, DefaultSparsity, 1)
	}
}
