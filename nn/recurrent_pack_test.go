package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

// TestRecurrentRepack checks that a layer trained for a step computes the
// next pass with its updated W_hh: after an SGD step, Forward and Backward
// must give exactly the bits of a fresh layer holding the updated weights.
// A packed copy of W_hh kept from before the update would differ.
func TestRecurrentRepack(t *testing.T) {
	const in, hidden, steps, batch = 5, 7, 4, 3
	p := kernels.NewPool(2)
	defer p.Close()
	for _, cell := range []Cell{LSTMCell, GRUCell} {
		for _, pool := range []*kernels.Pool{nil, p} {
			t.Run(fmt.Sprintf("%v/pool=%v", cell, pool != nil), func(t *testing.T) {
				newLayer := func() Recurrent {
					rng := rand.New(rand.NewPCG(1, 2))
					if cell == LSTMCell {
						l := NewLSTM(in, hidden, 0, rng)
						l.Pool = pool
						return l
					}
					l := NewGRU(in, hidden, 0, rng)
					l.Pool = pool
					return l
				}
				rng := rand.New(rand.NewPCG(3, 4))
				x := randVec(rng, steps*batch*in, 1)
				dy := randVec(rng, steps*batch*hidden, 1)
				h0 := randVec(rng, batch*hidden, 1)
				c0 := randVec(rng, batch*hidden, 1)
				pass := func(l Recurrent) (y, dx []float32) {
					h := append([]float32(nil), h0...)
					var c []float32
					if cell == LSTMCell {
						c = append([]float32(nil), c0...)
					}
					ZeroGrad(l.Params())
					y = append([]float32(nil), l.Forward(x, steps, batch, h, c)...)
					dx = make([]float32, len(x))
					l.Backward(dx, dy)
					return y, dx
				}

				trained := newLayer()
				pass(trained)
				SGD(trained.Params(), 0.5)
				y, dx := pass(trained)

				fresh := newLayer()
				for i, pr := range fresh.Params() {
					copy(pr.Data, trained.Params()[i].Data)
				}
				if sameBits(fresh.Weights().WHH, newLayer().Weights().WHH) {
					t.Fatal("SGD left W_hh unchanged; the test would prove nothing")
				}
				wantY, wantDX := pass(fresh)
				assertBits(t, "y", y, wantY)
				assertBits(t, "dx", dx, wantDX)
				for i, pr := range fresh.Params() {
					assertBits(t, pr.Name+" grad", trained.Params()[i].Grad, pr.Grad)
				}
			})
		}
	}
}

func sameBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func assertBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if !sameBits(got, want) {
		t.Errorf("%s differs from a fresh layer with the same weights", what)
	}
}
