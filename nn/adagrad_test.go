package nn

import (
	"math"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

// refAdagrad is one Adagrad update in float64, from PyTorch's equations.
func refAdagrad(lr float64, w, g, s []float64) {
	for i := range w {
		s[i] += g[i] * g[i]
		w[i] -= lr * g[i] / (math.Sqrt(s[i]) + 1e-10)
	}
}

func TestAdagrad(t *testing.T) {
	p := NewParam("w", 2)
	p.Data[0], p.Data[1] = 1, -2
	o := NewAdagrad([]*Param{p}, 0.1)
	w := []float64{1, -2}
	s := []float64{0.1, 0.1}
	const lr = 0.5
	for step := 1; step <= 3; step++ {
		g := []float64{0.5 * float64(step), -1e-3}
		p.Grad[0], p.Grad[1] = float32(g[0]), float32(g[1])
		o.Step(lr)
		refAdagrad(lr, w, g, s)
	}
	for j := range w {
		if math.Abs(float64(p.Data[j])-w[j]) > 1e-6 || math.Abs(float64(o.State()[0].Data[j])-s[j]) > 1e-6 {
			t.Errorf("w[%d] = %v (sum %v), want %v (%v)", j, p.Data[j], o.State()[0].Data[j], w[j], s[j])
		}
	}
	if p.Grad[0] == 0 {
		t.Error("Step cleared the gradient; Momentum and Adam leave it")
	}
	if o.State()[0].Name != "w.sum" {
		t.Errorf("state name %q", o.State()[0].Name)
	}
}

// Rows and Dense touch exactly what they are given: Rows updates the
// listed rows as a dense step would and leaves the others, weights and
// sums, alone; the nil-gradient forms take p.Grad and clear it.
func TestAdagradSparse(t *testing.T) {
	for _, pool := range []*kernels.Pool{nil, kernels.NewPool(2)} {
		const rows, dim = 5, 3
		mk := func() *Param {
			p := NewParam("e", rows, dim)
			for i := range p.Data {
				p.Data[i] = float32(i)*0.1 - 0.7
				p.Grad[i] = float32(i%4) - 1.5
			}
			return p
		}
		dense, sparse, fromGrad := mk(), mk(), mk()
		od := NewAdagrad([]*Param{dense}, 0)
		ops := NewAdagrad([]*Param{sparse}, 0)
		og := NewAdagrad([]*Param{fromGrad}, 0)
		ops.Pool, og.Pool = pool, pool
		sel := []int32{3, 0}
		g := make([]float32, len(sel)*dim)
		for j, r := range sel {
			copy(g[j*dim:(j+1)*dim], sparse.Grad[int(r)*dim:(int(r)+1)*dim])
		}
		const lr = 0.2
		od.Dense(dense, nil, lr)
		ops.Rows(sparse, sel, g, lr)
		og.Rows(fromGrad, sel, nil, lr)
		for r := range rows {
			picked := r == 0 || r == 3
			for k := range dim {
				i := r*dim + k
				orig := float32(i)*0.1 - 0.7
				for _, c := range []struct {
					name string
					p    *Param
					o    *Adagrad
				}{{"Rows(g)", sparse, ops}, {"Rows(nil)", fromGrad, og}} {
					want, wantSum := orig, float32(0)
					if picked {
						want, wantSum = dense.Data[i], od.State()[0].Data[i]
					}
					if math.Abs(float64(c.p.Data[i]-want)) > 1e-6 || c.o.State()[0].Data[i] != wantSum {
						t.Errorf("%s: row %d elem %d: w %v sum %v, want %v %v", c.name, r, k, c.p.Data[i], c.o.State()[0].Data[i], want, wantSum)
					}
				}
				if picked == (fromGrad.Grad[i] != 0) {
					t.Errorf("Rows(nil): row %d grad %v: want cleared exactly on the listed rows", r, fromGrad.Grad[i])
				}
				if dense.Grad[i] != 0 {
					t.Errorf("Dense(nil) left grad %v at %d", dense.Grad[i], i)
				}
			}
		}
		if pool != nil {
			pool.Close()
		}
	}
}
