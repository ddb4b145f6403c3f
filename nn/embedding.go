package nn

import (
	"fmt"
	"math/rand/v2"
)

// Embedding maps token ids to rows of Weight (Num×Dim), as PyTorch's
// nn.Embedding.
type Embedding struct {
	Num, Dim int
	Weight   *Param

	ids []int32 // input of the last Forward
}

// NewEmbedding returns a num×dim table with parameter "weight" drawn
// uniformly from ±bound (PyTorch's word_language_model uses 0.1). It panics
// if a size is not positive.
func NewEmbedding(num, dim int, bound float64, rng *rand.Rand) *Embedding {
	if num <= 0 || dim <= 0 {
		panic(fmt.Sprintf("nn: NewEmbedding(%d, %d): sizes must be positive", num, dim))
	}
	e := &Embedding{Num: num, Dim: dim, Weight: NewParam("weight", num, dim)}
	e.Weight.Uniform(rng, bound)
	return e
}

// Params returns the weight.
func (e *Embedding) Params() []*Param { return []*Param{e.Weight} }

// Forward sets row i of dst (len(ids)×Dim) to the embedding of ids[i]. It
// keeps a reference to ids for Backward. It panics if an id is outside
// [0, Num).
func (e *Embedding) Forward(dst []float32, ids []int32) {
	checkLen("Embedding.Forward", "dst", len(dst), len(ids)*e.Dim)
	for i, id := range ids {
		if id < 0 || int(id) >= e.Num {
			panic(fmt.Sprintf("nn: Embedding.Forward: id %d outside [0, %d)", id, e.Num))
		}
		copy(dst[i*e.Dim:(i+1)*e.Dim], e.Weight.Data[int(id)*e.Dim:])
	}
	e.ids = ids
}

// Backward adds row i of dy to the gradient row of ids[i] of the last
// Forward.
func (e *Embedding) Backward(dy []float32) {
	checkLen("Embedding.Backward", "dy", len(dy), len(e.ids)*e.Dim)
	for i, id := range e.ids {
		g := e.Weight.Grad[int(id)*e.Dim : (int(id)+1)*e.Dim]
		for k, v := range dy[i*e.Dim : (i+1)*e.Dim] {
			g[k] += v
		}
	}
}
