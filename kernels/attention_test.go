package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// runAttnImpls runs f once per attention implementation the CPU supports.
func runAttnImpls(t *testing.T, f func(t *testing.T, ak attnKernel)) {
	for _, ak := range attnImpls() {
		t.Run(ak.name, func(t *testing.T) {
			if !ak.ok {
				t.Skipf("CPU lacks %s", ak.name)
			}
			f(t, ak)
		})
	}
}

// uniformFill returns values uniform in [-a, a).
func uniformFill(r *rand.Rand, n int, a float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(a * (2*r.Float64() - 1))
	}
	return s
}

// attentionRef is the textbook attention in float64 with the l×l scores
// materialised and the softmax taken row by row.
func attentionRef(q, k, v []float32, heads, l, dim int, causal bool) []float64 {
	out := make([]float64, heads*l*dim)
	scale := 1 / math.Sqrt(float64(dim))
	s := make([]float64, l)
	for h := range heads {
		o := h * l * dim
		for i := range l {
			n := l
			if causal {
				n = i + 1
			}
			mx := math.Inf(-1)
			for j := range n {
				var d float64
				for p := range dim {
					d += float64(q[o+i*dim+p]) * float64(k[o+j*dim+p])
				}
				s[j] = d * scale
				mx = math.Max(mx, s[j])
			}
			var sum float64
			for j := range n {
				s[j] = math.Exp(s[j] - mx)
				sum += s[j]
			}
			for j := range n {
				w := s[j] / sum
				for p := range dim {
					out[o+i*dim+p] += w * float64(v[o+j*dim+p])
				}
			}
		}
	}
	return out
}

// attnTol bounds |out − ref| for inputs bounded by amax: a score of dim
// float32 products is off by at most dim·ε·amax²/√dim (before its log2 e
// factor), a weight then by twice that relative (the score and the
// maximum) plus a few ulp of the exponential polynomial and of the sums
// over l keys, and an output, a convex combination of values bounded by
// amax, by amax times the weights' relative error. Missing or doubling a
// single key of the l would cost about amax/l, far above it for every
// shape tested.
func attnTol(l, dim int, amax float64) float64 {
	const eps = 0x1p-24
	ds := float64(dim) * eps * amax * amax / math.Sqrt(float64(dim)) * math.Log2E
	return amax * (4*ds + 16*eps + 2*float64(l)*eps)
}

func TestAttentionConformance(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	runAttnImpls(t, func(t *testing.T, ak attnKernel) {
		for _, heads := range []int{1, 3} {
			for _, l := range []int{1, 7, 63, 130, 300} {
				for _, dim := range []int{1, 8, 19, 64} {
					for _, causal := range []bool{false, true} {
						name := fmt.Sprintf("h%d_l%d_d%d_causal%v", heads, l, dim, causal)
						r := rand.New(rand.NewPCG(uint64(heads*1000+l), uint64(dim)))
						const amax = 2.0
						n := heads * l * dim
						q, k, v := uniformFill(r, n, amax), uniformFill(r, n, amax), uniformFill(r, n, amax)
						want := attentionRef(q, k, v, heads, l, dim, causal)
						tol := attnTol(l, dim, amax)
						for _, p := range []*Pool{nil, pool} {
							out, check := guarded(n, 3, func(int) float32 { return float32(math.NaN()) })
							attention(p, ak, out, q, k, v, heads, l, dim, causal)
							check(t, name)
							for i, w := range want {
								if d := math.Abs(float64(out[i]) - w); !(d <= tol) {
									t.Fatalf("%s pool=%v: out[%d] = %g, want %g (|diff| %g > tol %g)", name, p != nil, i, out[i], w, d, tol)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestAttentionLargeScores checks the online softmax where the running
// maximum moves a lot between key blocks and most weights underflow.
func TestAttentionLargeScores(t *testing.T) {
	runAttnImpls(t, func(t *testing.T, ak attnKernel) {
		const heads, l, dim = 2, 333, 16
		r := rand.New(rand.NewPCG(7, 7))
		n := heads * l * dim
		q, k, v := uniformFill(r, n, 6), uniformFill(r, n, 6), uniformFill(r, n, 1)
		// Keys grow with their index, so later blocks raise the maximum.
		for i := range k {
			k[i] *= 1 + float32(i%(l*dim)/dim)/float32(l)
		}
		for _, causal := range []bool{false, true} {
			want := attentionRef(q, k, v, heads, l, dim, causal)
			out := make([]float32, n)
			attention(nil, ak, out, q, k, v, heads, l, dim, causal)
			tol := 1e-4 // scores up to 72 in magnitude: ds ≈ 72·dim·ε
			for i, w := range want {
				if d := math.Abs(float64(out[i]) - w); !(d <= tol) {
					t.Fatalf("causal=%v: out[%d] = %g, want %g", causal, i, out[i], w)
				}
			}
		}
	})
}

func TestAttentionPublicMatchesPool(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	const heads, l, dim = 2, 50, 8
	r := rand.New(rand.NewPCG(1, 2))
	n := heads * l * dim
	q, k, v := uniformFill(r, n, 1), uniformFill(r, n, 1), uniformFill(r, n, 1)
	a, b := make([]float32, n), make([]float32, n)
	Attention(a, q, k, v, heads, l, dim, true)
	pool.Attention(b, q, k, v, heads, l, dim, true)
	want := attentionRef(q, k, v, heads, l, dim, true)
	tol := attnTol(l, dim, 1)
	for i := range a {
		if math.Abs(float64(a[i])-want[i]) > tol || math.Abs(float64(b[i])-want[i]) > tol {
			t.Fatalf("out[%d]: Attention %g, Pool.Attention %g, want %g", i, a[i], b[i], want[i])
		}
	}
}

func TestAttentionBadShapes(t *testing.T) {
	for _, c := range []struct {
		name          string
		n             int
		heads, l, dim int
	}{{"short", 10, 1, 3, 4}, {"negative", 0, -1, 0, 4}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			s := make([]float32, c.n)
			Attention(s, s, s, s, c.heads, c.l, c.dim, false)
		}()
	}
}

// TestExp2Poly checks the base-2 exponential of the softmax against
// math.Exp2 over its whole range, and its flush to zero.
func TestExp2Poly(t *testing.T) {
	for x := -126.0; x <= 0; x += 0.0137 {
		got, want := float64(exp2Poly(float32(x))), math.Exp2(float64(float32(x)))
		if math.Abs(got-want) > 4e-7*want {
			t.Fatalf("exp2Poly(%g) = %g, want %g", x, got, want)
		}
	}
	for _, x := range []float32{-126.5, -1000, float32(math.Inf(-1)), float32(math.NaN())} {
		if got := exp2Poly(x); got != 0 {
			t.Errorf("exp2Poly(%g) = %g, want 0", x, got)
		}
	}
}

// TestSoftmaxTileImpls runs each softmax tile against float64 on values
// that include −Inf (masked) entries and a column whose maximum moves.
func TestSoftmaxTileImpls(t *testing.T) {
	runAttnImpls(t, func(t *testing.T, ak attnKernel) {
		cols := ak.gemm.nr
		for _, rows := range []int{1, 5, 37} {
			r := rand.New(rand.NewPCG(uint64(rows), 3))
			s := uniformFill(r, rows*cols, 20)
			s[0] = float32(math.Inf(-1))
			m := make([]float32, cols)
			for c := range m {
				m[c] = float32(r.Float64() * 10)
			}
			m[1] = float32(math.Inf(-1))
			orig, mold := append([]float32(nil), s...), append([]float32(nil), m...)
			corr, sum := make([]float32, cols), make([]float32, cols)
			ak.softmax(s, rows, cols, m, corr, sum)
			for c := range cols {
				mx := float64(mold[c])
				for i := range rows {
					mx = math.Max(mx, float64(orig[i*cols+c]))
				}
				if float64(m[c]) != mx {
					t.Fatalf("rows=%d: m[%d] = %g, want %g", rows, c, m[c], mx)
				}
				// The kernels subtract in float32; so does the reference.
				if w := math.Exp2(float64(mold[c] - m[c])); math.Abs(float64(corr[c])-w) > 4e-7*w+1e-38 {
					t.Fatalf("rows=%d: corr[%d] = %g, want %g", rows, c, corr[c], w)
				}
				var ws float64
				for i := range rows {
					w := math.Exp2(float64(orig[i*cols+c] - m[c]))
					if w < 0x1p-126 {
						w = 0
					}
					ws += w
					if g := float64(s[i*cols+c]); math.Abs(g-w) > 4e-7*w {
						t.Fatalf("rows=%d: s[%d][%d] = %g, want %g", rows, i, c, g, w)
					}
				}
				if math.Abs(float64(sum[c])-ws) > float64(rows+4)*1e-7*ws {
					t.Fatalf("rows=%d: sum[%d] = %g, want %g", rows, c, sum[c], ws)
				}
			}
		}
	})
}

func TestPeakGFLOPSRuns(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	runAttnImpls(t, func(t *testing.T, ak attnKernel) {
		if g := peakGFLOPS(pool, ak, 2*time.Millisecond); !(g > 0) || math.IsInf(g, 0) {
			t.Errorf("peakGFLOPS = %g, want a positive finite rate", g)
		}
	})
	if g := PeakGFLOPS(nil, time.Millisecond); !(g > 0) {
		t.Errorf("PeakGFLOPS(nil) = %g", g)
	}
}
