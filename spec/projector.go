package spec

// Projector is the fixed random projection P: R^D → R^K applied to the input
// before the speculator's small matrix. P is drawn once, before fitting, and
// never trained (thesis Algorithm 3, line 1). *rproj.Projection satisfies
// it.
//
// Apply must be safe for concurrent use, because batches are projected in
// parallel.
type Projector interface {
	K() int
	D() int
	Apply(z, x []float32) // z = P x, len(z) == K(), len(x) == D()
}

// project sets zs[i] = P xs[i] for the m samples in xs (m×D), in parallel
// over samples.
func project(p Projector, zs, xs []float32, m int) {
	k, d := p.K(), p.D()
	parallelRows(m, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p.Apply(zs[i*k:(i+1)*k], xs[i*d:(i+1)*d])
		}
	})
}
