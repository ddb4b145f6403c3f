package screen

import (
	"errors"
	"math"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

// halfPair returns a float16 synthetic classifier and the float32 one of
// its widened weights, with calibration vectors.
func halfPair(t *testing.T, l, d int) (half, wide *spec.Linear, hs []float32) {
	t.Helper()
	cfg := synth.Default(l, d)
	cfg.Half = true
	m, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, l*d)
	kernels.FromHalf(w, m.W16)
	hs, _ = m.Sample(1024, 3)
	return spec.NewLinearHalf(m.W16, m.B, l, d), spec.NewLinear(w, m.B, l, d), hs
}

// TestFitHalf checks the block-by-block fit of a float16 classifier
// against the ordinary fit of the same weights in float32: the two differ
// only in rounding (a float32 GEMM through the map instead of float64
// cross moments), so at most a few INT4 codes sit one step apart.
func TestFitHalf(t *testing.T) {
	const l, d = 3000, 64
	half, wide, hs := halfPair(t, l, d)
	if Fingerprint(half) == Fingerprint(wide) {
		t.Fatal("float16 and float32 classifiers share a fingerprint")
	}
	for _, bits := range []quant.Bits{quant.Int4, quant.Int8, quant.Int2, FP32} {
		o := Options{Bits: bits, NoBound: true}
		sh, err := Fit(half, hs, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		sw, err := Fit(wide, hs, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if kernelOnly := bits == quant.Int4 || bits == quant.Int8; kernelOnly != (sh.Spec.W == nil) {
			t.Errorf("%v: dequantized view kept = %v", bits, sh.Spec.W != nil)
		}
		for i, v := range sh.Spec.B {
			if e := math.Abs(float64(v - sw.Spec.B[i])); e > 1e-4*(1+math.Abs(float64(v))) {
				t.Fatalf("%v: b̃[%d] = %v, ordinary fit %v", bits, i, v, sw.Spec.B[i])
			}
		}
		if bits == FP32 {
			for i, v := range sh.Spec.W {
				if e := math.Abs(float64(v - sw.Spec.W[i])); e > 1e-4*(1+math.Abs(float64(v))) {
					t.Fatalf("W̃[%d] = %v, ordinary fit %v", i, v, sw.Spec.W[i])
				}
			}
			continue
		}
		differ := 0
		for i := range l {
			for j := range sh.K {
				switch dc := sh.Spec.Q.Code(i, j) - sw.Spec.Q.Code(i, j); {
				case dc == 0:
				case dc == 1 || dc == -1:
					differ++
				default:
					t.Fatalf("%v: code (%d, %d) differs by %d", bits, i, j, dc)
				}
			}
		}
		if frac := float64(differ) / float64(l*sh.K); frac > 0.005 {
			t.Errorf("%v: %.2f%% of codes differ by one step", bits, 100*frac)
		}
		if math.Abs(sh.MSE-sw.MSE) > 1e-3*sw.MSE {
			t.Errorf("%v: fit MSE %v vs %v", bits, sh.MSE, sw.MSE)
		}
	}
	if _, err := Fit(half, hs, Options{}, nil); !errors.Is(err, ErrParam) {
		t.Errorf("float16 fit with the bound: %v, want ErrParam", err)
	}
}

// TestClassifierHalf checks that a screened float16 classifier computes its
// full and candidate logits from the stored float16 rows.
func TestClassifierHalf(t *testing.T) {
	const l, d = 2000, 64
	half, wide, hs := halfPair(t, l, d)
	s, err := Fit(half, hs, Options{NoBound: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := kernels.NewPool(2)
	defer pool.Close()
	c, err := NewClassifier(half, s, pool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewClassifier(wide, s, nil); !errors.Is(err, ErrMismatch) {
		t.Fatalf("screener of the float16 classifier on the float32 one: %v", err)
	}
	h := hs[5*d : 6*d]
	want := make([]float32, l)
	wide.Apply(want, h)
	near := func(what string, got []float32, idx []int32) {
		for _, j := range idx {
			if e := math.Abs(float64(got[j] - want[j])); e > 1e-4*(1+math.Abs(float64(want[j]))) {
				t.Fatalf("%s: logit %d = %v, want %v", what, j, got[j], want[j])
			}
		}
	}
	all := make([]int32, l)
	for j := range all {
		all[j] = int32(j)
	}
	z := make([]float32, l)
	c.Full(z, h)
	near("Full", z, all)
	if err := c.SetSelection(Selection{Mode: TopM, M: 50}); err != nil {
		t.Fatal(err)
	}
	cand, err := c.Forward(z, h)
	if err != nil {
		t.Fatal(err)
	}
	near("Forward", z, cand)
	zb := make([]float32, 3*l)
	union, err := c.ForwardBatch(zb, hs[:3*d], 3)
	if err != nil {
		t.Fatal(err)
	}
	wide.Apply(want, hs[2*d:3*d])
	near("ForwardBatch", zb[2*l:], union)
	// gatherGemm copies the union's rows, widened, for one GEMM.
	clear(zb)
	c.gatherGemm(zb, hs[:3*d], 3, union)
	near("gatherGemm", zb[2*l:], union)
}
