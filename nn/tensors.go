package nn

import (
	"errors"
	"fmt"
	"slices"

	"github.com/elasticml/elastic/safetensors"
)

// ErrMismatch reports a checkpoint tensor that is missing or has another
// shape than the parameter it should fill.
var ErrMismatch = errors.New("tensor does not fit the parameter")

// Tensors returns ps as float32 safetensors tensors named and shaped as
// the parameters. The tensors share the parameters' data only until
// written.
func Tensors(ps []*Param) []safetensors.Tensor {
	ts := make([]safetensors.Tensor, len(ps))
	for i, p := range ps {
		ts[i] = safetensors.FromFloat32(p.Name, p.Shape, p.Data)
	}
	return ts
}

// LoadParams copies from f the tensor named after each parameter of ps.
// Each must be present with the parameter's shape and a float dtype; the
// first that is not gives an error wrapping ErrMismatch that names it, and
// leaves the parameters before it already filled.
func LoadParams(f *safetensors.File, ps []*Param) error {
	for _, p := range ps {
		t, err := f.Tensor(p.Name)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMismatch, err)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%w: tensor %q has shape %v, the model needs %v", ErrMismatch, p.Name, t.Shape, p.Shape)
		}
		v, err := t.Float32s()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMismatch, err)
		}
		copy(p.Data, v)
	}
	return nil
}
