package spec

import (
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/rproj"
)

// newTernaryProj returns the thesis's projection,
// P ∈ √(3/K)·{−1, 0, 1}^{K×D} with entries ±1 at probability 1/6 each.
func newTernaryProj(k, d int, seed uint64) *rproj.Projection {
	p, err := rproj.New(k, d, rproj.DefaultSparsity, seed)
	if err != nil {
		panic(err)
	}
	return p
}

// gatherOnly hides the Dense method of a projection, so that Stats must
// project sample by sample.
type gatherOnly struct{ p *rproj.Projection }

func (g gatherOnly) K() int               { return g.p.K() }
func (g gatherOnly) D() int               { return g.p.D() }
func (g gatherOnly) Apply(z, x []float32) { g.p.Apply(z, x) }

// problem is a random calibration problem: a map with weights W (n×d) and
// bias b, inputs with a common offset and a decaying spectrum so that the
// projection loses information and the fit is not trivially exact.
type problem struct {
	lin *Linear
	p   *rproj.Projection
	xs  []float32
}

func newProblem(n, d, k, s int, offset float64, seed uint64) problem {
	r := rand.New(rand.NewPCG(seed, 2))
	w := make([]float32, n*d)
	for i := range w {
		w[i] = float32(r.NormFloat64() / math.Sqrt(float64(d)))
	}
	b := make([]float32, n)
	for i := range b {
		b[i] = float32(r.NormFloat64())
	}
	return problem{
		lin: NewLinear(w, b, n, d),
		p:   newTernaryProj(k, d, seed+100),
		xs:  randInputs(r, s, d, offset),
	}
}

// randInputs draws s samples of dimension d whose column j has scale
// 1/(1+j/8) plus a shared offset.
func randInputs(r *rand.Rand, s, d int, offset float64) []float32 {
	xs := make([]float32, s*d)
	for i := range s {
		for j := range d {
			xs[i*d+j] = float32(offset + r.NormFloat64()/(1+float64(j)/8))
		}
	}
	return xs
}

// exactTargets returns Wx + b for every sample in float64, unrounded.
func exactTargets(l *Linear, xs []float32) []float64 {
	s := len(xs) / l.D
	ys := make([]float64, s*l.N)
	for i := range s {
		for o := range l.N {
			v := float64(l.B[o])
			for j := range l.D {
				v += float64(l.W[o*l.D+j]) * float64(xs[i*l.D+j])
			}
			ys[i*l.N+o] = v
		}
	}
	return ys
}

func relDiff(got, want []float64) float64 {
	var num, den float64
	for i := range got {
		e := got[i] - want[i]
		num += e * e
		den += want[i] * want[i]
	}
	return math.Sqrt(num / den)
}
