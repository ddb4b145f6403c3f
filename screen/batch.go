package screen

import (
	"fmt"
)

// ForwardBatch is Forward for n hidden vectors hs (n×d) at once, writing
// n rows of mixed logits to z (n×l). The candidates are the union over the
// batch of each vector's selection, and every vector gets exact logits for
// the whole union. It returns the union, in a buffer reused by the next
// call, and an error wrapping ErrParam for the Certified mode (which is
// per input) or ErrNotFinite for a NaN or infinity.
//
// The exact logits come from a row-gather GEMV per vector over the union:
// the first reads the union's rows from memory and the others find them in
// cache. Gathering the rows into a contiguous block for one GEMM
// (gatherGemm) reads memory no less and pays for the copy and the GEMM's
// packing: BenchmarkBatchExact measured it 2–6× slower for 4–16 vectors
// and 64 candidates each.
func (c *Classifier) ForwardBatch(z, hs []float32, n int) ([]int32, error) {
	l, d := c.Lin.N, c.Lin.D
	if n < 0 || len(z) != n*l || len(hs) != n*d {
		panic(fmt.Sprintf("screen: Classifier.ForwardBatch: len(z)=%d len(hs)=%d for n=%d, want %d and %d", len(z), len(hs), n, n*l, n*d))
	}
	if c.sel.Mode == Certified {
		return nil, fmt.Errorf("%w: certified selection runs one input at a time", ErrParam)
	}
	if err := checkFinite("hidden vector", hs, d); err != nil {
		return nil, err
	}
	union := c.union(z, hs, n)
	c.gatherGemv(z, hs, n, union)
	for i := range n {
		if err := finiteAt(z[i*l:(i+1)*l], union); err != nil {
			return nil, fmt.Errorf("vector %d: %w", i, err)
		}
	}
	return union, nil
}

// union screens every vector into its row of z and returns the union of
// the selections.
func (c *Classifier) union(z, hs []float32, n int) []int32 {
	l, d := c.Lin.N, c.Lin.D
	c.nextEpoch()
	var u []int32
	for i := range n {
		zi := z[i*l : (i+1)*l]
		c.run.screen(c.pool, zi, hs[i*d:(i+1)*d])
		for _, j := range c.Select(zi) {
			if c.stamp[j] != c.epoch {
				c.stamp[j] = c.epoch
				u = append(u, j)
			}
		}
	}
	// Select's buffer is reused; keep the union in a copy owned by c.
	c.cand = append(c.cand[:0:0], u...)
	return c.cand
}

func (c *Classifier) nextEpoch() {
	c.epoch++
	if c.epoch == 0 {
		clear(c.stamp)
		c.epoch = 1
	}
}

// gatherGemm copies the union's rows of W into a contiguous u×d block and
// computes the n×u exact logits with one GEMM, then scatters them (plus
// bias) into z. ForwardBatch does not use it; see there.
func (c *Classifier) gatherGemm(z, hs []float32, n int, union []int32) {
	l, d, u := c.Lin.N, c.Lin.D, len(union)
	if u == 0 {
		return
	}
	c.gbuf = grow(c.gbuf, u*d)
	c.gout = grow(c.gout, n*u)
	gather := func(lo, hi int) {
		for r := lo; r < hi; r++ {
			j := int(union[r])
			dst := c.gbuf[r*d : (r+1)*d]
			copy(dst, c.Lin.RowsF32(dst, j, j+1)) // a no-op copy for float16 rows
		}
	}
	c.pool.For(u, 16, gather)
	c.pool.Gemm(false, true, n, u, d, 1, hs, d, c.gbuf[:u*d], d, 0, c.gout[:n*u], u)
	b := c.Lin.B
	for i := range n {
		zi, oi := z[i*l:(i+1)*l], c.gout[i*u:(i+1)*u]
		for r, j := range union {
			v := oi[r]
			if b != nil {
				v += b[j]
			}
			zi[j] = v
		}
	}
}

// gatherGemv computes the exact logits of every vector on the union with
// a row-gather GEMV each.
func (c *Classifier) gatherGemv(z, hs []float32, n int, union []int32) {
	l, d := c.Lin.N, c.Lin.D
	for i := range n {
		exactGemv(c.pool, z[i*l:(i+1)*l], c.Lin, hs[i*d:(i+1)*d], union)
	}
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}
