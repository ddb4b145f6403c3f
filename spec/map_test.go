package spec

import (
	"errors"
	"math"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

// TestSolveMapMatchesSolve checks SolveMap's identity: the fitted rows are
// the map's rows times M, and the fitted bias the rows times m plus b.
func TestSolveMapMatchesSolve(t *testing.T) {
	for _, prec := range []Precision{Mixed, Float64} {
		for _, lambda := range []float64{0, 5} {
			pr := newProblem(37, 24, 9, 300, 2, 11)
			st := NewLinearStats(pr.lin, pr.p)
			st.SetPrecision(prec)
			if err := st.Add(pr.xs); err != nil {
				t.Fatal(err)
			}
			sp, err := st.Solve(lambda)
			if err != nil {
				t.Fatal(err)
			}
			m, mb, err := st.SolveMap(lambda)
			if err != nil {
				t.Fatal(err)
			}
			n, d, k := pr.lin.N, pr.lin.D, pr.p.K()
			if len(m) != d*k || len(mb) != d {
				t.Fatalf("map shapes %d, %d; want %d×%d, %d", len(m), len(mb), d, k, d)
			}
			for i := range n {
				row := pr.lin.W[i*d : (i+1)*d]
				bias := float64(pr.lin.B[i])
				for j := range d {
					bias += float64(row[j]) * mb[j]
				}
				if e := math.Abs(bias - float64(sp.B[i])); e > 1e-4*(1+math.Abs(bias)) {
					t.Fatalf("prec %v λ %v: bias %d: map %v, Solve %v", prec, lambda, i, bias, sp.B[i])
				}
				for c := range k {
					var v float64
					for j := range d {
						v += float64(row[j]) * m[j*k+c]
					}
					if e := math.Abs(v - float64(sp.W[i*k+c])); e > 1e-4*(1+math.Abs(v)) {
						t.Fatalf("prec %v λ %v: W̃[%d,%d]: map %v, Solve %v", prec, lambda, i, c, v, sp.W[i*k+c])
					}
				}
			}
		}
	}
}

// TestHalfLinear checks that a float16 map is, to every consumer, the
// float32 map of its widened weights: Apply, Targets and the fit agree bit
// for bit.
func TestHalfLinear(t *testing.T) {
	pr := newProblem(29, 40, 10, 200, 0.5, 5)
	n, d := pr.lin.N, pr.lin.D
	w16 := make([]uint16, n*d)
	kernels.ToHalf(w16, pr.lin.W)
	wide := make([]float32, n*d)
	kernels.FromHalf(wide, w16)
	half, full := NewLinearHalf(w16, pr.lin.B, n, d), NewLinear(wide, pr.lin.B, n, d)
	if !half.Half() || full.Half() || half.WeightBytes() != 2*n*d || full.WeightBytes() != 4*n*d {
		t.Fatal("Half or WeightBytes wrong")
	}
	y1, y2 := make([]float32, n), make([]float32, n)
	half.Apply(y1, pr.xs[:d])
	full.Apply(y2, pr.xs[:d])
	if !equal32(y1, y2) {
		t.Fatal("Apply differs")
	}
	if !equal32(half.Targets(pr.xs), full.Targets(pr.xs)) {
		t.Fatal("Targets differ")
	}
	for _, prec := range []Precision{Mixed, Float64} {
		var sps [2]*Speculator
		for i, l := range []*Linear{half, full} {
			st := NewLinearStats(l, pr.p)
			st.SetPrecision(prec)
			if err := st.Add(pr.xs); err != nil {
				t.Fatal(err)
			}
			var err error
			if sps[i], err = st.Solve(0); err != nil {
				t.Fatal(err)
			}
		}
		if !equal32(sps[0].W, sps[1].W) || !equal32(sps[0].B, sps[1].B) {
			t.Fatalf("precision %v: fit of the float16 map differs from the widened one", prec)
		}
	}
	if _, _, err := NewLinearStats(half, pr.p).SolveMap(0); !errors.Is(err, ErrNoSamples) {
		t.Fatalf("SolveMap before samples: %v", err)
	}
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
