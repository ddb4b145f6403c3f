package dmi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
)

// Set holds the little modules of every recurrent layer of one language
// model, with what is needed to rebuild and check them.
type Set struct {
	Cell nn.Cell
	Bits quant.Bits
	Eps  float64
	Seed uint64
	// Fingerprint identifies the model the modules were fitted to (see
	// Fingerprint); NewLM refuses any other.
	Fingerprint string
	Layers      []*Little
	// Checksum says whether the file it was loaded from had its tensor
	// bytes verified (zero, absent, for a Set not loaded from a file).
	Checksum safetensors.ChecksumStatus
}

// Bytes returns the W̃ and b̃ storage of all layers.
func (s *Set) Bytes() int {
	n := 0
	for _, l := range s.Layers {
		n += l.Bytes()
	}
	return n
}

// Fingerprint returns a short hash of a model's architecture and
// recurrent weights: little modules fitted to one model are useless on
// another even of the same shape.
func Fingerprint(m *lm.Model) string {
	h := sha256.New()
	h.Write([]byte(m.Config().Fingerprint()))
	buf := make([]byte, 0, 1<<16)
	for _, w := range m.Layers() {
		for _, p := range [][]float32{w.WIH, w.WHH, w.BIH, w.BHH} {
			for _, v := range p {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) == cap(buf) {
					h.Write(buf)
					buf = buf[:0]
				}
			}
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// calibBatch and calibBPTT shape the calibration run: columns and window
// length as in the PyTorch example's evaluation.
const (
	calibBatch = 16
	calibBPTT  = 35
)

// MinCalibTokens returns the fewest calibration tokens Fit accepts for m
// with options o.
func MinCalibTokens(m *lm.Model, o Options) (int, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return 0, err
	}
	need := 0
	for _, w := range m.Layers() {
		k, err := o.projDim(w.Cell.Gates() * w.Hidden)
		if err != nil {
			return 0, err
		}
		need = max(need, 2*(min(k, w.In)+min(k, w.Hidden)+1))
	}
	// Batchify drops the tail that does not fill a column.
	return need + calibBatch, nil
}

// Fit fits a little module to every recurrent layer of m (eq. 3.20): it
// runs the exact model over the calibration tokens, calibBatch columns
// with the state carried between windows and dropout off, records each
// layer's inputs x(t) and previous states h(t−1), and solves each layer's
// least squares. Set m's pool (lm.Model.SetPool) to use more threads.
//
// It returns an error wrapping ErrCalib if calib is shorter than
// MinCalibTokens, and ErrParam for bad options or a token outside the
// vocabulary.
func Fit(m *lm.Model, calib []int32, o Options) (*Set, error) {
	o = o.withDefaults()
	need, err := MinCalibTokens(m, o)
	if err != nil {
		return nil, err
	}
	if len(calib) < need {
		return nil, fmt.Errorf("%w: %d calibration tokens, need at least %d (2×(k_x+k_h+1) per layer)", ErrCalib, len(calib), need)
	}
	cfg := m.Config()
	for i, t := range calib {
		if t < 0 || int(t) >= cfg.Vocab {
			return nil, fmt.Errorf("%w: calibration token %d at %d outside the vocabulary of %d", ErrParam, t, i, cfg.Vocab)
		}
	}
	ws := m.Layers()
	fits := make([]*layerFit, len(ws))
	for l, w := range ws {
		if fits[l], err = newLayerFit(w, l, o); err != nil {
			return nil, err
		}
	}
	b := corpus.Batchify(calib, calibBatch)
	st := m.NewState(calibBatch)
	var emb, xh []float32
	hprev := make([]float32, calibBatch*cfg.Hidden)
	for i := 0; i < b.Steps; i += calibBPTT {
		n := min(calibBPTT, b.Steps-i)
		in := b.Data[i*calibBatch : (i+n)*calibBatch]
		emb = grow(emb, len(in)*cfg.Emb)
		m.Encoder.Forward(emb, in)
		x := emb
		for l, layer := range m.RNN.Layers {
			w := ws[l]
			copy(hprev, st.H[l])
			var c []float32
			if st.C != nil {
				c = st.C[l]
			}
			out := layer.Forward(x, n, calibBatch, st.H[l], c)
			d := w.In + w.Hidden
			xh = grow(xh, n*calibBatch*d)
			for t := range n {
				for j := range calibBatch {
					r := t*calibBatch + j
					row := xh[r*d : (r+1)*d]
					copy(row, x[r*w.In:(r+1)*w.In])
					if t == 0 {
						copy(row[w.In:], hprev[j*w.Hidden:(j+1)*w.Hidden])
					} else {
						copy(row[w.In:], out[(r-calibBatch)*w.Hidden:(r-calibBatch+1)*w.Hidden])
					}
				}
			}
			if err := fits[l].add(xh); err != nil {
				return nil, fmt.Errorf("layer %d: %w", l, err)
			}
			x = out
		}
	}
	s := &Set{Cell: cfg.Cell, Bits: o.Bits, Eps: o.Eps, Seed: o.Seed, Fingerprint: Fingerprint(m)}
	for l, f := range fits {
		lt, err := f.solve(o)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		s.Layers = append(s.Layers, lt)
	}
	return s, nil
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// LM runs a language model with dual-module recurrent layers at batch 1:
// the model's embedding and decoder, and a Layer per recurrent layer. The
// insensitive ratio (or another selection) is a run-time knob.
//
// An LM is not safe for concurrent use.
type LM struct {
	m      *lm.Model
	layers []*Layer
	pool   *kernels.Pool
	logits []float32
}

// NewLM returns the dual-module form of m with the little modules s,
// running on pool (nil: the caller only). It returns an error wrapping
// ErrMismatch if s was fitted to another model.
func NewLM(m *lm.Model, s *Set, pool *kernels.Pool) (*LM, error) {
	cfg := m.Config()
	ws := m.Layers()
	switch {
	case s.Cell != cfg.Cell || len(s.Layers) != len(ws):
		return nil, fmt.Errorf("%w: little modules are for %d %v layers, the model has %d %v layers",
			ErrMismatch, len(s.Layers), s.Cell, len(ws), cfg.Cell)
	case s.Fingerprint != Fingerprint(m):
		return nil, fmt.Errorf("%w: little modules were fitted to model %s, this model is %s",
			ErrMismatch, s.Fingerprint, Fingerprint(m))
	}
	d := &LM{m: m, pool: pool, logits: make([]float32, cfg.Vocab)}
	for l, w := range ws {
		layer, err := NewLayer(w, s.Layers[l], pool)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		d.layers = append(d.layers, layer)
	}
	return d, nil
}

// Layers returns the dual-module layers.
func (d *LM) Layers() []*Layer { return d.layers }

// SetRatio sets every layer's top-K insensitive ratio. It returns an
// error wrapping sel.ErrRatio unless 0 <= ratio < 1.
func (d *LM) SetRatio(ratio float64) error {
	return d.SetSelection(Selection{Mode: TopK, Ratio: ratio})
}

// SetSelection installs s in every layer.
func (d *LM) SetSelection(s Selection) error {
	if err := s.check(); err != nil {
		return err
	}
	for l, layer := range d.layers {
		if err := layer.SetSelection(s); err != nil {
			return fmt.Errorf("layer %d: %w", l, err)
		}
	}
	return nil
}

// Step advances st (from the model's NewState(1)) by token and writes the
// next-token logits (length Vocab). With exact set every layer takes its
// dense step instead.
func (d *LM) Step(st nn.State, token int32, logits []float32, exact bool) {
	_ = d.StepWith(st, token, logits, exact, nil) // the dense decoder returns no error
}

// Decoder computes the next-token logits from the top layer's output h:
// the model's own decoder when nil, or an approximate one — a screened
// classifier (screen.Classifier) makes the whole elastic model, dual-module
// layers below a screened decoder.
type Decoder interface {
	Forward(logits, h []float32) ([]int32, error)
}

// StepWith is Step with the logits from dec (nil: the model's dense
// decoder); it returns dec's error.
func (d *LM) StepWith(st nn.State, token int32, logits []float32, exact bool, dec Decoder) error {
	cfg := d.m.Config()
	if token < 0 || int(token) >= cfg.Vocab {
		panic(fmt.Sprintf("dmi: LM.Step: token %d outside [0, %d)", token, cfg.Vocab))
	}
	e := cfg.Emb
	x := d.m.Encoder.Weight.Data[int(token)*e : (int(token)+1)*e]
	for l, layer := range d.layers {
		var c []float32
		if st.C != nil {
			c = st.C[l]
		}
		if exact {
			layer.Dense(st.H[l], c, x)
		} else {
			layer.Step(st.H[l], c, x)
		}
		x = st.H[l]
	}
	if dec != nil {
		_, err := dec.Forward(logits, x)
		return err
	}
	d.pool.Gemv(logits, d.m.Decoder.Weight.Data, cfg.Hidden, x, d.m.Decoder.Bias.Data)
	return nil
}

// Loss returns the mean cross-entropy (nats) of predicting each token of
// stream from those before it, streaming at batch 1 with the state carried
// from a zero start: lm.Perplexity of it is the perplexity. It resets the
// layers' insensitive-ratio counts first. It returns an error for a
// stream of fewer than two tokens or with a token outside the vocabulary,
// and one wrapping ErrNotFinite if the loss is not finite.
func (d *LM) Loss(stream []int32, exact bool) (float64, error) {
	cfg := d.m.Config()
	if len(stream) < 2 {
		return 0, fmt.Errorf("%w: %d tokens, need at least 2", ErrParam, len(stream))
	}
	for i, t := range stream {
		if t < 0 || int(t) >= cfg.Vocab {
			return 0, fmt.Errorf("%w: token %d at %d outside the vocabulary of %d", ErrParam, t, i, cfg.Vocab)
		}
	}
	for _, l := range d.layers {
		l.ResetCounts()
	}
	st := d.m.NewState(1)
	var total float64
	for i := 0; i+1 < len(stream); i++ {
		d.Step(st, stream[i], d.logits, exact)
		total += nn.CrossEntropy(nil, nil, d.logits, stream[i+1:i+2], cfg.Vocab)
	}
	loss := total / float64(len(stream)-1)
	if err := nn.CheckLoss(loss); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNotFinite, err)
	}
	return loss, nil
}

// Flush evicts the weights a step reads — the embedding, every layer's
// (Layer.Flush) and the dense decoder's — from all cache levels, for
// cold-cache measurements; it reports whether this build can flush.
func (d *LM) Flush() bool {
	enc, dec := d.m.Encoder.Weight, d.m.Decoder
	ok := kernels.Flush(enc.Data) && kernels.Flush(dec.Bias.Data)
	if dec.Weight != enc { // not tied
		ok = kernels.Flush(dec.Weight.Data) && ok
	}
	for _, l := range d.layers {
		ok = l.Flush() && ok
	}
	return ok
}

// InsensitiveRatio returns, per gate (GateNames order), the fraction of
// rows the little modules supplied, over all layers and the steps since
// the last Loss began.
func (d *LM) InsensitiveRatio() []float64 {
	var r []float64
	for _, l := range d.layers {
		lr := l.InsensitiveRatio()
		if r == nil {
			r = make([]float64, len(lr))
		}
		for g, v := range lr {
			r[g] += v / float64(len(d.layers))
		}
	}
	return r
}
