package screen

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// labelled draws n inputs of f and a label for each from the full
// classifier's softmax, so the labels follow the distribution whose
// normaliser the tail shift corrects.
func labelled(f *fixture, n int, seed uint64) ([]float32, []int32) {
	hs, _ := f.model.Sample(n, seed)
	r := rand.New(rand.NewPCG(seed, 99))
	l, d := f.lin.N, f.lin.D
	z := make([]float32, l)
	labels := make([]int32, n)
	for i := range n {
		f.c.Full(z, hs[i*d:(i+1)*d])
		lse := math.Inf(-1)
		for _, v := range z {
			lse = logAddExp(lse, float64(v))
		}
		u, acc := r.Float64(), 0.0
		labels[i] = int32(l - 1)
		for j, v := range z {
			if acc += math.Exp(float64(v) - lse); acc >= u {
				labels[i] = int32(j)
				break
			}
		}
	}
	return hs, labels
}

// meanNLL is the mean −log p(label) under c's mixed logits.
func meanNLL(t *testing.T, c *Classifier, hs []float32, labels []int32) float64 {
	t.Helper()
	d := c.Lin.D
	z := make([]float32, c.Lin.N)
	var nll float64
	for i, y := range labels {
		if _, err := c.Forward(z, hs[i*d:(i+1)*d]); err != nil {
			t.Fatal(err)
		}
		lp, err := LogProb(z, int(y))
		if err != nil {
			t.Fatal(err)
		}
		nll -= lp
	}
	return nll / float64(len(labels))
}

// The fitted shift is the likelihood's optimum: a step either way does
// not lower the mean NLL on the same inputs, and the shift moves exactly
// the non-candidates' logits.
func TestFitTailShift(t *testing.T) {
	f := newFixture(t, 2000, 48, Options{KRatio: 0.25})
	hs, labels := labelled(f, 300, 5)
	for _, m := range []int{4, 32} {
		if err := f.c.SetSelection(Selection{Mode: TopM, M: m}); err != nil {
			t.Fatal(err)
		}
		s, err := f.c.FitTailShift(hs, labels)
		if err != nil {
			t.Fatal(err)
		}
		if f.c.TailShift() != 0 {
			t.Fatalf("m=%d: FitTailShift left the shift at %v", m, f.c.TailShift())
		}
		nll := func(v float32) float64 {
			if err := f.c.SetTailShift(v); err != nil {
				t.Fatal(err)
			}
			return meanNLL(t, f.c, hs, labels)
		}
		at, lo, hi, zero := nll(s), nll(s-0.25), nll(s+0.25), nll(0)
		if !(at <= lo+1e-9 && at <= hi+1e-9 && at <= zero+1e-9) {
			t.Errorf("m=%d: NLL %v at the fitted shift %v, %v / %v at ±0.25, %v at 0", m, at, s, lo, hi, zero)
		}
		// Forward: candidates exact, the tail the screener's plus s.
		h := hs[:48]
		z, zt, zf := make([]float32, 2000), make([]float32, 2000), make([]float32, 2000)
		if err := f.c.SetTailShift(s); err != nil {
			t.Fatal(err)
		}
		cand, err := f.c.Forward(z, h)
		if err != nil {
			t.Fatal(err)
		}
		f.c.Screen(zt, h)
		f.c.Full(zf, h)
		in := make([]bool, 2000)
		for _, j := range cand {
			in[j] = true
		}
		for j := range z {
			want := float64(zt[j] + s)
			if in[j] {
				want = float64(zf[j])
			}
			if math.Abs(float64(z[j])-want) > 1e-4*(1+math.Abs(want)) {
				t.Fatalf("m=%d: z[%d] = %v, want %v (candidate %v)", m, j, z[j], want, in[j])
			}
		}
	}
	if err := f.c.SetTailShift(float32(math.NaN())); !errors.Is(err, ErrParam) {
		t.Errorf("NaN shift: %v, want ErrParam", err)
	}
	if _, err := f.c.FitTailShift(hs, labels[:3]); !errors.Is(err, ErrParam) {
		t.Errorf("mismatched labels: %v, want ErrParam", err)
	}
	bad := append([]int32(nil), labels...)
	bad[7] = 2000
	if _, err := f.c.FitTailShift(hs, bad); !errors.Is(err, ErrParam) {
		t.Errorf("label out of range: %v, want ErrParam", err)
	}
}

// Calibrated shifts survive Save and Load, and a Classifier applies the
// one of its top-m (none at other m).
func TestTailShiftsFile(t *testing.T) {
	f := newFixture(t, 1000, 32, Options{NoBound: true})
	hs, labels := labelled(f, 200, 6)
	if err := f.s.CalibrateTails(f.lin, hs, labels, []int{8, 64}, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.safetensors")
	if err := f.s.Save(path); err != nil {
		t.Fatal(err)
	}
	s2, err := LoadFor(path, f.lin)
	if err != nil {
		t.Fatal(err)
	}
	if len(s2.TailShifts) != 2 || s2.TailShifts[8] != f.s.TailShifts[8] || s2.TailShifts[64] != f.s.TailShifts[64] {
		t.Fatalf("reloaded shifts %v, saved %v", s2.TailShifts, f.s.TailShifts)
	}
	c, err := NewClassifier(f.lin, s2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []int{8, 64, 16} {
		if err := c.SetSelection(Selection{Mode: TopM, M: m}); err != nil {
			t.Fatal(err)
		}
		if got, want := c.TailShift(), s2.TailShifts[m]; got != want {
			t.Errorf("m=%d: shift %v, want %v", m, got, want)
		}
	}
	for _, s := range []string{"0:1", "5:x", "5:99", "5:1,5:2", "5", "2000:0.1"} {
		if _, err := parseTailShifts(s, 1000); !errors.Is(err, ErrFormat) {
			t.Errorf("parseTailShifts(%q): %v, want ErrFormat", s, err)
		}
	}
	if got, err := parseTailShifts(formatTailShifts(map[int]float32{3: 0.5, 1: -0.25}), 10); err != nil || got[3] != 0.5 || got[1] != -0.25 {
		t.Errorf("round trip: %v, %v", got, err)
	}
}
