package attn

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lra"
)

// Eval is an evaluation of a checkpoint on one split.
type Eval struct {
	Config   Config  `json:"config"`
	Split    string  `json:"split"`
	Examples int     `json:"examples"`
	Accuracy float64 `json:"accuracy"`
}

// EvalOptions set where the data is and how the kernels run.
type EvalOptions struct {
	Split   string // train, valid or test; empty means test
	Data    DataPaths
	Threads int
	Batch   int // sequences per forward pass [the training batch]
}

// Evaluate loads the checkpoint at path, rebuilds its task's data from the
// config the checkpoint holds (same data seed, same data) and returns the
// model's accuracy on the whole split (the test split by default).
func Evaluate(path string, o EvalOptions) (*Eval, error) {
	m, err := Load(path)
	if err != nil {
		return nil, err
	}
	c := m.Cfg
	c.Data = o.Data
	d, err := LoadData(c)
	if err != nil {
		return nil, err
	}
	return EvaluateOn(m, d, o)
}

// EvaluateOn is Evaluate for a loaded model and data.
func EvaluateOn(m *Model, d *Data, o EvalOptions) (*Eval, error) {
	if m.Vocab != d.Vocab() || m.Classes != d.Classes() || d.MaxLen() > m.Cfg.Length || (d.Pairs != nil) != (m.Cfg.Task == "retrieval") {
		return nil, fmt.Errorf("%w: a %s model of %d tokens, %d classes and %d positions; data of %d tokens, %d classes, sequences up to %d",
			ErrMismatch, m.Cfg.Task, m.Vocab, m.Classes, m.Cfg.Length, d.Vocab(), d.Classes(), d.MaxLen())
	}
	split := lra.Test
	switch o.Split {
	case "", "test":
	case "train":
		split = lra.Train
	case "valid":
		split = lra.Valid
	default:
		return nil, fmt.Errorf("%w: split %q, want train, valid or test", ErrConfig, o.Split)
	}
	if o.Threads < 0 || o.Batch < 0 {
		return nil, fmt.Errorf("%w: threads %d, batch %d", ErrConfig, o.Threads, o.Batch)
	}
	if o.Batch == 0 {
		o.Batch = m.Cfg.Batch
	}
	pool := kernels.NewPool(o.Threads)
	defer pool.Close()
	m.SetPool(pool)
	defer m.SetPool(nil)
	n := d.Len(split)
	acc, err := accuracy(m, d, split, n, o.Batch, &batch{})
	if err != nil {
		return nil, err
	}
	return &Eval{Config: m.Cfg, Split: split.String(), Examples: n, Accuracy: acc}, nil
}
