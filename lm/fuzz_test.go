package lm

import (
	"bytes"
	"errors"
	"testing"

	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
)

// FuzzFromFile feeds mutated checkpoints to the loader, which must return
// a model or an error, never panic.
func FuzzFromFile(f *testing.F) {
	for _, cfg := range []Config{
		{Cell: nn.LSTMCell, Vocab: 3, Hidden: 2, Layers: 2},
		{Cell: nn.GRUCell, Vocab: 3, Hidden: 2, Layers: 1, Tied: true},
	} {
		m, err := New(cfg, 1)
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, m.Tensors(), map[string]string{"format": formatName, "cell": cfg.Cell.String()}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		m, _, err := FromFile(sf)
		if err == nil && m.Config().Validate() != nil {
			t.Errorf("loaded an invalid configuration %+v", m.Config())
		}
	})
}

// Issue 11: shapes that hold no data, such as a [10^9, 0] embedding whose
// width defaults to the hidden size, made the loader allocate a model of
// gigabytes (the fuzzer's workers stalled on them). The parameter count
// is now checked against the file's bytes first.
func TestFromFileZeroSizedShapes(t *testing.T) {
	m, err := New(Config{Cell: nn.LSTMCell, Vocab: 3, Hidden: 2, Layers: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ts := m.Tensors()
	for i := range ts {
		if ts[i].Name == "encoder.weight" {
			ts[i] = safetensors.Tensor{Name: "encoder.weight", DType: safetensors.F32, Shape: []int{1_000_000_000, 0}}
		}
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	sf, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := FromFile(sf); !errors.Is(err, ErrMismatch) {
		t.Fatalf("FromFile = %v, want ErrMismatch", err)
	}
}
