package screen

import (
	"errors"
	"fmt"

	"github.com/elasticml/elastic/safetensors"
)

// ErrHidden reports a malformed hidden-vector file.
var ErrHidden = errors.New("screen: malformed hidden-vector file")

// Tensor names of a hidden-vector file.
const (
	hiddenTensor = "hidden" // F32 [n, d]: the vectors h a classifier is fed
	labelsTensor = "labels" // F32 [n], optional: each vector's class id
)

// maxExactLabel bounds the class ids a file can hold: labels are stored as
// float32, exact for integers up to 2^24.
const maxExactLabel = 1 << 24

// WriteHidden writes n = len(h)/d hidden vectors of width d, and their
// labels when not nil (one class id per vector), as the safetensors file
// ReadHidden reads: tensor hidden F32 [n, d] and optional tensor labels
// F32 [n], the layout a PyTorch script can write with safetensors.torch.
func WriteHidden(path string, h []float32, d int, labels []int32) error {
	if d < 1 || len(h)%d != 0 {
		return fmt.Errorf("screen: WriteHidden %d values of width %d: %w", len(h), d, ErrParam)
	}
	n := len(h) / d
	ts := []safetensors.Tensor{safetensors.FromFloat32(hiddenTensor, []int{n, d}, h)}
	if labels != nil {
		if len(labels) != n {
			return fmt.Errorf("screen: WriteHidden %d labels for %d vectors: %w", len(labels), n, ErrParam)
		}
		lf := make([]float32, n)
		for i, y := range labels {
			if y < 0 || y > maxExactLabel {
				return fmt.Errorf("screen: WriteHidden label %d is %d, not a class id a float32 holds exactly: %w", i, y, ErrParam)
			}
			lf[i] = float32(y)
		}
		ts = append(ts, safetensors.FromFloat32(labelsTensor, []int{n}, lf))
	}
	return safetensors.WriteFile(path, ts, nil)
}

// ReadHidden reads up to limit vectors of width d from the tensor hidden
// of a hidden-vector file (see WriteHidden), and their labels, each a
// class id below l, from the optional tensor labels (nil when the file
// has none). A width other than d is an error wrapping ErrMismatch, as is
// a label beyond the l classes; a label that is no class id, or fewer
// labels than vectors, wraps ErrHidden.
func ReadHidden(path string, l, d, limit int) ([]float32, []int32, error) {
	file, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	t, err := file.Tensor(hiddenTensor)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(t.Shape) != 2 || t.Shape[1] != d {
		return nil, nil, fmt.Errorf("%s: hidden has shape %v, want [n, %d]: %w", path, t.Shape, d, ErrMismatch)
	}
	hs, err := t.Float32s()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	n := min(t.Shape[0], max(limit, 0))
	hs = hs[:n*d]
	lt, err := file.Tensor(labelsTensor)
	if err != nil {
		return hs, nil, nil
	}
	lf, err := lt.Float32s()
	if err != nil || len(lf) < n {
		return nil, nil, fmt.Errorf("%s: labels: want %d F32 class ids: %w", path, n, ErrHidden)
	}
	labels := make([]int32, n)
	for i, v := range lf[:n] {
		if v != v || v < 0 || v > maxExactLabel || v != float32(int32(v)) {
			return nil, nil, fmt.Errorf("%s: label %d is %v, not a class id: %w", path, i, v, ErrHidden)
		}
		if int(v) >= l {
			return nil, nil, fmt.Errorf("%s: label %d is %v, not a class id of the %d classes: %w", path, i, v, l, ErrMismatch)
		}
		labels[i] = int32(v)
	}
	return hs, labels, nil
}
