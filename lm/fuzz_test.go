package lm

import (
	"bytes"
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
