package attn

import (
	"fmt"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lra"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/sparse"
)

// Eval is an evaluation of a checkpoint on one split.
type Eval struct {
	Config   Config  `json:"config"`
	Split    string  `json:"split"`
	Examples int     `json:"examples"`
	Accuracy float64 `json:"accuracy"`
	// Sparse is set when the evaluation ran with dynamic sparse attention.
	Sparse *SparseEval `json:"sparse,omitempty"`
	// Masks and MaskExamples name the mask file written and how many of
	// the split's first examples it holds.
	Masks        string `json:"masks,omitempty"`
	MaskExamples int    `json:"mask_examples,omitempty"`
}

// SparseEval describes a DSA evaluation (thesis Table 7.1: a trained
// dense model scored with sparse masks and no fine-tuning).
type SparseEval struct {
	Mode      string  `json:"mode"`
	Keep      float64 `json:"keep,omitempty"`
	TopK      int     `json:"top_k,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
	Block     int     `json:"block"`
	Sigma     float64 `json:"sigma,omitempty"`
	Bits      int     `json:"bits,omitempty"`
	Seed      uint64  `json:"seed,omitempty"`
	// Sparsity is the realised fraction of attention entries dropped over
	// every layer, head and sequence of the split; Kept and Total are the
	// counts it comes from.
	Sparsity float64 `json:"sparsity"`
	Kept     int64   `json:"kept"`
	Total    int64   `json:"total"`
}

// EvalOptions set where the data is and how the kernels run.
type EvalOptions struct {
	Split   string // train, valid or test; empty means test
	Data    DataPaths
	Threads int
	Batch   int // sequences per forward pass [the training batch]
	// Sparse, when not nil, scores a dense model with dynamic sparse
	// attention in every layer (nn.DSA; Lambda must be 0). Oracle masks
	// use the model's exact scores; a Predicted mask comes from an
	// untrained predictor initialised from Sparse.Seed, as a dense model
	// has none. A model trained with DSA (Config.Sparse) is always scored
	// with its own masks and trained predictors, and refuses Sparse.
	Sparse *nn.DSA
	// Masks, when set, is a file to which the DSA masks of the split's
	// first MaskExamples examples (one at a time) are written as a
	// sparse.Masks, one pattern per example, layer, sequence and head —
	// the predicted masks the accelerator simulator replays.
	Masks        string
	MaskExamples int // [4]
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
	if o.Threads < 0 || o.Batch < 0 || o.MaskExamples < 0 {
		return nil, fmt.Errorf("%w: threads %d, batch %d, mask examples %d", ErrConfig, o.Threads, o.Batch, o.MaskExamples)
	}
	if o.Masks != "" && m.Cfg.Sparse == nil && o.Sparse == nil {
		return nil, fmt.Errorf("%w: masks need dynamic sparse attention: a DSA model or a DSA mode", ErrConfig)
	}
	if o.Batch == 0 {
		o.Batch = m.Cfg.Batch
	}
	if m.Cfg.Sparse != nil && o.Sparse != nil {
		return nil, fmt.Errorf("%w: the model was trained with dynamic sparse attention (%s) and is scored with its own", ErrConfig, m.Cfg.Sparse.Mode)
	}
	if m.Cfg.Sparse != nil {
		m.ResetSparseStats()
	}
	if o.Sparse != nil {
		if o.Sparse.Lambda != 0 {
			return nil, fmt.Errorf("%w: DSA lambda %v: evaluation does not train the predictor", ErrConfig, o.Sparse.Lambda)
		}
		if err := m.SetSparse(o.Sparse); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		defer func() { _ = m.SetSparse(nil) }() // nil never fails
		m.ResetSparseStats()
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
	e := &Eval{Config: m.Cfg, Split: split.String(), Examples: n, Accuracy: acc}
	c := o.Sparse
	if c == nil {
		c = m.Cfg.Sparse
	}
	if c != nil {
		st := m.SparseStats()
		e.Sparse = &SparseEval{Mode: c.Mode.String(), Keep: c.Keep, TopK: c.TopK, Threshold: c.Threshold,
			Block: max(c.Block, 1), Sigma: c.Sigma, Bits: c.Bits, Seed: c.Seed,
			Sparsity: st.Sparsity(), Kept: st.Kept, Total: st.Total}
		if c.Mode == nn.DSAPredicted && e.Sparse.Bits == 0 {
			e.Sparse.Bits = 32
		}
	}
	if o.Masks != "" {
		k := o.MaskExamples
		if k == 0 {
			k = 4
		}
		k = min(k, n)
		if err := writeMasks(m, d, split, k, c, o.Masks); err != nil {
			return nil, err
		}
		e.Masks, e.MaskExamples = o.Masks, k
	}
	return e, nil
}

// writeMasks runs the split's first k examples one at a time and writes
// their masks to path, named example/layer/sequence/head. It runs after
// the evaluation's counters have been read.
func writeMasks(m *Model, d *Data, split lra.Split, k int, c *nn.DSA, path string) error {
	ms := &sparse.Masks{Meta: map[string]string{
		"task": m.Cfg.Task, "split": split.String(), "mode": c.Mode.String(),
		"keep": fmt.Sprint(c.Keep), "top_k": fmt.Sprint(c.TopK), "block": fmt.Sprint(max(c.Block, 1)),
		"sigma": fmt.Sprint(c.Sigma), "bits": fmt.Sprint(c.Bits), "heads": fmt.Sprint(m.Cfg.Heads),
	}}
	b := &batch{}
	for i := range k {
		d.gather(b, split, []int{i})
		if _, err := m.correct(b); err != nil {
			return fmt.Errorf("attn: masks of example %d: %w", i, err)
		}
		for layer, pats := range m.encoder().Masks() {
			for j, p := range pats {
				ms.Names = append(ms.Names, fmt.Sprintf("ex%d/layer%d/seq%d/head%d", i, layer, j/m.Cfg.Heads, j%m.Cfg.Heads))
				ms.Patterns = append(ms.Patterns, p)
			}
		}
	}
	if err := ms.WriteFile(path); err != nil {
		return fmt.Errorf("attn: masks: %w", err)
	}
	return nil
}
