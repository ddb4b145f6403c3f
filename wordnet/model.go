package wordnet

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

// ErrConfig reports an invalid model or training configuration.
var ErrConfig = errors.New("invalid configuration")

// Config describes a model's architecture.
type Config struct {
	Vocab   int // input words
	Dim     int // embedding and hidden width
	Classes int // output classes
}

// Validate returns an error wrapping ErrConfig if a size is not positive.
func (c Config) Validate() error {
	if c.Vocab <= 0 || c.Dim <= 0 || c.Classes <= 0 {
		return fmt.Errorf("%w: vocab %d, dim %d and classes %d must be positive", ErrConfig, c.Vocab, c.Dim, c.Classes)
	}
	return nil
}

func (c Config) String() string {
	return fmt.Sprintf("bag %d→%d tanh→%d classes", c.Vocab, c.Dim, c.Classes)
}

// EmbeddingBag maps a bag of word ids to the mean of their rows of
// Weight (Num×Dim), as PyTorch's nn.EmbeddingBag in mode "mean": an empty
// bag gives the zero vector.
type EmbeddingBag struct {
	Num, Dim int
	Weight   *nn.Param

	start, words []int32 // bags of the last Forward
	touched      []int32 // rows whose gradient Backward set
	mark         []bool
}

// NewEmbeddingBag returns a num×dim table drawn uniformly from ±bound. It
// panics if a size is not positive.
func NewEmbeddingBag(name string, num, dim int, bound float64, rng *rand.Rand) *EmbeddingBag {
	e := &EmbeddingBag{Num: num, Dim: dim, Weight: nn.NewParam(name, num, dim), mark: make([]bool, num)}
	e.Weight.Uniform(rng, bound)
	return e
}

// Forward sets row i of dst (n×Dim, n = len(start)−1) to the mean
// embedding of words[start[i]:start[i+1]], keeping start and words for
// Backward. It panics if a word is outside [0, Num).
func (e *EmbeddingBag) Forward(dst []float32, start, words []int32) {
	n := len(start) - 1
	if len(dst) != n*e.Dim {
		panic(fmt.Sprintf("wordnet: EmbeddingBag.Forward: len(dst)=%d, want %d", len(dst), n*e.Dim))
	}
	clear(dst)
	for i := range n {
		row := dst[i*e.Dim : (i+1)*e.Dim]
		bag := words[start[i]:start[i+1]]
		for _, w := range bag {
			if w < 0 || int(w) >= e.Num {
				panic(fmt.Sprintf("wordnet: EmbeddingBag.Forward: word %d outside [0, %d)", w, e.Num))
			}
			kernels.Axpy(1, e.Weight.Data[int(w)*e.Dim:(int(w)+1)*e.Dim], row)
		}
		if len(bag) > 1 {
			inv := 1 / float32(len(bag))
			for k := range row {
				row[k] *= inv
			}
		}
	}
	e.start, e.words = start, words
}

// Backward adds the gradient for dy (n×Dim) of the last Forward to the
// rows of Weight.Grad that it read, and returns those rows (owned by e,
// valid until the next Backward). Only those rows change, so a sparse
// optimiser need visit no others.
func (e *EmbeddingBag) Backward(dy []float32) []int32 {
	n := len(e.start) - 1
	if len(dy) != n*e.Dim {
		panic(fmt.Sprintf("wordnet: EmbeddingBag.Backward: len(dy)=%d, want %d", len(dy), n*e.Dim))
	}
	for _, w := range e.touched {
		e.mark[w] = false
	}
	e.touched = e.touched[:0]
	for i := range n {
		bag := e.words[e.start[i]:e.start[i+1]]
		if len(bag) == 0 {
			continue
		}
		inv := 1 / float32(len(bag))
		g := dy[i*e.Dim : (i+1)*e.Dim]
		for _, w := range bag {
			if !e.mark[w] {
				e.mark[w] = true
				e.touched = append(e.touched, w)
			}
			kernels.Axpy(inv, g, e.Weight.Grad[int(w)*e.Dim:(int(w)+1)*e.Dim])
		}
	}
	return e.touched
}

// Model is the synset classifier: an embedding bag, a tanh hidden layer
// and a full-softmax output layer,
//
//	x = mean of E[w] over the bag,  h = tanh(W_h·x + b_h),  z = W·h + b.
//
// Its parameters are named encoder.weight (Vocab×Dim), hidden.weight
// (Dim×Dim), hidden.bias, decoder.weight (Classes×Dim) and decoder.bias.
// A Model is not safe for concurrent use.
type Model struct {
	cfg     Config
	Encoder *EmbeddingBag
	Hidden  *nn.Linear
	Decoder *nn.Param // Classes×Dim
	Bias    *nn.Param // Classes
	pool    *kernels.Pool

	x, h, dx []float32 // activations of the last Forward, input gradient
}

// New returns a model initialised from seed: the embedding uniform in
// ±0.1, the hidden layer as PyTorch's Linear, the decoder uniform in
// ±1/√Dim and a zero decoder bias.
func New(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7379_6e73_6574))
	m := &Model{cfg: cfg}
	m.Encoder = NewEmbeddingBag("encoder.weight", cfg.Vocab, cfg.Dim, 0.1, rng)
	m.Hidden = nn.NewLinear(cfg.Dim, cfg.Dim, rng)
	m.Hidden.Weight.Name, m.Hidden.Bias.Name = "hidden.weight", "hidden.bias"
	// The decoder's gradient is never dense (see Trainer), so it gets no
	// gradient buffer.
	m.Decoder = &nn.Param{Name: "decoder.weight", Shape: []int{cfg.Classes, cfg.Dim}, Data: make([]float32, cfg.Classes*cfg.Dim)}
	m.Decoder.Uniform(rng, 1/math.Sqrt(float64(cfg.Dim)))
	m.Bias = &nn.Param{Name: "decoder.bias", Shape: []int{cfg.Classes}, Data: make([]float32, cfg.Classes)}
	return m, nil
}

// Config returns the architecture.
func (m *Model) Config() Config { return m.cfg }

// Params lists the parameters in checkpoint order.
func (m *Model) Params() []*nn.Param {
	return []*nn.Param{m.Encoder.Weight, m.Hidden.Weight, m.Hidden.Bias, m.Decoder, m.Bias}
}

// SetPool makes the model run its matrix products on p (nil: the caller).
func (m *Model) SetPool(p *kernels.Pool) {
	m.pool = p
	m.Hidden.Pool = p
}

// Forward returns the hidden vectors h (n×Dim, owned by m until the next
// Forward) of the bags words[start[i]:start[i+1]], n = len(start)−1.
func (m *Model) Forward(start, words []int32) []float32 {
	n, d := len(start)-1, m.cfg.Dim
	m.x = grow(m.x, n*d)
	m.h = grow(m.h, n*d)
	m.Encoder.Forward(m.x, start, words)
	m.Hidden.Forward(m.h, m.x, n)
	for i, v := range m.h {
		m.h[i] = float32(math.Tanh(float64(v)))
	}
	return m.h
}

// Backward takes the gradient dh of the last Forward's output, which it
// overwrites, accumulates the gradients of the encoder (returning the
// rows it touched) and of the hidden layer.
func (m *Model) Backward(dh []float32) []int32 {
	for i, h := range m.h {
		dh[i] *= 1 - h*h
	}
	m.dx = grow(m.dx, len(dh))
	m.Hidden.Backward(m.dx, dh)
	return m.Encoder.Backward(m.dx)
}

// Logits sets z (n×Classes) to the full classifier's logits W·h + b for
// the n rows of h.
func (m *Model) Logits(z, h []float32, n int) {
	c, d := m.cfg.Classes, m.cfg.Dim
	if len(z) != n*c || len(h) != n*d {
		panic(fmt.Sprintf("wordnet: Logits: len(z)=%d, len(h)=%d, want %d×%d and %d×%d", len(z), len(h), n, c, n, d))
	}
	m.pool.Gemm(false, true, n, c, d, 1, h, d, m.Decoder.Data, d, 0, z, c)
	for r := range n {
		kernels.Axpy(1, m.Bias.Data, z[r*c:(r+1)*c])
	}
}

// evalBatch is the number of samples whose full logits are held at once:
// 64×117,659 floats is 30 MB.
const evalBatch = 64

// HiddenVectors returns the hidden vectors h that feed the classifier for
// every sample of s, row-major n×d.
func (m *Model) HiddenVectors(s *Split) (h []float32, n, d int) {
	n, d = s.Len(), m.cfg.Dim
	h = make([]float32, n*d)
	for lo := 0; lo < n; lo += evalBatch {
		hi := min(n, lo+evalBatch)
		copy(h[lo*d:hi*d], m.Forward(batchOf(s, lo, hi)))
	}
	return h, n, d
}

// batchOf returns the bags of samples [lo, hi) of s, with start rebased
// to 0.
func batchOf(s *Split, lo, hi int) (start, words []int32) {
	base := s.Start[lo]
	start = make([]int32, hi-lo+1)
	for i := range start {
		start[i] = s.Start[lo+i] - base
	}
	return start, s.Words[base:s.Start[hi]]
}

// Metrics is the full classifier's quality on a split.
type Metrics struct {
	Samples int     `json:"samples"`
	Top1    float64 `json:"top1"` // fraction of samples whose class has the largest logit
	Top5    float64 `json:"top5"` // ... is among the five largest
	Loss    float64 `json:"loss"` // mean cross-entropy of the full softmax, nats
}

// Evaluate computes the full 117,659-way logits of every sample of s and
// reports top-1 and top-5 accuracy and the mean cross-entropy. A label
// outside the classes or a NaN logit gives an error.
func (m *Model) Evaluate(s *Split) (Metrics, error) {
	c := m.cfg.Classes
	if err := checkSplit(s, m.cfg); err != nil {
		return Metrics{}, err
	}
	met := Metrics{Samples: s.Len()}
	if s.Len() == 0 {
		return met, nil
	}
	z := make([]float32, evalBatch*c)
	idx := make([]int32, c)
	var top1, top5 int
	var loss float64
	for lo := 0; lo < s.Len(); lo += evalBatch {
		hi := min(s.Len(), lo+evalBatch)
		n := hi - lo
		h := m.Forward(batchOf(s, lo, hi))
		m.Logits(z[:n*c], h, n)
		for r := range n {
			row := z[r*c : (r+1)*c]
			t := s.Labels[lo+r]
			if math.IsNaN(float64(row[t])) {
				return Metrics{}, fmt.Errorf("wordnet: %s sample %d: NaN logit", s.Name, lo+r)
			}
			sel, _ := kernels.TopK(idx, row, 5, false)
			slices.SortFunc(sel, func(a, b int32) int { return cmpDesc(row[a], row[b], a, b) })
			if sel[0] == t {
				top1++
			}
			if slices.Contains(sel, t) {
				top5++
			}
		}
		l := nn.CrossEntropy(m.pool, nil, z[:n*c], s.Labels[lo:hi], c)
		if math.IsNaN(l) { // bad logits: stop at the first batch
			return Metrics{}, fmt.Errorf("wordnet: %s samples %d–%d: %w", s.Name, lo, hi-1, nn.CheckLoss(l))
		}
		loss += l * float64(n)
	}
	met.Top1 = float64(top1) / float64(s.Len())
	met.Top5 = float64(top5) / float64(s.Len())
	met.Loss = loss / float64(s.Len())
	if err := nn.CheckLoss(met.Loss); err != nil {
		return Metrics{}, fmt.Errorf("wordnet: %s: %w", s.Name, err)
	}
	return met, nil
}

// cmpDesc orders by decreasing value, then increasing index, so ties
// resolve the same way everywhere.
func cmpDesc(va, vb float32, a, b int32) int {
	switch {
	case va > vb:
		return -1
	case va < vb:
		return 1
	}
	return int(a - b)
}

// grow returns buf resliced to n elements, reallocating only when its
// capacity is short. The contents are unspecified.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
