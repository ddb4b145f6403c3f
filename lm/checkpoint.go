package lm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
)

// ErrMismatch reports a checkpoint whose architecture differs from the
// one requested, or whose tensors do not fit its stated architecture.
var ErrMismatch = errors.New("checkpoint mismatch")

// formatName marks files written by this package.
const formatName = "elastic-lm/1"

// TrainState is the training progress saved with a checkpoint so a run
// can resume.
type TrainState struct {
	Epoch   int     // the epoch in progress, from 1
	Batch   int     // the next BPTT window of that epoch
	LR      float64 // current learning rate
	BestVal float64 // best validation loss so far; +Inf before the first
	// Extra holds caller metadata, such as a fingerprint of the corpus
	// vocabulary; keys must not collide with the package's own.
	Extra map[string]string
	// Checksum says whether the file's tensor bytes were verified against
	// the checksum elastic writes; PyTorch exports have none.
	Checksum safetensors.ChecksumStatus
}

// Fingerprint returns a short hash of the architecture, which a resumed
// run compares before loading weights.
func (c Config) Fingerprint() string {
	c = c.withDefaults()
	sum := sha256.Sum256(fmt.Appendf(nil, "cell=%v vocab=%d emb=%d hidden=%d layers=%d tied=%t",
		c.Cell, c.Vocab, c.Emb, c.Hidden, c.Layers, c.Tied))
	return hex.EncodeToString(sum[:8])
}

// Tensors returns the model's weights as safetensors tensors under
// PyTorch's RNNModel state-dict names. A tied model lists the shared table
// under both encoder.weight and decoder.weight, as its state dict does.
func (m *Model) Tensors() []safetensors.Tensor {
	ts := nn.Tensors(m.Params())
	if m.cfg.Tied {
		w := m.Encoder.Weight
		ts = append(ts, safetensors.FromFloat32("decoder.weight", w.Shape, w.Data))
	}
	return ts
}

// Save writes the model, the state of its dropout generator and the
// training state to path atomically.
func (m *Model) Save(path string, ts TrainState) error {
	rng, err := m.pcg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("lm: save %s: %w", path, err)
	}
	meta := make(map[string]string, len(ts.Extra)+16)
	for k, v := range ts.Extra {
		meta[k] = v
	}
	c := m.cfg
	for k, v := range map[string]string{
		"format":        formatName,
		"cell":          c.Cell.String(),
		"vocab":         strconv.Itoa(c.Vocab),
		"emb":           strconv.Itoa(c.Emb),
		"hidden":        strconv.Itoa(c.Hidden),
		"layers":        strconv.Itoa(c.Layers),
		"tied":          strconv.FormatBool(c.Tied),
		"dropout":       strconv.FormatFloat(c.Dropout, 'g', -1, 64),
		"fingerprint":   c.Fingerprint(),
		"epoch":         strconv.Itoa(ts.Epoch),
		"batch":         strconv.Itoa(ts.Batch),
		"lr":            strconv.FormatFloat(ts.LR, 'g', -1, 64),
		"best_val_loss": strconv.FormatFloat(ts.BestVal, 'g', -1, 64),
		"rng":           hex.EncodeToString(rng),
	} {
		meta[k] = v
	}
	if err := safetensors.WriteFile(path, m.Tensors(), meta); err != nil {
		return fmt.Errorf("lm: save %s: %w", path, err)
	}
	return nil
}

// Load reads a model from a safetensors file written by Save or exported
// from PyTorch's word_language_model (its state dict, without metadata).
// The architecture comes from the tensor shapes, checked against the
// metadata when present; a missing or misshapen tensor gives an error
// wrapping ErrMismatch and a NaN or infinite weight one wrapping
// safetensors.ErrNonFinite, each naming the tensor. The training state is
// zero for a file without one.
func Load(path string) (*Model, TrainState, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, TrainState{}, fmt.Errorf("lm: %w", err)
	}
	m, ts, err := FromFile(f)
	if err != nil {
		return nil, TrainState{}, fmt.Errorf("lm: %s: %w", path, err)
	}
	return m, ts, nil
}

// ReadConfig reads the architecture of the model in the safetensors file
// at path from its header alone, with every check Load makes of the
// shapes and the metadata, but without reading the weights: a command
// checks its other files against it before it loads the model. For a file
// without elastic's metadata Tied is a guess (a decoder of the
// embedding's shape is taken as tied); Load compares the tables.
func ReadConfig(path string) (Config, error) {
	h, err := safetensors.ReadHeaderFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("lm: %w", err)
	}
	cfg, err := headerConfig(h)
	if err != nil {
		return Config{}, fmt.Errorf("lm: %s: %w", path, err)
	}
	return cfg, nil
}

// headerConfig is the architecture of the model h describes, checked
// against its metadata and its tensor bytes.
func headerConfig(h *safetensors.Header) (Config, error) {
	cfg, err := inferConfig(h)
	if err != nil {
		return Config{}, err
	}
	meta := h.Metadata()
	if meta["format"] == formatName {
		cfg.Tied = meta["tied"] == "true" // equal tables need not mean tied
		if err := checkMeta(meta, cfg); err != nil {
			return Config{}, err
		}
		cfg.Dropout, _ = strconv.ParseFloat(meta["dropout"], 64)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	// The shapes the loader infers from can hold no data (a [10^9, 0]
	// embedding): before the model is allocated, its parameters must fit
	// in the file's tensor bytes at two bytes each (float16) at least.
	if need := budget.Mul(2, int(min(cfg.params(), 1<<60))); need > h.DataSize() {
		return Config{}, fmt.Errorf("%w: %v has %d parameters, more than the file's %d tensor bytes hold", ErrMismatch, cfg, cfg.params(), h.DataSize())
	}
	return cfg, nil
}

// FromFile is Load for a parsed file.
func FromFile(f *safetensors.File) (*Model, TrainState, error) {
	cfg, err := headerConfig(&f.Header)
	if err != nil {
		return nil, TrainState{}, err
	}
	if err := f.CheckFinite(); err != nil {
		return nil, TrainState{}, err
	}
	meta := f.Metadata()
	ts := TrainState{BestVal: math.Inf(1), Extra: map[string]string{}}
	if meta["format"] == formatName {
		if ts, err = parseState(meta); err != nil {
			return nil, TrainState{}, err
		}
	}
	m, err := New(cfg, 1)
	if err != nil {
		return nil, TrainState{}, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if err := m.LoadTensors(f); err != nil {
		return nil, TrainState{}, err
	}
	if rng, ok := meta["rng"]; ok && meta["format"] == formatName {
		b, err := hex.DecodeString(rng)
		if err == nil {
			err = m.pcg.UnmarshalBinary(b)
		}
		if err != nil {
			return nil, TrainState{}, fmt.Errorf("%w: metadata rng=%q: %w", ErrMismatch, rng, err)
		}
	}
	ts.Checksum = f.Checksum()
	return m, ts, nil
}

// LoadTensors copies the weights of f into m. Every parameter must be
// present with m's shape; an error wrapping ErrMismatch names the first
// that is not. A tied model takes encoder.weight.
func (m *Model) LoadTensors(f *safetensors.File) error {
	if err := nn.LoadParams(f, m.Params()); err != nil {
		return fmt.Errorf("%w: model %v: %w", ErrMismatch, m.cfg, err)
	}
	return nil
}

// inferConfig reads the architecture from the tensor shapes. Tied needs
// the tables' bytes; from a header alone (no Data) a decoder is taken as
// tied when the shapes allow it, which only lowers the parameter count
// headerConfig checks.
func inferConfig(f *safetensors.Header) (Config, error) {
	shape := func(name string, dims int) ([]int, error) {
		t, err := f.Tensor(name)
		if err != nil {
			return nil, fmt.Errorf("%w: not a language model: %w", ErrMismatch, err)
		}
		if len(t.Shape) != dims {
			return nil, fmt.Errorf("%w: tensor %q has shape %v, want %d dimensions", ErrMismatch, name, t.Shape, dims)
		}
		return t.Shape, nil
	}
	enc, err := shape("encoder.weight", 2)
	if err != nil {
		return Config{}, err
	}
	encT, _ := f.Tensor("encoder.weight")
	whh, err := shape("rnn.weight_hh_l0", 2)
	if err != nil {
		return Config{}, err
	}
	c := Config{Vocab: enc[0], Emb: enc[1], Hidden: whh[1]}
	switch {
	case whh[0] == 4*c.Hidden:
		c.Cell = nn.LSTMCell
	case whh[0] == 3*c.Hidden:
		c.Cell = nn.GRUCell
	default:
		return Config{}, fmt.Errorf("%w: rnn.weight_hh_l0 has shape %v, neither an LSTM's nor a GRU's", ErrMismatch, whh)
	}
	for c.Layers = 1; ; c.Layers++ {
		if _, err := f.Tensor(fmt.Sprintf("rnn.weight_hh_l%d", c.Layers)); err != nil {
			break
		}
	}
	// A tied state dict holds the shared table twice, or once if the
	// exporter dropped the alias.
	if dec, err := f.Tensor("decoder.weight"); err != nil || bytes.Equal(dec.Data, encT.Data) {
		c.Tied = c.Emb == c.Hidden
	}
	return c, nil
}

// checkMeta compares the metadata's architecture with the shapes'.
func checkMeta(meta map[string]string, c Config) error {
	want := map[string]string{
		"cell":   c.Cell.String(),
		"vocab":  strconv.Itoa(c.Vocab),
		"emb":    strconv.Itoa(c.Emb),
		"hidden": strconv.Itoa(c.Hidden),
		"layers": strconv.Itoa(c.Layers),
	}
	for _, k := range []string{"cell", "vocab", "emb", "hidden", "layers"} {
		if meta[k] != want[k] {
			return fmt.Errorf("%w: metadata says %s=%s but the tensors give %s", ErrMismatch, k, meta[k], want[k])
		}
	}
	if fp := meta["fingerprint"]; fp != c.Fingerprint() {
		return fmt.Errorf("%w: fingerprint %s does not match the architecture %v (%s)", ErrMismatch, fp, c, c.Fingerprint())
	}
	return nil
}

func parseState(meta map[string]string) (TrainState, error) {
	var ts TrainState
	var err error
	bad := func(k string, e error) error {
		return fmt.Errorf("%w: metadata %s=%q: %w", ErrMismatch, k, meta[k], e)
	}
	if ts.Epoch, err = strconv.Atoi(meta["epoch"]); err != nil {
		return ts, bad("epoch", err)
	}
	if ts.Batch, err = strconv.Atoi(meta["batch"]); err != nil {
		return ts, bad("batch", err)
	}
	if ts.LR, err = strconv.ParseFloat(meta["lr"], 64); err != nil {
		return ts, bad("lr", err)
	}
	if ts.BestVal, err = strconv.ParseFloat(meta["best_val_loss"], 64); err != nil {
		return ts, bad("best_val_loss", err)
	}
	ts.Extra = map[string]string{}
	for k, v := range meta {
		if !ownKey(k) {
			ts.Extra[k] = v
		}
	}
	return ts, nil
}

// ownKey reports whether Save writes metadata key k itself.
func ownKey(k string) bool {
	switch k {
	case "format", "cell", "vocab", "emb", "hidden", "layers", "tied", "dropout",
		"fingerprint", "epoch", "batch", "lr", "best_val_loss", "rng":
		return true
	}
	return false
}
