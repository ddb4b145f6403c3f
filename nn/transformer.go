package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// ErrSequence reports input an Encoder cannot take: an empty sequence, one
// longer than its positions, or a token outside its vocabulary.
var ErrSequence = errors.New("sequence does not fit the encoder")

// Pooling says how an Encoder reduces a sequence to one vector.
type Pooling int

const (
	// MeanPool averages the final states of all tokens (LRA's default).
	MeanPool Pooling = iota
	// CLSPool takes the final state of the first token, which the task
	// must then reserve for a classification symbol.
	CLSPool
)

// EncoderConfig is the shape of a transformer encoder.
type EncoderConfig struct {
	Vocab  int // token ids are in [0, Vocab)
	MaxLen int // learned positions; longer sequences are refused
	Dim    int // model width d
	Heads  int // attention heads; must divide Dim
	FFN    int // hidden width of the position-wise feed-forward layer
	Layers int
	Pool   Pooling
	// Dropout is the probability with which training drops an element
	// of the embeddings, of each attention output and of each FFN output
	// (before their residual additions), as LRA's dropout_rate. Attention
	// probabilities are not dropped: the tiled kernel never forms them.
	Dropout float64
}

// Validate reports a configuration that cannot be built.
func (c EncoderConfig) Validate() error {
	if c.Vocab <= 0 || c.MaxLen <= 0 || c.Dim <= 0 || c.Heads <= 0 || c.FFN <= 0 || c.Layers <= 0 {
		return fmt.Errorf("nn: encoder config %+v: every size must be positive", c)
	}
	if c.Dim%c.Heads != 0 {
		return fmt.Errorf("nn: encoder config: %d heads do not divide width %d", c.Heads, c.Dim)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("nn: encoder config: dropout %v outside [0, 1)", c.Dropout)
	}
	if c.Pool != MeanPool && c.Pool != CLSPool {
		return fmt.Errorf("nn: encoder config: unknown pooling %d", c.Pool)
	}
	return nil
}

// EncoderLayer is one pre-norm transformer block, as LRA's vanilla
// transformer: h = x + D₁(MHA(LN₁(x))), y = h + D₂(W₂·GELU(W₁·LN₂(h)))
// with D₁, D₂ dropout in training.
type EncoderLayer struct {
	LN1          *LayerNorm
	Attn         *MultiHeadAttention
	LN2          *LayerNorm
	FF1          *Linear
	Act          GELU
	FF2          *Linear
	Drop1, Drop2 *Dropout

	hold                      bool // reuse the last dropout masks (gradient checks)
	n                         int
	a, att, b, f1, g          []float32
	dh, da, db, df1, dg, dtmp []float32
}

// NewEncoderLayer returns a block of width dim with heads heads, an FFN
// of hidden width ffn and dropout probability dropout, whose masks it
// draws from rng. Parameters are named ln1.*, attn.*, ln2.*, ffn1.*,
// ffn2.*.
func NewEncoderLayer(dim, heads, ffn int, dropout float64, rng *rand.Rand) *EncoderLayer {
	e := &EncoderLayer{
		LN1: NewLayerNorm(dim), Attn: NewMultiHeadAttention(dim, heads, rng), LN2: NewLayerNorm(dim),
		FF1: newXavierLinear(dim, ffn, rng), FF2: newXavierLinear(ffn, dim, rng),
		Drop1: NewDropout(dropout, rng), Drop2: NewDropout(dropout, rng),
	}
	Prefixed("ln1", e.LN1.Params())
	Prefixed("attn", e.Attn.Params())
	Prefixed("ln2", e.LN2.Params())
	Prefixed("ffn1", e.FF1.Params())
	Prefixed("ffn2", e.FF2.Params())
	return e
}

// Params returns the block's parameters.
func (e *EncoderLayer) Params() []*Param {
	return concatParams(e.LN1.Params(), e.Attn.Params(), e.LN2.Params(), e.FF1.Params(), e.FF2.Params())
}

// SetPool sets the pool of the block's GEMMs and attention.
func (e *EncoderLayer) SetPool(p *kernels.Pool) {
	e.Attn.SetPool(p)
	e.FF1.Pool, e.FF2.Pool = p, p
}

// Forward sets y to the block's output for x, both Σlens×Dim, keeping
// references to x and lens for Backward; train applies dropout. y must
// not alias x.
func (e *EncoderLayer) Forward(y, x []float32, lens []int, train bool) {
	d, f := e.LN1.Dim, e.FF1.Out
	n := seqRows("EncoderLayer.Forward", lens)
	e.n = n
	e.a, e.att, e.b = grow(e.a, n*d), grow(e.att, n*d), grow(e.b, n*d)
	e.f1, e.g = grow(e.f1, n*f), grow(e.g, n*f)
	e.LN1.Forward(e.a, x, n)
	e.Attn.Forward(e.att, e.a, lens)
	dropout(e.Drop1, e.att, train, e.hold)
	for i := range y {
		y[i] = x[i] + e.att[i] // h, kept in y until the FFN adds to it
	}
	e.LN2.Forward(e.b, y, n)
	e.FF1.Forward(e.f1, e.b, n)
	e.Act.Forward(e.g, e.f1)
	e.FF2.Forward(e.att, e.g, n) // att is free again: reuse it for the FFN output
	dropout(e.Drop2, e.att, train, e.hold)
	kernels.Axpy(1, e.att, y)
}

// dropout applies d to x in place: a fresh mask in training, or the last
// one when hold is set.
func dropout(d *Dropout, x []float32, train, hold bool) {
	if hold {
		d.Reapply(x, x)
	} else {
		d.Forward(x, x, train)
	}
}

// Backward accumulates the parameter gradients for output gradient dy of
// the last Forward and sets dx to the input gradient. dx may alias dy.
func (e *EncoderLayer) Backward(dx, dy []float32) {
	d, f, n := e.LN1.Dim, e.FF1.Out, e.n
	e.dh, e.da, e.db = grow(e.dh, n*d), grow(e.da, n*d), grow(e.db, n*d)
	e.df1, e.dg, e.dtmp = grow(e.df1, n*f), grow(e.dg, n*f), grow(e.dtmp, n*d)
	copy(e.dh, dy)
	e.Drop2.Backward(e.dtmp, dy)
	e.FF2.Backward(e.dg, e.dtmp)
	e.Act.Backward(e.df1, e.dg)
	e.FF1.Backward(e.db, e.df1)
	e.LN2.Backward(e.db, e.db)
	kernels.Axpy(1, e.db, e.dh)
	e.Drop1.Backward(e.dtmp, e.dh)
	e.Attn.Backward(e.da, e.dtmp)
	e.LN1.Backward(e.da, e.da)
	for i := range dx {
		dx[i] = e.dh[i] + e.da[i]
	}
}

// Encoder is a transformer encoder: token plus learned positional
// embeddings, Layers pre-norm blocks, a final LayerNorm and pooling to one
// Dim-vector per sequence.
type Encoder struct {
	Cfg      EncoderConfig
	Tok, Pos *Embedding
	Drop     *Dropout // on the embeddings
	Blocks   []*EncoderLayer
	Norm     *LayerNorm

	hold  bool
	lens  []int
	n     int
	pos   []int32
	acts  [][]float32 // acts[0] the embeddings, acts[i+1] block i's output
	final []float32
	dx    []float32
}

// NewEncoder returns an encoder of shape cfg, or an error if cfg does not
// validate. Embeddings are uniform in ±0.1; parameters are named
// embed.tok.weight, embed.pos.weight, layers.<i>.*, norm.*.
func NewEncoder(cfg EncoderConfig, rng *rand.Rand) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Encoder{Cfg: cfg, Tok: NewEmbedding(cfg.Vocab, cfg.Dim, 0.1, rng),
		Pos: NewEmbedding(cfg.MaxLen, cfg.Dim, 0.1, rng), Norm: NewLayerNorm(cfg.Dim),
		Drop: NewDropout(cfg.Dropout, rng)}
	Prefixed("embed.tok", e.Tok.Params())
	Prefixed("embed.pos", e.Pos.Params())
	for i := range cfg.Layers {
		b := NewEncoderLayer(cfg.Dim, cfg.Heads, cfg.FFN, cfg.Dropout, rng)
		Prefixed(fmt.Sprintf("layers.%d", i), b.Params())
		e.Blocks = append(e.Blocks, b)
	}
	Prefixed("norm", e.Norm.Params())
	return e, nil
}

// Params returns every parameter of the encoder.
func (e *Encoder) Params() []*Param {
	ps := concatParams(e.Tok.Params(), e.Pos.Params())
	for _, b := range e.Blocks {
		ps = append(ps, b.Params()...)
	}
	return append(ps, e.Norm.Params()...)
}

// holdMasks makes later training Forwards reuse the dropout masks of the
// last one, so that gradient checks see a fixed function.
func (e *Encoder) holdMasks(hold bool) {
	e.hold = hold
	for _, b := range e.Blocks {
		b.hold = hold
		if b.Attn.dsa != nil {
			b.Attn.dsa.hold = hold // a DSA mask is a step function too
		}
	}
}

// SetPool sets the pool of every block.
func (e *Encoder) SetPool(p *kernels.Pool) {
	for _, b := range e.Blocks {
		b.SetPool(p)
	}
}

// CheckInput returns an error wrapping ErrSequence unless ids is a
// concatenation of sequences of lengths lens, each in [1, MaxLen], with
// every id in [0, Vocab).
func (e *Encoder) CheckInput(ids []int32, lens []int) error {
	n := 0
	for i, l := range lens {
		if l <= 0 || l > e.Cfg.MaxLen {
			return fmt.Errorf("%w: sequence %d has length %d, want 1 to %d", ErrSequence, i, l, e.Cfg.MaxLen)
		}
		n += l
	}
	if len(lens) == 0 {
		return fmt.Errorf("%w: no sequences", ErrSequence)
	}
	if n != len(ids) {
		return fmt.Errorf("%w: %d tokens, but the lengths add up to %d", ErrSequence, len(ids), n)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= e.Cfg.Vocab {
			return fmt.Errorf("%w: token %d is %d, outside [0, %d)", ErrSequence, i, id, e.Cfg.Vocab)
		}
	}
	return nil
}

// Forward sets out (len(lens)×Dim) to the pooled encodings of the
// sequences whose token ids ids holds back to back, lens[i] of sequence i.
// It keeps references to ids and lens for Backward; train applies
// dropout. Bad input gives an error wrapping ErrSequence and changes
// nothing.
func (e *Encoder) Forward(out []float32, ids []int32, lens []int, train bool) error {
	if err := e.CheckInput(ids, lens); err != nil {
		return err
	}
	d, n := e.Cfg.Dim, len(ids)
	checkLen("Encoder.Forward", "out", len(out), len(lens)*d)
	e.lens, e.n = lens, n
	if cap(e.pos) < n {
		e.pos = make([]int32, n)
	}
	e.pos = e.pos[:n]
	off := 0
	for _, l := range lens {
		for t := range l {
			e.pos[off+t] = int32(t)
		}
		off += l
	}
	for len(e.acts) < len(e.Blocks)+1 {
		e.acts = append(e.acts, nil)
	}
	for i := range e.acts {
		e.acts[i] = grow(e.acts[i], n*d)
	}
	e.final = grow(e.final, n*d)
	x := e.acts[0]
	e.Tok.Forward(x, ids)
	e.Pos.Forward(e.final, e.pos)
	kernels.Axpy(1, e.final, x)
	dropout(e.Drop, x, train, e.hold)
	for i, b := range e.Blocks {
		b.Forward(e.acts[i+1], e.acts[i], lens, train)
	}
	e.Norm.Forward(e.final, e.acts[len(e.Blocks)], n)
	off = 0
	for s, l := range lens {
		o := out[s*d : (s+1)*d]
		if e.Cfg.Pool == CLSPool {
			copy(o, e.final[off*d:(off+1)*d])
		} else {
			clear(o)
			for t := range l {
				kernels.Axpy(1/float32(l), e.final[(off+t)*d:(off+t+1)*d], o)
			}
		}
		off += l
	}
	return nil
}

// Backward accumulates every parameter gradient for the gradient dout of
// the pooled encodings of the last Forward.
func (e *Encoder) Backward(dout []float32) {
	d, n := e.Cfg.Dim, e.n
	checkLen("Encoder.Backward", "dout", len(dout), len(e.lens)*d)
	e.dx = grow(e.dx, n*d)
	clear(e.dx)
	off := 0
	for s, l := range e.lens {
		g := dout[s*d : (s+1)*d]
		if e.Cfg.Pool == CLSPool {
			copy(e.dx[off*d:(off+1)*d], g)
		} else {
			for t := range l {
				kernels.Axpy(1/float32(l), g, e.dx[(off+t)*d:(off+t+1)*d])
			}
		}
		off += l
	}
	e.Norm.Backward(e.dx, e.dx)
	for i := len(e.Blocks) - 1; i >= 0; i-- {
		e.Blocks[i].Backward(e.dx, e.dx)
	}
	e.Drop.Backward(e.dx, e.dx)
	e.Tok.Backward(e.dx)
	e.Pos.Backward(e.dx)
}

// MLP is a two-layer perceptron, W₂·GELU(W₁·x + b₁) + b₂: the classifier
// head of LRA (which uses ReLU; GELU is smooth, so finite differences
// check it everywhere).
type MLP struct {
	FC1 *Linear
	Act GELU
	FC2 *Linear

	h, g, dg []float32
	n        int
}

// NewMLP returns an in→hidden→out perceptron with parameters fc1.*, fc2.*.
func NewMLP(in, hidden, out int, rng *rand.Rand) *MLP {
	m := &MLP{FC1: newXavierLinear(in, hidden, rng), FC2: newXavierLinear(hidden, out, rng)}
	Prefixed("fc1", m.FC1.Params())
	Prefixed("fc2", m.FC2.Params())
	return m
}

// Params returns both layers' parameters.
func (m *MLP) Params() []*Param { return concatParams(m.FC1.Params(), m.FC2.Params()) }

// Forward sets y (n×out) from x (n×in), keeping a reference to x.
func (m *MLP) Forward(y, x []float32, n int) {
	m.n = n
	m.h, m.g = grow(m.h, n*m.FC1.Out), grow(m.g, n*m.FC1.Out)
	m.FC1.Forward(m.h, x, n)
	m.Act.Forward(m.g, m.h)
	m.FC2.Forward(y, m.g, n)
}

// Backward accumulates the gradients for dy and, if dx is not nil, sets
// dx to the input gradient.
func (m *MLP) Backward(dx, dy []float32) {
	m.dg = grow(m.dg, m.n*m.FC1.Out)
	m.FC2.Backward(m.dg, dy)
	m.Act.Backward(m.dg, m.dg)
	m.FC1.Backward(dx, m.dg)
}

// Classifier is an Encoder whose pooled output an MLP maps to class
// logits: LRA's Text, Image and ListOps models.
type Classifier struct {
	Enc  *Encoder
	Head *MLP

	pooled, dpooled []float32
}

// NewClassifier returns an encoder of shape cfg with an MLP head of hidden
// width hidden over classes classes; the head's parameters are named
// head.fc1.*, head.fc2.*.
func NewClassifier(cfg EncoderConfig, hidden, classes int, rng *rand.Rand) (*Classifier, error) {
	if hidden <= 0 || classes < 2 {
		return nil, fmt.Errorf("nn: classifier head %d wide over %d classes: want a positive width and ≥ 2 classes", hidden, classes)
	}
	enc, err := NewEncoder(cfg, rng)
	if err != nil {
		return nil, err
	}
	h := NewMLP(cfg.Dim, hidden, classes, rng)
	Prefixed("head", h.Params())
	return &Classifier{Enc: enc, Head: h}, nil
}

// Params returns the encoder's and the head's parameters.
func (c *Classifier) Params() []*Param { return concatParams(c.Enc.Params(), c.Head.Params()) }

// SetPool runs the encoder's and the head's GEMMs and attention on p (nil:
// on the caller).
func (c *Classifier) SetPool(p *kernels.Pool) {
	c.Enc.SetPool(p)
	c.Head.FC1.Pool, c.Head.FC2.Pool = p, p
}

// Forward sets logits (len(lens)×classes) for the sequences in ids;
// train applies dropout.
func (c *Classifier) Forward(logits []float32, ids []int32, lens []int, train bool) error {
	d := c.Enc.Cfg.Dim
	c.pooled = grow(c.pooled, len(lens)*d)
	if err := c.Enc.Forward(c.pooled, ids, lens, train); err != nil {
		return err
	}
	c.Head.Forward(logits, c.pooled, len(lens))
	return nil
}

// Backward accumulates every gradient for dlogits of the last Forward.
func (c *Classifier) Backward(dlogits []float32) {
	c.dpooled = grow(c.dpooled, len(c.pooled))
	c.Head.Backward(c.dpooled, dlogits)
	c.Enc.Backward(c.dpooled)
}

// DualClassifier classifies pairs of sequences, as LRA's retrieval model:
// one Encoder (shared weights) encodes both sides to u and v, and an MLP
// maps the features [u, v, u⊙v, u−v] to logits.
type DualClassifier struct {
	Enc  *Encoder
	Head *MLP

	ids            []int32
	lens           []int
	pooled, feat   []float32
	dpooled, dfeat []float32
	pairs          int
}

// NewDualClassifier returns a shared encoder of shape cfg with a head
// over the 4·Dim pair features.
func NewDualClassifier(cfg EncoderConfig, hidden, classes int, rng *rand.Rand) (*DualClassifier, error) {
	if hidden <= 0 || classes < 2 {
		return nil, fmt.Errorf("nn: dual head %d wide over %d classes: want a positive width and ≥ 2 classes", hidden, classes)
	}
	enc, err := NewEncoder(cfg, rng)
	if err != nil {
		return nil, err
	}
	h := NewMLP(4*cfg.Dim, hidden, classes, rng)
	Prefixed("head", h.Params())
	return &DualClassifier{Enc: enc, Head: h}, nil
}

// Params returns the encoder's and the head's parameters.
func (c *DualClassifier) Params() []*Param { return concatParams(c.Enc.Params(), c.Head.Params()) }

// SetPool runs the encoder's and the head's GEMMs and attention on p.
func (c *DualClassifier) SetPool(p *kernels.Pool) {
	c.Enc.SetPool(p)
	c.Head.FC1.Pool, c.Head.FC2.Pool = p, p
}

// Forward sets logits (pairs×classes) for pairs of sequences: pair i is
// sequence i of (ids1, lens1) and sequence i of (ids2, lens2). Both sides
// go through the encoder in one batch; train applies dropout.
func (c *DualClassifier) Forward(logits []float32, ids1 []int32, lens1 []int, ids2 []int32, lens2 []int, train bool) error {
	if len(lens1) != len(lens2) {
		return fmt.Errorf("%w: %d first and %d second sequences", ErrSequence, len(lens1), len(lens2))
	}
	p, d := len(lens1), c.Enc.Cfg.Dim
	c.ids = append(append(c.ids[:0], ids1...), ids2...)
	c.lens = append(append(c.lens[:0], lens1...), lens2...)
	c.pooled = grow(c.pooled, 2*p*d)
	if err := c.Enc.Forward(c.pooled, c.ids, c.lens, train); err != nil {
		return err
	}
	c.pairs = p
	c.feat = grow(c.feat, p*4*d)
	for i := range p {
		u, v := c.pooled[i*d:(i+1)*d], c.pooled[(p+i)*d:(p+i+1)*d]
		f := c.feat[i*4*d : (i+1)*4*d]
		copy(f[:d], u)
		copy(f[d:2*d], v)
		for j := range d {
			f[2*d+j] = u[j] * v[j]
			f[3*d+j] = u[j] - v[j]
		}
	}
	c.Head.Forward(logits, c.feat, p)
	return nil
}

// Backward accumulates every gradient for dlogits of the last Forward.
func (c *DualClassifier) Backward(dlogits []float32) {
	p, d := c.pairs, c.Enc.Cfg.Dim
	c.dfeat = grow(c.dfeat, p*4*d)
	c.Head.Backward(c.dfeat, dlogits)
	c.dpooled = grow(c.dpooled, 2*p*d)
	for i := range p {
		u, v := c.pooled[i*d:(i+1)*d], c.pooled[(p+i)*d:(p+i+1)*d]
		du, dv := c.dpooled[i*d:(i+1)*d], c.dpooled[(p+i)*d:(p+i+1)*d]
		f := c.dfeat[i*4*d : (i+1)*4*d]
		for j := range d {
			du[j] = f[j] + f[2*d+j]*v[j] + f[3*d+j]
			dv[j] = f[d+j] + f[2*d+j]*u[j] - f[3*d+j]
		}
	}
	c.Enc.Backward(c.dpooled)
}

func concatParams(groups ...[]*Param) []*Param {
	var ps []*Param
	for _, g := range groups {
		ps = append(ps, g...)
	}
	return ps
}
