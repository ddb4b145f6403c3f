package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Lower's rows times Weightᵀ plus Bias is the convolution (against the
// float64 direct reference), and Raise of dy·Weight is the input gradient
// Backward computes.
func TestConv2dLowerRaise(t *testing.T) {
	for i, c := range convCases {
		rng := rand.New(rand.NewPCG(uint64(i), 21))
		l := NewConv2d(c, rng)
		const n = 2
		x := randVec(rng, n*l.InSize(), 1)
		cols := l.Lower(x, n)
		k := l.patch()
		rows := n * l.OutH * l.OutW
		if len(cols) != rows*k {
			t.Fatalf("%+v: %d lowered values, want %d", c, len(cols), rows*k)
		}
		want := convRef(l, x, n)
		tol := 1e-5 * float64(k+1)
		for r := range rows {
			for o := range l.OutC {
				s := float64(l.Bias.Data[o])
				for j := range k {
					s += float64(cols[r*k+j]) * float64(l.Weight.Data[o*k+j])
				}
				if d := math.Abs(s - want[r*l.OutC+o]); d > tol {
					t.Fatalf("%+v: lowered row %d channel %d gives %v, convolution %v", c, r, o, s, want[r*l.OutC+o])
				}
			}
		}
		dy := randVec(rng, n*l.OutSize(), 1)
		dcols := make([]float32, rows*k)
		for r := range rows {
			for j := range k {
				var s float64
				for o := range l.OutC {
					s += float64(dy[r*l.OutC+o]) * float64(l.Weight.Data[o*k+j])
				}
				dcols[r*k+j] = float32(s)
			}
		}
		got := make([]float32, n*l.InSize())
		l.Raise(got, dcols, n)
		y := make([]float32, n*l.OutSize())
		l.Forward(y, x, n)
		ref := make([]float32, n*l.InSize())
		l.Backward(ref, dy)
		for j := range got {
			if d := math.Abs(float64(got[j] - ref[j])); d > 1e-5*float64(l.OutC*k) {
				t.Fatalf("%+v: Raise dx[%d] = %v, Backward %v", c, j, got[j], ref[j])
			}
		}
	}
}
