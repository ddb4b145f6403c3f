package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// decodeRef is one query's attention over the listed keys (all when keys
// is nil) in float64.
func decodeRef(q, k, v []float32, l, dim, dv int, keys []int32) []float64 {
	if keys == nil {
		for j := range l {
			keys = append(keys, int32(j))
		}
	}
	out := make([]float64, dv)
	if len(keys) == 0 {
		return out
	}
	s := make([]float64, len(keys))
	mx := math.Inf(-1)
	for t, j := range keys {
		for c := range dim {
			s[t] += float64(q[c]) * float64(k[int(j)*dim+c])
		}
		s[t] /= math.Sqrt(float64(dim))
		mx = math.Max(mx, s[t])
	}
	var sum float64
	for t := range s {
		s[t] = math.Exp(s[t] - mx)
		sum += s[t]
	}
	for t, j := range keys {
		for c := range dv {
			out[c] += s[t] / sum * float64(v[int(j)*dv+c])
		}
	}
	return out
}

func TestDecodeAttention(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	for _, c := range []struct{ batch, l, dim, dv, pc, topk int }{
		{1, 1, 8, 8, 4, 1}, {3, 7, 5, 3, 3, 2}, {8, 1100, 16, 16, 8, 30}, {1, 1300, 64, 64, 16, 65}, {2, 777, 19, 8, 8, 40}, {5, 300, 64, 64, 16, 0},
	} {
		name := fmt.Sprintf("b%d_l%d_d%d_dv%d_c%d_k%d", c.batch, c.l, c.dim, c.dv, c.pc, c.topk)
		r := rand.New(rand.NewPCG(uint64(c.l), uint64(c.batch)))
		const amax = 2.0
		q, k := uniformFill(r, c.batch*c.dim, amax), uniformFill(r, c.batch*c.l*c.dim, amax)
		v := uniformFill(r, c.batch*c.l*c.dv, amax)
		// The predictor's keys: a quantized view of the first pc
		// dimensions, enough to make its choice differ from the exact one.
		pqf, pkf := make([]float32, c.batch*c.pc), make([]float32, c.batch*c.l*c.pc)
		for b := range c.batch {
			copy(pqf[b*c.pc:(b+1)*c.pc], q[b*c.dim:b*c.dim+c.pc])
		}
		for j := range c.batch * c.l {
			copy(pkf[j*c.pc:(j+1)*c.pc], k[j*c.dim:j*c.dim+c.pc])
		}
		pq := QuantizeRows(pqf, c.batch, c.pc)
		pk := make([]*PackedInt8, c.batch)
		for b := range pk {
			// Grown a key at a time, as a cache is.
			pk[b] = NewPackedInt8(c.pc)
			for j := range c.l {
				o := (b*c.l + j) * c.pc
				pk[b].Append(pkf[o:o+c.pc], 1)
			}
		}
		tol := attnTol(c.l, c.dim, amax)
		for _, pl := range []*Pool{nil, pool} {
			out, sout := make([]float32, c.batch*c.dv), make([]float32, c.batch*c.dv)
			var sel []int32
			if pl == nil {
				DecodeAttention(out, q, k, v, c.batch, c.l, c.dim, c.dv)
				sel = SparseDecodeAttention(sout, q, k, v, c.batch, c.l, c.dim, c.dv, pq, pk, c.topk, nil)
			} else {
				pl.DecodeAttention(out, q, k, v, c.batch, c.l, c.dim, c.dv)
				sel = pl.SparseDecodeAttention(sout, q, k, v, c.batch, c.l, c.dim, c.dv, pq, pk, c.topk, nil)
			}
			for b := range c.batch {
				kb, vb := k[b*c.l*c.dim:(b+1)*c.l*c.dim], v[b*c.l*c.dv:(b+1)*c.l*c.dv]
				want := decodeRef(q[b*c.dim:(b+1)*c.dim], kb, vb, c.l, c.dim, c.dv, nil)
				keys := sel[b*c.topk : (b+1)*c.topk]
				if !slices.IsSorted(keys) {
					t.Fatalf("%s: selection %v not ascending", name, keys)
				}
				// The selection is the predictor's top k for this sequence.
				pred := PredictTopK(&Int8Rows{Rows: 1, Cols: c.pc, Q: pq.Q[b*c.pc : (b+1)*c.pc], Scales: pq.Scales[b : b+1]},
					pk[b], c.topk, 1, nil)
				if !slices.Equal(pred.Idx, keys) {
					t.Fatalf("%s: batch %d selected %v, predictor %v", name, b, keys, pred.Idx)
				}
				swant := decodeRef(q[b*c.dim:(b+1)*c.dim], kb, vb, c.l, c.dim, c.dv, slices.Clone(keys))
				for i := range c.dv {
					if d := math.Abs(float64(out[b*c.dv+i]) - want[i]); !(d <= tol) {
						t.Fatalf("%s pool=%v: dense out[%d][%d] = %g, want %g", name, pl != nil, b, i, out[b*c.dv+i], want[i])
					}
					if d := math.Abs(float64(sout[b*c.dv+i]) - swant[i]); !(d <= tol) {
						t.Fatalf("%s pool=%v: sparse out[%d][%d] = %g, want %g", name, pl != nil, b, i, sout[b*c.dv+i], swant[i])
					}
				}
			}
		}
	}
}

func TestDecodeAttentionBadShapes(t *testing.T) {
	f := make([]float32, 64)
	pq := QuantizeRows(make([]float32, 4), 1, 4)
	pk := []*PackedInt8{PackInt8(QuantizeRows(make([]float32, 16), 4, 4))}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"short k", func() { DecodeAttention(f[:4], f[:4], f[:8], f[:16], 1, 4, 4, 4) }},
		{"negative", func() { DecodeAttention(f[:0], f[:0], f[:0], f[:0], -1, 4, 4, 4) }},
		{"topk > l", func() { SparseDecodeAttention(f[:4], f[:4], f[:16], f[:16], 1, 4, 4, 4, pq, pk, 5, nil) }},
		{"predictor rows", func() { SparseDecodeAttention(f[:4], f[:4], f[:12], f[:12], 1, 3, 4, 4, pq, pk, 1, nil) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}
