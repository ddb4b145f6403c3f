package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
)

//go:embed assets/model.safetensors assets/little.safetensors assets/vocab.txt assets/sample.txt
var assets embed.FS

// The asset names, relative to the package directory.
const (
	ModelFile  = "assets/model.safetensors"
	LittleFile = "assets/little.safetensors"
	VocabFile  = "assets/vocab.txt"
	SampleFile = "assets/sample.txt"
)

// vocabKey is the model metadata key under which `elastic lm train`
// records a fingerprint of the vocabulary.
const vocabKey = "corpus_vocab"

// DefaultTokens is the sample length Run streams when Config.Tokens is
// zero: enough for perplexities to settle to a few percent, and ten
// ratios finish in seconds.
const DefaultTokens = 1000

// ErrAssets reports embedded files that are malformed or do not belong
// together (a sample word missing from the vocabulary, a vocabulary the
// model was not trained on).
var ErrAssets = errors.New("demo: bad embedded assets")

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("demo: invalid configuration")

// Assets are the embedded model, little modules, vocabulary and sample,
// parsed and checked against each other.
type Assets struct {
	Model  *lm.Model
	State  lm.TrainState // training metadata of the checkpoint
	Little *dmi.Set
	Words  []string // the vocabulary in id order
	Sample []int32  // the held-out tokens
	// ModelBytes and LittleBytes are the sizes of the embedded files.
	ModelBytes, LittleBytes int
}

// Load parses the embedded assets. Each call returns fresh copies, so the
// caller may use them freely. It returns an error wrapping ErrAssets if
// the files disagree, and the loaders' errors (lm.ErrMismatch,
// dmi.ErrFormat, ...) for malformed files.
func Load() (*Assets, error) {
	a := &Assets{}
	f, n, err := readSafetensors(ModelFile)
	if err != nil {
		return nil, err
	}
	a.ModelBytes = n
	if a.Model, a.State, err = lm.FromFile(f); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", ModelFile, err)
	}
	if f, a.LittleBytes, err = readSafetensors(LittleFile); err != nil {
		return nil, err
	}
	if a.Little, err = dmi.FromFileFor(f, a.Model); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", LittleFile, err)
	}
	vocab, err := assets.ReadFile(VocabFile)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	a.Words = strings.Split(strings.TrimSuffix(string(vocab), "\n"), "\n")
	if err := a.checkVocab(); err != nil {
		return nil, err
	}
	text, err := assets.ReadFile(SampleFile)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if a.Sample, err = encode(string(text), a.Words); err != nil {
		return nil, err
	}
	if len(a.Sample) < 2 {
		return nil, fmt.Errorf("%w: %s holds %d tokens", ErrAssets, SampleFile, len(a.Sample))
	}
	return a, nil
}

func readSafetensors(name string) (*safetensors.File, int, error) {
	b, err := assets.ReadFile(name)
	if err != nil {
		return nil, 0, fmt.Errorf("demo: %w", err)
	}
	f, err := safetensors.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, 0, fmt.Errorf("demo: %s: %w", name, err)
	}
	return f, len(b), nil
}

// checkVocab compares the vocabulary with the model's size and, when the
// checkpoint records one, its fingerprint (the hash `elastic lm train`
// stores).
func (a *Assets) checkVocab() error {
	if got, want := len(a.Words), a.Model.Config().Vocab; got != want {
		return fmt.Errorf("%w: %s lists %d words, the model has %d", ErrAssets, VocabFile, got, want)
	}
	fp, ok := a.State.Extra[vocabKey]
	if !ok {
		return nil
	}
	sum := sha256.Sum256([]byte(strings.Join(a.Words, "\n")))
	if got := hex.EncodeToString(sum[:8]); got != fp {
		return fmt.Errorf("%w: %s has fingerprint %s, the model was trained on %s", ErrAssets, VocabFile, got, fp)
	}
	return nil
}

// encode reads text in the layout of corpus.Corpus.Sample: words
// separated by white space, the end-of-sentence id 0 after every line
// that ends in a newline. Every word must be in the vocabulary: the sample
// was written from token ids, so a missing one means a corrupt asset.
func encode(text string, words []string) ([]int32, error) {
	ids := make(map[string]int32, len(words))
	for i, w := range words {
		ids[w] = int32(i)
	}
	eos, ok := ids["<eos>"]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no <eos>", ErrAssets, VocabFile)
	}
	var out []int32
	for line := range strings.Lines(text) {
		for _, w := range strings.Fields(line) {
			id, ok := ids[w]
			if !ok {
				return nil, fmt.Errorf("%w: %s: word %q is not in %s", ErrAssets, SampleFile, w, VocabFile)
			}
			out = append(out, id)
		}
		if strings.HasSuffix(line, "\n") {
			out = append(out, eos)
		}
	}
	return out, nil
}

// Ratios returns the insensitive ratios Run sweeps by default: 0, 0.1, …,
// 0.9.
func Ratios() []float64 {
	r := make([]float64, 10)
	for i := range r {
		r[i] = float64(i) / 10
	}
	return r
}

// Config configures Run. The zero value streams DefaultTokens tokens over
// Ratios on GOMAXPROCS threads.
type Config struct {
	// Tokens is how many sample tokens to stream (Tokens−1 predictions);
	// 0 means DefaultTokens; more than the sample holds is an error.
	Tokens int
	// Threads is the number of pool workers; 0 means GOMAXPROCS.
	Threads int
	// Ratios are the top-K insensitive ratios, each in [0, 1); nil means
	// Ratios().
	Ratios []float64
	// Progress, if not nil, receives a line as each ratio starts.
	Progress io.Writer
}

// Row is the result at one insensitive ratio. Times are medians of one
// whole step (embedding, recurrent layers, decoder) in milliseconds: DMIMs
// over every token of the sample, DenseMs over dense steps timed in the
// same pass, one every few tokens.
type Row struct {
	Ratio    float64 `json:"ratio"`
	DensePPL float64 `json:"dense_ppl"`
	DMIPPL   float64 `json:"dmi_ppl"`
	DeltaPPL float64 `json:"delta_ppl"`
	DenseMs  float64 `json:"dense_ms_per_token"`
	DMIMs    float64 `json:"dmi_ms_per_token"`
	Speedup  float64 `json:"speedup"` // DenseMs / DMIMs
	// Insensitive is the measured fraction of gate rows the little
	// modules supplied, over all layers and gates; ByGate splits it by
	// gate (dmi.GateNames).
	Insensitive float64            `json:"insensitive_ratio"`
	ByGate      map[string]float64 `json:"insensitive_by_gate"`
}

// ModelInfo describes the embedded model and little modules.
type ModelInfo struct {
	Arch   string `json:"arch"` // lm.Config.String
	Cell   string `json:"cell"`
	Hidden int    `json:"hidden"`
	Layers int    `json:"layers"`
	Vocab  int    `json:"vocab"`
	Tied   bool   `json:"tied"`
	// Epoch and Window are the training position the checkpoint records:
	// for the best-validation weights the demo ships, the last epoch
	// completed and its window count.
	Epoch  int `json:"epoch"`
	Window int `json:"window"`
	// ValPPL is the checkpoint's best validation perplexity, 0 if it
	// records none.
	ValPPL      float64 `json:"val_ppl,omitempty"`
	ModelBytes  int     `json:"model_bytes"`
	Bits        int     `json:"little_bits"`
	Precision   string  `json:"little_precision"` // "INT8", "FP32", ...
	Eps         float64 `json:"little_eps"`
	KX          []int   `json:"little_kx"` // projected input width per layer
	KH          []int   `json:"little_kh"` // projected state width per layer
	LittleBytes int     `json:"little_bytes"`
	// RecurrentShare is the recurrent layers' share of the weights one
	// step reads; the rest, embedding row and decoder, is never skipped.
	RecurrentShare float64 `json:"recurrent_share"`
}

// Result is the outcome of Run.
type Result struct {
	Model   ModelInfo `json:"model"`
	Tokens  int       `json:"tokens"`
	Threads int       `json:"threads"`
	Rows    []Row     `json:"rows"`
}

// Describe returns the ModelInfo of a.
func (a *Assets) Describe() ModelInfo {
	c := a.Model.Config()
	info := ModelInfo{
		Arch: c.String(), Cell: c.Cell.String(), Hidden: c.Hidden, Layers: c.Layers, Vocab: c.Vocab, Tied: c.Tied,
		Epoch: a.State.Epoch, Window: a.State.Batch, ModelBytes: a.ModelBytes,
		Bits: int(a.Little.Bits), Eps: a.Little.Eps, LittleBytes: a.LittleBytes,
	}
	info.Precision = a.Little.Bits.String()
	if a.Little.Bits == dmi.FP32 {
		info.Precision = "FP32"
	}
	if v := a.State.BestVal; v > 0 && !math.IsInf(v, 0) {
		info.ValPPL = lm.Perplexity(v)
	}
	for _, l := range a.Little.Layers {
		info.KX = append(info.KX, l.X.K)
		info.KH = append(info.KH, l.H.K)
	}
	var rec int
	for _, w := range a.Model.Layers() {
		rec += len(w.WIH) + len(w.WHH) + len(w.BIH) + len(w.BHH)
	}
	other := c.Emb + c.Hidden*c.Vocab + c.Vocab // one embedding row, the decoder
	info.RecurrentShare = float64(rec) / float64(rec+other)
	return info
}

func (c Config) withDefaults() Config {
	if c.Tokens == 0 {
		c.Tokens = DefaultTokens
	}
	if c.Ratios == nil {
		c.Ratios = Ratios()
	}
	return c
}

func (c Config) check() error {
	switch {
	case c.Tokens < 2:
		return fmt.Errorf("%w: %d tokens, need at least 2", ErrConfig, c.Tokens)
	case c.Threads < 0:
		return fmt.Errorf("%w: %d threads", ErrConfig, c.Threads)
	case len(c.Ratios) == 0:
		return fmt.Errorf("%w: no ratios", ErrConfig)
	}
	for _, r := range c.Ratios {
		if !(r >= 0 && r < 1) {
			return fmt.Errorf("%w: ratio %v outside [0, 1)", ErrConfig, r)
		}
	}
	return nil
}

// Run loads the embedded assets and measures perplexity and per-token
// time, dense and dual-module, at each insensitive ratio of cfg. It
// returns an error wrapping ErrConfig for a bad cfg.
func Run(cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	a, err := Load()
	if err != nil {
		return nil, err
	}
	return a.Run(cfg)
}

// Run is the package-level Run on a's model and sample.
func (a *Assets) Run(cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Tokens > len(a.Sample) {
		return nil, fmt.Errorf("%w: %d tokens asked, the sample holds %d", ErrConfig, cfg.Tokens, len(a.Sample))
	}
	pool := kernels.NewPool(cfg.Threads)
	defer pool.Close()
	d, err := dmi.NewLM(a.Model, a.Little, pool)
	if err != nil {
		return nil, fmt.Errorf("%w: %s and %s: %w", ErrAssets, LittleFile, ModelFile, err)
	}
	stream := a.Sample[:cfg.Tokens]
	res := &Result{Model: a.Describe(), Tokens: len(stream), Threads: pool.Workers()}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "dense: %d tokens…\n", len(stream))
	}
	dense, err := a.measure(d, stream, true)
	if err != nil {
		return nil, fmt.Errorf("demo: dense: %w", err)
	}
	names := dmi.GateNames(a.Little.Cell)
	for _, r := range cfg.Ratios {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "insensitive ratio %.2f: %d tokens…\n", r, len(stream))
		}
		if err := d.SetRatio(r); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		m, err := a.measure(d, stream, false)
		if err != nil {
			return nil, fmt.Errorf("demo: ratio %v: %w", r, err)
		}
		row := Row{
			Ratio: r, DensePPL: lm.Perplexity(dense.loss), DMIPPL: lm.Perplexity(m.loss),
			DenseMs: m.denseMs, DMIMs: m.ms, Speedup: m.denseMs / m.ms,
			ByGate: make(map[string]float64, len(names)),
		}
		row.DeltaPPL = row.DMIPPL - row.DensePPL
		ins := d.InsensitiveRatio()
		for g, v := range ins {
			row.ByGate[names[g]] = v
			row.Insensitive += v / float64(len(ins))
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// denseEvery is how often, in tokens, a dual-module pass also times a
// dense step: often enough for a steady median, rarely enough to keep the
// run short.
const denseEvery = 4

type measurement struct {
	loss    float64 // mean cross-entropy, nats
	ms      float64 // median step time
	denseMs float64 // dual-module pass: median of the dense steps timed alongside
}

// measure streams the tokens through d at batch 1 from a zero state,
// dense or dual-module, timing every step. A dual-module pass also times
// a dense step on a copy of the state every denseEvery tokens, alternating
// which of the two goes first, so the speedup compares steps taken in
// the same conditions (a dense step's time does not depend on the state's
// values). It resets d's insensitive-ratio counts, which the dense steps
// leave alone.
func (a *Assets) measure(d *dmi.LM, stream []int32, exact bool) (measurement, error) {
	vocab := a.Model.Config().Vocab
	for _, l := range d.Layers() {
		l.ResetCounts()
	}
	st, scratch := a.Model.NewState(1), a.Model.NewState(1)
	logits := make([]float32, vocab)
	n := len(stream) - 1
	times := make([]float64, n)
	var denseTimes []float64
	timed := func(st nn.State, tok int32, exact bool) float64 {
		t0 := time.Now()
		d.Step(st, tok, logits, exact)
		return float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	denseAside := func(tok int32) {
		for l := range st.H {
			copy(scratch.H[l], st.H[l])
			if st.C != nil {
				copy(scratch.C[l], st.C[l])
			}
		}
		denseTimes = append(denseTimes, timed(scratch, tok, true))
	}
	var m measurement
	for i := range n {
		aside := !exact && i%denseEvery == 0
		if aside && i%(2*denseEvery) == 0 {
			denseAside(stream[i])
		}
		times[i] = timed(st, stream[i], exact)
		// logits are st's: the step aside, if any, came first or comes next.
		m.loss += nn.CrossEntropy(nil, nil, logits, stream[i+1:i+2], vocab)
		if aside && i%(2*denseEvery) != 0 {
			denseAside(stream[i])
		}
	}
	m.loss /= float64(n)
	if err := nn.CheckLoss(m.loss); err != nil {
		return m, fmt.Errorf("%w: %w", dmi.ErrNotFinite, err)
	}
	m.ms = median(times)
	if len(denseTimes) > 0 {
		m.denseMs = median(denseTimes)
	}
	return m, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Trained returns a short description of the checkpoint's training
// state, e.g. "epoch 40, validation perplexity 95.12".
func (m ModelInfo) Trained() string {
	s := "epoch " + strconv.Itoa(m.Epoch)
	if m.ValPPL > 0 {
		s += fmt.Sprintf(", validation perplexity %.2f", m.ValPPL)
	} else {
		s += " (no completed validation)"
	}
	return s
}
