package attn

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
)

// formatName marks files written by this package.
const formatName = "elastic-attn/1"

// Model is a task's transformer: an nn.Classifier, or for Retrieval an
// nn.DualClassifier, with the Config it was built from.
type Model struct {
	Cfg            Config // saved fields only
	Vocab, Classes int

	cls  *nn.Classifier
	dual *nn.DualClassifier
	pool *kernels.Pool
	// pcg feeds the dropout layers (through the *rand.Rand the layers
	// were built with); reseeding it per step makes the masks a function
	// of (Seed, step) alone.
	pcg *rand.PCG

	logits, grad []float32
}

// NewModel returns a model of shape c (with defaults) for a task of vocab
// tokens and classes classes, initialised from c.Seed.
func NewModel(c Config, vocab, classes int) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	ec := nn.EncoderConfig{Vocab: vocab, MaxLen: c.Length, Dim: c.Dim, Heads: c.Heads, FFN: c.FFN,
		Layers: c.Layers, Pool: nn.MeanPool, Dropout: c.Dropout}
	pcg := rand.NewPCG(c.Seed, 0x6174746e) // "attn"
	rng := rand.New(pcg)
	m := &Model{Cfg: c.saved(), Vocab: vocab, Classes: classes, pcg: pcg}
	var err error
	if c.Task == "retrieval" {
		m.dual, err = nn.NewDualClassifier(ec, c.Hidden, classes, rng)
	} else {
		m.cls, err = nn.NewClassifier(ec, c.Hidden, classes, rng)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := m.SetSparse(m.Cfg.Sparse); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return m, nil
}

// initFrom copies the dense weights of the checkpoint at path into m (a
// new model of the same shape) and restarts m's predictor, if any, from
// its seed: model adaptation starts from a trained model whose file holds
// no predictor.
func (m *Model) initFrom(path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("attn: init: %w", err)
	}
	if f.Metadata()["format"] != formatName {
		return fmt.Errorf("%w: init %s: format %q, want %q", ErrMismatch, path, f.Metadata()["format"], formatName)
	}
	if err := f.CheckFinite(); err != nil {
		return fmt.Errorf("attn: init %s: %w", path, err)
	}
	if err := m.SetSparse(nil); err != nil {
		return err
	}
	if err := loadParams(f, m.Params()); err != nil {
		return fmt.Errorf("attn: init %s: %w", path, err)
	}
	return m.SetSparse(m.Cfg.Sparse)
}

// Params returns every parameter.
func (m *Model) Params() []*nn.Param {
	if m.dual != nil {
		return m.dual.Params()
	}
	return m.cls.Params()
}

// SetPool runs the model's kernels on p (nil: on the caller).
func (m *Model) SetPool(p *kernels.Pool) {
	m.pool = p
	if m.dual != nil {
		m.dual.SetPool(p)
	} else {
		m.cls.SetPool(p)
	}
}

// SetSparse sets dynamic sparse attention c (nil: dense) on every layer
// (nn.Encoder.SetSparse). Call it after Load: in Predicted mode it adds
// predictor parameters, initialised from c.Seed, that a dense checkpoint
// does not hold.
func (m *Model) SetSparse(c *nn.DSA) error {
	if m.dual != nil {
		return m.dual.SetSparse(c)
	}
	return m.cls.SetSparse(c)
}

// SparseStats returns the encoder's DSA counters.
func (m *Model) SparseStats() nn.DSAStats {
	if m.dual != nil {
		return m.dual.SparseStats()
	}
	return m.cls.SparseStats()
}

// encoder is the model's encoder (the dual head's shared one).
func (m *Model) encoder() *nn.Encoder {
	if m.dual != nil {
		return m.dual.Enc
	}
	return m.cls.Enc
}

// ResetSparseStats clears the encoder's DSA counters.
func (m *Model) ResetSparseStats() {
	if m.dual != nil {
		m.dual.ResetSparseStats()
	} else {
		m.cls.ResetSparseStats()
	}
}

// forward sets m.logits for b; train applies dropout.
func (m *Model) forward(b *batch, train bool) error {
	n := len(b.labels)
	m.logits = slices.Grow(m.logits[:0], n*m.Classes)[:n*m.Classes]
	if m.dual != nil {
		return m.dual.Forward(m.logits, b.ids, b.lens, b.ids2, b.lens2, train)
	}
	return m.cls.Forward(m.logits, b.ids, b.lens, train)
}

// loss runs a training forward pass on b and returns the mean
// cross-entropy, keeping its gradient for backward.
func (m *Model) loss(b *batch) (float64, error) {
	if err := m.forward(b, true); err != nil {
		return 0, err
	}
	m.grad = slices.Grow(m.grad[:0], len(m.logits))[:len(m.logits)]
	loss := nn.CrossEntropy(m.pool, m.grad, m.logits, b.labels, m.Classes)
	// The joint loss of eq. 7.7: backward's gradients already include
	// λ·∂MSE/∂W̃ (package nn), so only the reported value needs the term.
	if st := m.SparseStats(); st.HasMSE {
		loss += m.Cfg.Sparse.Lambda * st.MSE
	}
	return loss, nil
}

// backward clears the gradients and accumulates those of the last loss.
func (m *Model) backward() {
	nn.ZeroGrad(m.Params())
	if m.dual != nil {
		m.dual.Backward(m.grad)
	} else {
		m.cls.Backward(m.grad)
	}
}

// correct returns how many examples of b the model classifies right.
func (m *Model) correct(b *batch) (int, error) {
	if err := m.forward(b, false); err != nil {
		return 0, err
	}
	n := 0
	for i, l := range b.labels {
		row := m.logits[i*m.Classes : (i+1)*m.Classes]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == int(l) {
			n++
		}
	}
	return n, nil
}

// state is what a checkpoint holds besides the weights.
type state struct {
	epoch, step int // the loop position to resume at
	adamSteps   int
	best        float64
}

// save writes the weights, the optimizer's moments (if opt is not nil)
// and the state to path.
func (m *Model) save(path string, opt *nn.AdamW, st state, extra map[string]string) error {
	cj, err := json.Marshal(m.Cfg)
	if err != nil {
		return fmt.Errorf("attn: save %s: %w", path, err)
	}
	meta := map[string]string{
		"format": formatName, "config": string(cj),
		"vocab": strconv.Itoa(m.Vocab), "classes": strconv.Itoa(m.Classes),
		"epoch": strconv.Itoa(st.epoch), "step": strconv.Itoa(st.step),
		"adam_steps": strconv.Itoa(st.adamSteps),
		"best_valid": strconv.FormatFloat(st.best, 'g', -1, 64),
	}
	for k, v := range extra {
		meta[k] = v
	}
	ps := m.Params()
	if opt != nil {
		ps = append(slices.Clip(ps), opt.State()...)
	}
	if err := safetensors.WriteFile(path, nn.Tensors(ps), meta); err != nil {
		return fmt.Errorf("attn: save %s: %w", path, err)
	}
	return nil
}

// checkpoint is a parsed checkpoint.
type checkpoint struct {
	m    *Model
	st   state
	f    *safetensors.File
	meta map[string]string
}

// Load reads a model written by Train (any checkpoint: periodic, stopped,
// final or best). A file of another format, a config that does not
// validate, or a missing or misshapen tensor gives an error wrapping
// ErrMismatch; a NaN or infinite weight one wrapping
// safetensors.ErrNonFinite.
func Load(path string) (*Model, error) {
	ck, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return ck.m, nil
}

func readCheckpoint(path string) (*checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("attn: %w", err)
	}
	ck, err := fromFile(f)
	if err != nil {
		return nil, fmt.Errorf("attn: %s: %w", path, err)
	}
	return ck, nil
}

func fromFile(f *safetensors.File) (*checkpoint, error) {
	meta := f.Metadata()
	if meta["format"] != formatName {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrMismatch, meta["format"], formatName)
	}
	var c Config
	if err := json.Unmarshal([]byte(meta["config"]), &c); err != nil {
		return nil, fmt.Errorf("%w: metadata config: %w", ErrMismatch, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	var ints [5]int
	for i, k := range []string{"vocab", "classes", "epoch", "step", "adam_steps"} {
		n, err := strconv.Atoi(meta[k])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: metadata %s=%q", ErrMismatch, k, meta[k])
		}
		ints[i] = n
	}
	best, err := strconv.ParseFloat(meta["best_valid"], 64)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata best_valid=%q", ErrMismatch, meta["best_valid"])
	}
	// A small file must not make us build a huge model: every tensor the
	// config implies must be in the header, with its shape, before the
	// model is allocated.
	d := float64(c.Dim)
	params := float64(ints[0])*d + float64(c.Length)*d + float64(c.Layers)*(4*d*d+2*d*float64(c.FFN)) +
		4*d*float64(c.Hidden) + float64(c.Hidden)*float64(ints[1])
	if 4*params > float64(f.DataSize()) {
		return nil, fmt.Errorf("%w: config %+v with %d tokens and %d classes needs more than the file's %d bytes", ErrMismatch, c.saved(), ints[0], ints[1], f.DataSize())
	}
	if ints[0] < 1 || ints[1] < 2 {
		return nil, fmt.Errorf("%w: vocabulary %d, classes %d", ErrMismatch, ints[0], ints[1])
	}
	if err := f.CheckFinite(); err != nil {
		return nil, err
	}
	m, err := NewModel(c, ints[0], ints[1])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if err := loadParams(f, m.Params()); err != nil {
		return nil, err
	}
	return &checkpoint{m: m, st: state{epoch: ints[2], step: ints[3], adamSteps: ints[4], best: best}, f: f, meta: meta}, nil
}

// loadParams copies the tensors of ps's names into ps.
func loadParams(f *safetensors.File, ps []*nn.Param) error {
	if err := nn.LoadParams(f, ps); err != nil {
		return fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	return nil
}
