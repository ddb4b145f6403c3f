package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// MultiHeadAttention is bidirectional multi-head self-attention,
// y = concat_h(softmax(q_h·k_hᵀ/√dₕ)·v_h)·W_oᵀ + b_o with q, k, v = x·W_{q,k,v}ᵀ + b
// and dₕ = Dim/Heads, as PyTorch's nn.MultiheadAttention (without dropout or
// masks) and LRA's vanilla transformer.
//
// A batch is a concatenation of sequences of possibly different lengths
// (rows lens[0], then lens[1], …, each row one token of Dim values): every
// sequence attends only to itself, so ListOps expressions of 500 and of 2000
// tokens share a batch with no padding and no key mask. The forward pass
// runs kernels.Attention (tiled, online softmax, never l×l); the backward
// pass recomputes each head's softmax a block of query rows at a time from
// q and k (as FlashAttention's does), so memory stays O(block·l) per head.
//
// SetSparse replaces the dense attention by dynamic sparse attention
// (thesis chapter 7, dsa.go): per-row masks from the exact scores or a
// learned low-rank predictor, the sparse pattern kernels in both passes.
type MultiHeadAttention struct {
	Dim, Heads int
	Q, K, V    *Linear
	Out        *Linear
	// Pool, when not nil, runs the projections' GEMMs and the attention
	// kernel on several threads.
	Pool *kernels.Pool

	lens                   []int
	n                      int
	q, k, v, cat           []float32 // n×Dim, row layout
	qh, kh, vh, oh         []float32 // per sequence, heads-major [heads][len][dₕ]
	dcat, dq, dk, dv, dtmp []float32
	dqh, dkh, dvh, doh     []float32
	sBlk, dpBlk            []float32

	// dsa, when not nil, replaces the dense attention by dynamic sparse
	// attention (SetSparse, dsa.go).
	dsa *dsaState
}

// attnRowBlock is the number of query rows whose l-wide softmax the
// backward pass holds at once: 64 rows of 2000 keys are 512 KiB.
const attnRowBlock = 64

// NewMultiHeadAttention returns self-attention over dim features split into
// heads heads, its four projections initialised Xavier-uniform with zero
// biases (as LRA's flax model). It panics unless heads divides dim.
func NewMultiHeadAttention(dim, heads int, rng *rand.Rand) *MultiHeadAttention {
	if dim <= 0 || heads <= 0 || dim%heads != 0 {
		panic(fmt.Sprintf("nn: NewMultiHeadAttention(%d, %d): heads must divide a positive dim", dim, heads))
	}
	a := &MultiHeadAttention{Dim: dim, Heads: heads}
	for i, l := range []**Linear{&a.Q, &a.K, &a.V, &a.Out} {
		*l = newXavierLinear(dim, dim, rng)
		Prefixed([]string{"q", "k", "v", "out"}[i], (*l).Params())
	}
	return a
}

// newXavierLinear returns an in→out Linear with weights uniform in
// ±√(6/(in+out)) and zero biases.
func newXavierLinear(in, out int, rng *rand.Rand) *Linear {
	l := NewLinear(in, out, rng)
	l.Weight.Uniform(rng, math.Sqrt(6/float64(in+out)))
	clear(l.Bias.Data)
	return l
}

// Params returns the projections' weights and biases, named q.weight,
// q.bias, k.…, v.…, out.…, and in DSA Predicted mode the predictor's
// dsa.wq and dsa.wk after them.
func (a *MultiHeadAttention) Params() []*Param {
	var ps []*Param
	for _, l := range []*Linear{a.Q, a.K, a.V, a.Out} {
		ps = append(ps, l.Params()...)
	}
	return append(ps, a.predictorParams()...)
}

// SetPool sets the pool of the attention and of its projections.
func (a *MultiHeadAttention) SetPool(p *kernels.Pool) {
	a.Pool = p
	for _, l := range []*Linear{a.Q, a.K, a.V, a.Out} {
		l.Pool = p
	}
}

// Forward sets y to the attention output for x, both Σlens×Dim. It keeps
// references to x and lens for Backward. It panics if a length is not
// positive or the slices do not match.
func (a *MultiHeadAttention) Forward(y, x []float32, lens []int) {
	n := seqRows("MultiHeadAttention.Forward", lens)
	d := a.Dim
	checkLen("MultiHeadAttention.Forward", "x", len(x), n*d)
	checkLen("MultiHeadAttention.Forward", "y", len(y), n*d)
	a.lens, a.n = lens, n
	a.q, a.k, a.v = grow(a.q, n*d), grow(a.k, n*d), grow(a.v, n*d)
	a.qh, a.kh, a.vh, a.oh = grow(a.qh, n*d), grow(a.kh, n*d), grow(a.vh, n*d), grow(a.oh, n*d)
	a.cat = grow(a.cat, n*d)
	a.Q.Forward(a.q, x, n)
	a.K.Forward(a.k, x, n)
	a.V.Forward(a.v, x, n)
	a.toHeads(a.qh, a.q)
	a.toHeads(a.kh, a.k)
	a.toHeads(a.vh, a.v)
	if a.dsa != nil {
		a.sparseForward(x)
		a.fromHeads(a.cat, a.oh)
		a.Out.Forward(y, a.cat, n)
		return
	}
	dh := d / a.Heads
	off := 0
	for _, l := range lens {
		s := off * d
		e := s + l*d
		a.Pool.Attention(a.oh[s:e], a.qh[s:e], a.kh[s:e], a.vh[s:e], a.Heads, l, dh, false)
		off += l
	}
	a.fromHeads(a.cat, a.oh)
	a.Out.Forward(y, a.cat, n)
}

// Backward accumulates the parameter gradients for output gradient dy of
// the last Forward and, if dx is not nil, sets dx to the input gradient.
func (a *MultiHeadAttention) Backward(dx, dy []float32) {
	n, d := a.n, a.Dim
	checkLen("MultiHeadAttention.Backward", "dy", len(dy), n*d)
	a.dcat = grow(a.dcat, n*d)
	a.Out.Backward(a.dcat, dy)
	a.doh = grow(a.doh, n*d)
	a.toHeads(a.doh, a.dcat)
	a.dqh, a.dkh, a.dvh = grow(a.dqh, n*d), grow(a.dkh, n*d), grow(a.dvh, n*d)
	if a.dsa != nil {
		a.sparseBackward()
	} else {
		a.denseBackward()
	}
	a.dq, a.dk, a.dv = grow(a.dq, n*d), grow(a.dk, n*d), grow(a.dv, n*d)
	a.fromHeads(a.dq, a.dqh)
	a.fromHeads(a.dk, a.dkh)
	a.fromHeads(a.dv, a.dvh)
	if dx == nil {
		a.Q.Backward(nil, a.dq)
		a.K.Backward(nil, a.dk)
		a.V.Backward(nil, a.dv)
		return
	}
	checkLen("MultiHeadAttention.Backward", "dx", len(dx), n*d)
	a.dtmp = grow(a.dtmp, n*d)
	a.Q.Backward(dx, a.dq)
	a.K.Backward(a.dtmp, a.dk)
	kernels.Axpy(1, a.dtmp, dx)
	a.V.Backward(a.dtmp, a.dv)
	kernels.Axpy(1, a.dtmp, dx)
}

// denseBackward sets a.dqh, a.dkh and a.dvh from a.doh by headBackward.
func (a *MultiHeadAttention) denseBackward() {
	d := a.Dim
	dh := d / a.Heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	off := 0
	for _, l := range a.lens {
		for h := range a.Heads {
			s := off*d + h*l*dh
			e := s + l*dh
			a.headBackward(a.dqh[s:e], a.dkh[s:e], a.dvh[s:e], a.doh[s:e], a.qh[s:e], a.kh[s:e], a.vh[s:e], a.oh[s:e], l, dh, scale)
		}
		off += l
	}
}

// headBackward sets dq, dk and dv (each l×dₕ) for one head from the
// output gradient do, with P = softmax(q·kᵀ·scale) recomputed a block of
// rows at a time: dv = Pᵀ·do, dS = P⊙(do·vᵀ − rowsum(do⊙o)),
// dq = dS·k·scale, dk = dSᵀ·q·scale. The identity rowsum(P⊙(do·vᵀ)) =
// rowsum(do⊙o) is why the output o, not the probabilities, is kept.
func (a *MultiHeadAttention) headBackward(dq, dk, dv, do, q, k, v, o []float32, l, dh int, scale float32) {
	blk := min(attnRowBlock, l)
	a.sBlk, a.dpBlk = grow(a.sBlk, blk*l), grow(a.dpBlk, blk*l)
	clear(dk)
	clear(dv)
	for i0 := 0; i0 < l; i0 += blk {
		r := min(blk, l-i0)
		s, dp := a.sBlk[:r*l], a.dpBlk[:r*l]
		qb, dob := q[i0*dh:(i0+r)*dh], do[i0*dh:(i0+r)*dh]
		a.Pool.Gemm(false, true, r, l, dh, scale, qb, dh, k, dh, 0, s, l)
		for i := range r {
			softmaxRow(s[i*l : (i+1)*l])
		}
		a.Pool.Gemm(true, false, l, dh, r, 1, s, l, dob, dh, 1, dv, dh)
		a.Pool.Gemm(false, true, r, l, dh, 1, dob, dh, v, dh, 0, dp, l)
		for i := range r {
			var di float64
			for j := range dh {
				di += float64(dob[i*dh+j]) * float64(o[(i0+i)*dh+j])
			}
			pr, dr := s[i*l:(i+1)*l], dp[i*l:(i+1)*l]
			for j := range pr {
				dr[j] = pr[j] * (dr[j] - float32(di))
			}
		}
		a.Pool.Gemm(false, false, r, dh, l, scale, dp, l, k, dh, 0, dq[i0*dh:(i0+r)*dh], dh)
		a.Pool.Gemm(true, false, l, dh, r, scale, dp, l, qb, dh, 1, dk, dh)
	}
}

// softmaxRow replaces x by its softmax, about its maximum.
func softmaxRow(x []float32) {
	mx := x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	var s float64
	for i, v := range x {
		e := expNeg(v - mx)
		x[i] = e
		s += float64(e)
	}
	scale(x, float32(1/s))
}

// toHeads copies the n×Dim matrix m into dst laid out per sequence as
// [heads][len][dₕ], the layout kernels.Attention reads.
func (a *MultiHeadAttention) toHeads(dst, m []float32) {
	a.permute(dst, m, true)
}

// fromHeads is the inverse of toHeads.
func (a *MultiHeadAttention) fromHeads(dst, hm []float32) {
	a.permute(dst, hm, false)
}

func (a *MultiHeadAttention) permute(dst, src []float32, toHeads bool) {
	d, dh := a.Dim, a.Dim/a.Heads
	off := 0
	for _, l := range a.lens {
		base := off * d
		for t := range l {
			for h := range a.Heads {
				row := base + t*d + h*dh
				hd := base + h*l*dh + t*dh
				if toHeads {
					copy(dst[hd:hd+dh], src[row:row+dh])
				} else {
					copy(dst[row:row+dh], src[hd:hd+dh])
				}
			}
		}
		off += l
	}
}

// seqRows returns Σlens, panicking if a length is not positive.
func seqRows(op string, lens []int) int {
	n := 0
	for i, l := range lens {
		if l <= 0 {
			panic(fmt.Sprintf("nn: %s: sequence %d has length %d", op, i, l))
		}
		n += l
	}
	return n
}

// Prefixed renames each parameter of ps to prefix.name and returns ps, so
// that a model's layers have distinct checkpoint names. Constructors call
// it once; calling it again prefixes again.
func Prefixed(prefix string, ps []*Param) []*Param {
	for _, p := range ps {
		p.Name = prefix + "." + p.Name
	}
	return ps
}
