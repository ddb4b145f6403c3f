package experiments

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/elasticml/elastic/lm"
)

// Clone returns a deep copy of m's weights as a new model of the same
// architecture.
func Clone(m *lm.Model) *lm.Model {
	c, err := lm.New(m.Config(), 1)
	if err != nil {
		panic(fmt.Sprintf("experiments: Clone: %v", err)) // m's config is valid
	}
	src, dst := m.Params(), c.Params()
	for i, p := range src {
		copy(dst[i].Data, p.Data)
	}
	return c
}

// Prune returns a copy of m in which, in each recurrent weight matrix
// (every layer's W_ih and W_hh; biases, embedding and decoder are kept),
// the round(frac·n) of its n entries with the smallest magnitudes are
// zero: one-shot magnitude pruning, ties broken by position. It returns an
// error unless 0 <= frac <= 1.
func Prune(m *lm.Model, frac float64) (*lm.Model, error) {
	if !(frac >= 0 && frac <= 1) {
		return nil, fmt.Errorf("experiments: pruning fraction %v outside [0, 1]", frac)
	}
	c := Clone(m)
	for _, w := range c.Layers() {
		pruneMatrix(w.WIH, frac)
		pruneMatrix(w.WHH, frac)
	}
	return c, nil
}

func pruneMatrix(w []float32, frac float64) {
	z := int(math.Round(frac * float64(len(w))))
	if z == 0 {
		return
	}
	idx := make([]int32, len(w))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(math.Abs(float64(w[a])), math.Abs(float64(w[b]))); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, i := range idx[:z] {
		w[i] = 0
	}
}

// recurrentBytes returns the float32 bytes of every layer's W_ih, W_hh
// and biases: what a dense step of the recurrent layers reads.
func recurrentBytes(m *lm.Model) int {
	n := 0
	for _, w := range m.Layers() {
		n += 4 * (len(w.WIH) + len(w.WHH) + len(w.BIH) + len(w.BHH))
	}
	return n
}

// sparseBytes returns what a step reads with the recurrent weight
// matrices in CSR form: a float32 value and an int32 column per nonzero,
// an int32 pointer per row plus one, and dense biases.
func sparseBytes(m *lm.Model) int {
	n := 0
	for _, w := range m.Layers() {
		for _, mat := range []struct {
			v    []float32
			cols int
		}{{w.WIH, w.In}, {w.WHH, w.Hidden}} {
			nz := 0
			for _, v := range mat.v {
				if v != 0 {
					nz++
				}
			}
			n += 8*nz + 4*(len(mat.v)/mat.cols+1)
		}
		n += 4 * (len(w.BIH) + len(w.BHH))
	}
	return n
}
