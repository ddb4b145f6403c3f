package lm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

// ErrConfig reports an invalid model or training configuration.
var ErrConfig = errors.New("invalid configuration")

// Config describes a model's architecture.
type Config struct {
	Cell   nn.Cell
	Vocab  int // number of token ids
	Emb    int // embedding width; 0 means Hidden
	Hidden int // units per recurrent layer
	Layers int // recurrent layers, 1 or 2 in the thesis's models
	// Tied shares the embedding table with the decoder weight (Press and
	// Wolf), which needs Emb == Hidden.
	Tied bool
	// Dropout is applied to the embeddings, between recurrent layers and
	// to the last layer's output during training.
	Dropout float64
}

// withDefaults fills in Emb.
func (c Config) withDefaults() Config {
	if c.Emb == 0 {
		c.Emb = c.Hidden
	}
	return c
}

// Validate returns an error wrapping ErrConfig describing the first bad
// field, with Emb defaulted.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Cell != nn.LSTMCell && c.Cell != nn.GRUCell:
		return fmt.Errorf("%w: cell %v is neither lstm nor gru", ErrConfig, c.Cell)
	case c.Vocab <= 0:
		return fmt.Errorf("%w: vocabulary size %d <= 0", ErrConfig, c.Vocab)
	case c.Hidden <= 0:
		return fmt.Errorf("%w: hidden size %d <= 0", ErrConfig, c.Hidden)
	case c.Emb <= 0:
		return fmt.Errorf("%w: embedding size %d <= 0", ErrConfig, c.Emb)
	case c.Layers <= 0:
		return fmt.Errorf("%w: %d layers, want at least 1", ErrConfig, c.Layers)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("%w: dropout %v outside [0, 1)", ErrConfig, c.Dropout)
	case c.Tied && c.Emb != c.Hidden:
		return fmt.Errorf("%w: tied weights need emb (%d) == hidden (%d)", ErrConfig, c.Emb, c.Hidden)
	}
	return nil
}

// params returns the number of weights of the architecture (saturating),
// without allocating them.
func (c Config) params() int64 {
	c = c.withDefaults()
	g := 4
	if c.Cell == nn.GRUCell {
		g = 3
	}
	n := budget.Add(budget.Mul(c.Vocab, c.Emb), int64(c.Vocab)) // encoder, decoder bias
	if !c.Tied {
		n = budget.Add(n, budget.Mul(c.Vocab, c.Hidden))
	}
	for l := range c.Layers {
		in := c.Hidden
		if l == 0 {
			in = c.Emb
		}
		n = budget.Add(n, budget.Mul(g, c.Hidden, in+c.Hidden+2))
		if n == math.MaxInt64 {
			break
		}
	}
	return n
}

// String describes the architecture, e.g. "lstm 2×650 emb 650 vocab 8323".
func (c Config) String() string {
	c = c.withDefaults()
	s := fmt.Sprintf("%v %d×%d emb %d vocab %d", c.Cell, c.Layers, c.Hidden, c.Emb, c.Vocab)
	if c.Tied {
		s += " tied"
	}
	return s
}

// Model is PyTorch's word_language_model RNNModel: an embedding, dropout,
// a stack of LSTM or GRU layers, dropout and a linear decoder to
// vocabulary logits. Its parameters are named as that model's state dict
// (encoder.weight, rnn.weight_ih_l0, ..., decoder.weight, decoder.bias).
//
// A Model is not safe for concurrent use.
type Model struct {
	cfg     Config
	Encoder *nn.Embedding
	RNN     *nn.RNN
	Decoder *nn.Linear

	pcg             *rand.PCG // source of every dropout mask, saved in checkpoints
	dropIn, dropOut *nn.Dropout
	pool            *kernels.Pool

	// Buffers of the last Forward, grown on demand.
	steps, batch   int
	targets        []int32
	emb, embDrop   []float32
	outDrop        []float32
	logits         []float32
	dOut, dEmb     []float32
	haveGrad       bool
	stepX, stepOut []float32 // Step scratch
}

// New returns a model initialised as the PyTorch example does: embedding
// and decoder weights uniform in ±0.1, decoder bias zero, recurrent
// weights uniform in ±1/√hidden; seed fixes these and every later dropout
// mask. It returns an error wrapping ErrConfig if cfg is invalid.
func New(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	pcg := rand.NewPCG(seed, 0x9e3779b97f4a7c15)
	rng := rand.New(pcg)
	m := &Model{cfg: cfg, pcg: pcg}
	m.Encoder = nn.NewEmbedding(cfg.Vocab, cfg.Emb, 0.1, rng)
	m.RNN = nn.NewRNN(cfg.Cell, cfg.Emb, cfg.Hidden, cfg.Layers, cfg.Dropout, rng)
	m.Decoder = nn.NewLinear(cfg.Hidden, cfg.Vocab, rng)
	m.Decoder.Weight.Uniform(rng, 0.1)
	clear(m.Decoder.Bias.Data)
	if cfg.Tied {
		m.Decoder.Weight = m.Encoder.Weight
	}
	m.dropIn = nn.NewDropout(cfg.Dropout, rng)
	m.dropOut = nn.NewDropout(cfg.Dropout, rng)
	m.Encoder.Weight.Name = "encoder.weight"
	for _, p := range m.RNN.Params() {
		p.Name = "rnn." + p.Name
	}
	if !cfg.Tied {
		m.Decoder.Weight.Name = "decoder.weight"
	}
	m.Decoder.Bias.Name = "decoder.bias"
	return m, nil
}

// Config returns the model's architecture.
func (m *Model) Config() Config { return m.cfg }

// SetPool makes the model run its GEMMs and loss on p's workers (nil: the
// calling goroutine only).
func (m *Model) SetPool(p *kernels.Pool) {
	m.pool = p
	m.RNN.SetPool(p)
	m.Decoder.Pool = p
}

// Params returns the trainable parameters in state-dict order, each once
// (a tied decoder weight is the encoder's).
func (m *Model) Params() []*nn.Param {
	ps := append(m.Encoder.Params(), m.RNN.Params()...)
	if !m.cfg.Tied {
		ps = append(ps, m.Decoder.Weight)
	}
	return append(ps, m.Decoder.Bias)
}

// NewState returns a zero recurrent state for batch sequences.
func (m *Model) NewState(batch int) nn.State { return m.RNN.NewState(batch) }

// Layers returns each recurrent layer's weights in PyTorch's layout, for
// inference code that runs the layers itself.
func (m *Model) Layers() []nn.LayerWeights {
	ws := make([]nn.LayerWeights, len(m.RNN.Layers))
	for i, l := range m.RNN.Layers {
		ws[i] = l.Weights()
	}
	return ws
}

// Forward runs the model over input, steps×batch token ids time-major
// (as corpus.Batches.Window returns them), from state st, which it
// advances. It returns the logits, steps×batch×Vocab, in a buffer owned by
// the model and valid until the next call. Dropout is applied when train
// is true. It panics if a token is outside the vocabulary or len(input) is
// not steps×batch.
func (m *Model) Forward(input []int32, steps, batch int, st nn.State, train bool) []float32 {
	if len(input) != steps*batch {
		panic(fmt.Sprintf("lm: Forward: %d tokens for %d steps × batch %d", len(input), steps, batch))
	}
	n := steps * batch
	m.steps, m.batch, m.haveGrad = steps, batch, false
	m.emb = grow(m.emb, n*m.cfg.Emb)
	m.embDrop = grow(m.embDrop, n*m.cfg.Emb)
	m.outDrop = grow(m.outDrop, n*m.cfg.Hidden)
	m.logits = grow(m.logits, n*m.cfg.Vocab)
	m.Encoder.Forward(m.emb, input)
	m.dropIn.Forward(m.embDrop, m.emb, train)
	out := m.RNN.Forward(m.embDrop, steps, batch, st, train)
	m.dropOut.Forward(m.outDrop, out, train)
	m.Decoder.Forward(m.logits, m.outDrop, n)
	return m.logits
}

// Loss runs Forward and returns the mean cross-entropy of the logits
// against targets (the input shifted by one token). With grad true it
// also leaves the loss gradient for Backward, overwriting the logits.
func (m *Model) Loss(input, targets []int32, steps, batch int, st nn.State, train, grad bool) float64 {
	logits := m.Forward(input, steps, batch, st, train)
	var g []float32
	if grad {
		g = logits
	}
	loss := nn.CrossEntropy(m.pool, g, logits, targets, m.cfg.Vocab)
	m.haveGrad = grad
	return loss
}

// Backward accumulates into Param.Grad the gradient of the last Loss
// called with grad true. It panics if there is none.
func (m *Model) Backward() {
	if !m.haveGrad {
		panic("lm: Backward without a preceding Loss(..., grad=true)")
	}
	m.haveGrad = false
	n := m.steps * m.batch
	m.dOut = grow(m.dOut, n*m.cfg.Hidden)
	m.dEmb = grow(m.dEmb, n*m.cfg.Emb)
	m.Decoder.Backward(m.dOut, m.logits)
	m.dropOut.Backward(m.dOut, m.dOut)
	m.RNN.Backward(m.dEmb, m.dOut)
	m.dropIn.Backward(m.dEmb, m.dEmb)
	m.Encoder.Backward(m.dEmb)
}

// Step advances a single sequence (st from NewState(1)) by one token and
// writes the next-token logits, length Vocab, using each layer's
// batch-1 Step. Dropout is off.
func (m *Model) Step(st nn.State, token int32, logits []float32) {
	if token < 0 || int(token) >= m.cfg.Vocab {
		panic(fmt.Sprintf("lm: Step: token %d outside [0, %d)", token, m.cfg.Vocab))
	}
	if len(logits) != m.cfg.Vocab {
		panic(fmt.Sprintf("lm: Step: len(logits)=%d, want %d", len(logits), m.cfg.Vocab))
	}
	e := m.cfg.Emb
	x := m.Encoder.Weight.Data[int(token)*e : (int(token)+1)*e]
	for l, layer := range m.RNN.Layers {
		var c []float32
		if st.C != nil {
			c = st.C[l]
		}
		layer.Step(st.H[l], c, x)
		x = st.H[l]
	}
	kernels.Gemv(logits, m.Decoder.Weight.Data, m.cfg.Hidden, x, m.Decoder.Bias.Data)
}

// Evaluate returns the mean per-token cross-entropy (nats) of predicting
// each token of stream from the ones before it, as the PyTorch example's
// evaluate does: the stream is cut into batch columns, run in windows of
// bptt steps with the state carried over, dropout off. Perplexity is
// exp of the result. It returns an error if the stream is too short for
// one step per column.
func (m *Model) Evaluate(stream []int32, batch, bptt int) (float64, error) {
	if batch <= 0 || bptt <= 0 {
		return 0, fmt.Errorf("%w: evaluation batch %d, bptt %d", ErrConfig, batch, bptt)
	}
	if err := m.checkTokens(stream); err != nil {
		return 0, err
	}
	b := corpus.Batchify(stream, batch)
	if b.Steps < 2 {
		return 0, fmt.Errorf("lm: evaluate: %d tokens are too few for batch %d", len(stream), batch)
	}
	st := m.NewState(batch)
	var total float64
	for i := 0; i < b.Steps-1; i += bptt {
		in, tgt, n := b.Window(i, bptt)
		l := m.Loss(in, tgt, n, batch, st, false, false)
		if math.IsNaN(l) { // bad logits: stop at the first window
			return 0, fmt.Errorf("lm: evaluate: window at step %d: %w", i, nn.CheckLoss(l))
		}
		total += float64(n) * l
	}
	loss := total / float64(b.Steps-1)
	if err := nn.CheckLoss(loss); err != nil {
		return 0, fmt.Errorf("lm: evaluate: %w", err)
	}
	return loss, nil
}

// checkTokens returns an error if a token id is outside the vocabulary,
// as happens with a stream encoded against another vocabulary.
func (m *Model) checkTokens(stream []int32) error {
	for i, t := range stream {
		if t < 0 || int(t) >= m.cfg.Vocab {
			return fmt.Errorf("lm: token %d at position %d is outside the model's vocabulary of %d", t, i, m.cfg.Vocab)
		}
	}
	return nil
}

// CheckFinite returns an error wrapping nn.ErrNonFinite naming the first
// parameter holding a NaN or infinity.
func (m *Model) CheckFinite() error { return nn.CheckFinite(m.Params()) }

// Perplexity returns exp(loss), the usual report of a mean cross-entropy.
func Perplexity(loss float64) float64 { return math.Exp(loss) }

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
