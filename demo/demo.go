package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/elasticml/elastic/budget"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/spec"
)

//go:embed assets/model.safetensors assets/little.safetensors assets/screener.safetensors assets/vocab.txt assets/sample.txt
var assets embed.FS

// The asset names, relative to the package directory.
const (
	ModelFile  = "assets/model.safetensors"
	LittleFile = "assets/little.safetensors"
	// ScreenerFile is the INT4 screener of the tied decoder (screen fit
	// --lm --bits 4 --k-ratio 0.5 --no-bound).
	ScreenerFile = "assets/screener.safetensors"
	VocabFile    = "assets/vocab.txt"
	SampleFile   = "assets/sample.txt"
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

// Assets are the embedded model, little modules, screener, vocabulary and
// sample, parsed and checked against each other.
type Assets struct {
	Model  *lm.Model
	State  lm.TrainState // training metadata of the checkpoint
	Little *dmi.Set
	// Decoder is the model's decoder as a classifier, and Screener the
	// screener fitted to it.
	Decoder  *spec.Linear
	Screener *screen.Screener
	Words    []string // the vocabulary in id order
	Sample   []int32  // the held-out tokens
	// ModelBytes, LittleBytes and ScreenerBytes are the sizes of the
	// embedded files.
	ModelBytes, LittleBytes, ScreenerBytes int
}

// Load parses the embedded assets. Each call returns fresh copies, so the
// caller may use them freely. It returns an error wrapping ErrAssets if
// the files disagree, and the loaders' errors (lm.ErrMismatch,
// dmi.ErrFormat, ...) for malformed files.
func Load() (*Assets, error) {
	a := &Assets{}
	if err := a.loadText(); err != nil {
		return nil, err
	}
	if err := a.loadModels(); err != nil {
		return nil, err
	}
	return a, nil
}

// loadText reads the vocabulary and the sample, which need no model: a
// token count beyond the sample is refused before the model is parsed.
func (a *Assets) loadText() error {
	vocab, err := assets.ReadFile(VocabFile)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	a.Words = strings.Split(strings.TrimSuffix(string(vocab), "\n"), "\n")
	text, err := assets.ReadFile(SampleFile)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if a.Sample, err = encode(string(text), a.Words); err != nil {
		return err
	}
	if len(a.Sample) < 2 {
		return fmt.Errorf("%w: %s holds %d tokens", ErrAssets, SampleFile, len(a.Sample))
	}
	return nil
}

// loadModels parses the model and the little modules and checks the
// vocabulary against the model.
func (a *Assets) loadModels() error {
	f, n, err := readSafetensors(ModelFile)
	if err != nil {
		return err
	}
	a.ModelBytes = n
	if a.Model, a.State, err = lm.FromFile(f); err != nil {
		return fmt.Errorf("demo: %s: %w", ModelFile, err)
	}
	if f, a.LittleBytes, err = readSafetensors(LittleFile); err != nil {
		return err
	}
	if a.Little, err = dmi.FromFileFor(f, a.Model); err != nil {
		return fmt.Errorf("demo: %s: %w", LittleFile, err)
	}
	dec := a.Model.Decoder
	a.Decoder = spec.NewLinear(dec.Weight.Data, dec.Bias.Data, dec.Out, dec.In)
	if f, a.ScreenerBytes, err = readSafetensors(ScreenerFile); err != nil {
		return err
	}
	if a.Screener, err = screen.FromFileFor(f, a.Decoder); err != nil {
		return fmt.Errorf("demo: %s: %w", ScreenerFile, err)
	}
	return a.checkVocab()
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
	ids, eos, err := vocabIDs(words, "<eos>")
	if err != nil {
		return nil, err
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

// vocabIDs maps each word of the vocabulary to its id and returns the id
// of the special token the caller needs, an error wrapping ErrAssets if
// the vocabulary lacks it.
func vocabIDs(words []string, special string) (map[string]int32, int32, error) {
	ids := make(map[string]int32, len(words))
	for i, w := range words {
		ids[w] = int32(i)
	}
	id, ok := ids[special]
	if !ok {
		return nil, 0, fmt.Errorf("%w: %s has no %s", ErrAssets, VocabFile, special)
	}
	return ids, id, nil
}

// Ratios returns the insensitive ratios Run sweeps by default: 0, 0.3,
// 0.5, 0.7 and 0.9 — few enough that the first `go run` of the demo,
// compilation included, stays within a minute on two cores.
func Ratios() []float64 { return []float64{0, 0.3, 0.5, 0.7, 0.9} }

// DefaultM is the candidates per token the screened decoder computes
// exactly when Config.M is zero: of the 8323 classes, enough that the
// mixed logits hold perplexity within half a point (docs/results/demo.md).
const DefaultM = 256

// DefaultColdTokens is how many tokens of each pass are timed cold when
// Config.ColdTokens is zero.
const DefaultColdTokens = 40

// Config configures Run. The zero value streams DefaultTokens tokens over
// Ratios on GOMAXPROCS threads with DefaultM candidates.
type Config struct {
	// Tokens is how many sample tokens to stream (Tokens−1 predictions);
	// 0 means DefaultTokens; more than the sample holds is an error.
	Tokens int
	// Threads is the number of pool workers; 0 means GOMAXPROCS.
	Threads int
	// Ratios are the top-K insensitive ratios, each in [0, 1); nil means
	// Ratios().
	Ratios []float64
	// M is the screened decoder's candidates per token, in [1, vocab];
	// 0 means DefaultM.
	M int
	// ColdTokens is how many tokens of each pass are timed cold, with the
	// caches evicted before every one of the four steps; 0 means
	// DefaultColdTokens, and it is capped at the tokens streamed.
	ColdTokens int
	// Evict is how the caches are emptied before a cold step: EvictFlush
	// or EvictRead; "" means EvictFlush where this build can flush
	// (kernels.CanFlush), else EvictRead.
	Evict string
	// LLC is the last-level cache size in bytes EvictRead covers twice;
	// 0 means the size sysfs reports (bench.LastLevelCache).
	LLC int
	// Progress, if not nil, receives a line as each ratio starts.
	Progress io.Writer
}

// Row is one model at one insensitive ratio, measured in one pass that
// streams the sample through all four models round-robin (each with its
// own state), so every time is paired with a dense step taken in the same
// conditions. Times are medians of one whole step (embedding, recurrent
// layers, decoder) in milliseconds: warm over the tokens whose weights
// were left in cache by the steps before, cold over ColdTokens tokens
// spread through the pass before each of whose steps the caches were
// evicted, as a model larger than the cache is served.
type Row struct {
	Ratio    float64 `json:"ratio"`
	M        int     `json:"m"` // screened decoder's candidates; 0: dense decoder
	DensePPL float64 `json:"ppl_dense"`
	PPL      float64 `json:"ppl"`
	DeltaPPL float64 `json:"dppl"`
	// Top1 is the share of tokens whose most likely next word is the
	// dense model's (with the states apart, each model carrying its own).
	Top1        float64 `json:"top1_agreement"`
	WarmDenseMs float64 `json:"warm_ms_dense"`
	WarmMs      float64 `json:"warm_ms"`
	WarmSpeedup float64 `json:"warm_speedup"` // WarmDenseMs / WarmMs
	ColdDenseMs float64 `json:"cold_ms_dense"`
	ColdMs      float64 `json:"cold_ms"`
	ColdSpeedup float64 `json:"cold_speedup"` // ColdDenseMs / ColdMs
	// Insensitive is the measured fraction of gate rows the little
	// modules supplied, over all layers and gates (0 for a model with
	// exact layers); ByGate splits it by gate (dmi.GateNames).
	Insensitive float64            `json:"insensitive_ratio"`
	ByGate      map[string]float64 `json:"insensitive_by_gate,omitempty"`
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
	// Epochs is the training the weights have had, in epochs (lm export
	// records it as epochs_done), 0 if unrecorded.
	Epochs float64 `json:"epochs,omitempty"`
	// ValPPL is the validation perplexity of the shipped weights as lm
	// export measured it (export_valid_loss), or else the checkpoint's
	// best validation perplexity of its training run; 0 if neither is
	// recorded.
	ValPPL      float64 `json:"val_ppl,omitempty"`
	ModelBytes  int     `json:"model_bytes"`
	Bits        int     `json:"little_bits"`
	Precision   string  `json:"little_precision"` // "INT8", "FP32", ...
	Eps         float64 `json:"little_eps"`
	KX          []int   `json:"little_kx"` // projected input width per layer
	KH          []int   `json:"little_kh"` // projected state width per layer
	LittleBytes int     `json:"little_bytes"`
	// ScreenerK and ScreenerBits describe the decoder's screener;
	// ScreenerBytes is its file's size.
	ScreenerK     int    `json:"screener_k"`
	ScreenerBits  string `json:"screener_bits"`
	ScreenerBytes int    `json:"screener_bytes"`
	// RecurrentShare is the recurrent layers' share of the weights one
	// step reads; the rest, embedding row and decoder, is never skipped.
	RecurrentShare float64 `json:"recurrent_share"`
}

// Result is the outcome of Run: the whole elastic model (dual-module
// layers and screened decoder) per ratio in Rows, and each part alone in
// Parts.
type Result struct {
	Model      ModelInfo `json:"model"`
	Impl       string    `json:"impl"` // the kernels chosen (kernels.Impl)
	Tokens     int       `json:"tokens"`
	Threads    int       `json:"threads"`
	M          int       `json:"m"`
	ColdTokens int       `json:"cold_tokens"` // timed cold per pass
	Evict      string    `json:"evict"`       // EvictFlush or EvictRead
	EvictBytes int       `json:"evict_bytes"` // read before each cold step (EvictRead)
	Copies     int       `json:"copies"`      // weight copies cold steps rotate through (EvictCopies)
	Rows       []Row     `json:"rows"`
	Parts      Parts     `json:"parts"`
}

// Parts are the rows of the elastic model's two parts alone: dual-module
// layers with the dense decoder, and dense layers with the screened
// decoder (the same at every ratio but for timing noise; it is timed in
// every pass for pairing).
type Parts struct {
	DMI      []Row `json:"dmi"`
	Screened []Row `json:"screened"`
}

// Describe returns the ModelInfo of a.
func (a *Assets) Describe() ModelInfo {
	c := a.Model.Config()
	info := ModelInfo{
		Arch: c.String(), Cell: c.Cell.String(), Hidden: c.Hidden, Layers: c.Layers, Vocab: c.Vocab, Tied: c.Tied,
		Epoch: a.State.Epoch, Window: a.State.Batch, ModelBytes: a.ModelBytes,
		Bits: int(a.Little.Bits), Eps: a.Little.Eps, LittleBytes: a.LittleBytes,
	}
	info.ScreenerK, info.ScreenerBits, info.ScreenerBytes = a.Screener.K, a.Screener.Bits.String(), a.ScreenerBytes
	info.Precision = a.Little.Bits.String()
	if a.Little.Bits == dmi.FP32 {
		info.Precision = "FP32"
	}
	if v := a.State.BestVal; v > 0 && !math.IsInf(v, 0) {
		info.ValPPL = lm.Perplexity(v)
	}
	if v, err := strconv.ParseFloat(a.State.Extra["export_valid_loss"], 64); err == nil && v > 0 && !math.IsInf(v, 0) {
		info.ValPPL = lm.Perplexity(v)
	}
	if v, err := strconv.ParseFloat(a.State.Extra["epochs_done"], 64); err == nil && v > 0 && !math.IsInf(v, 0) {
		info.Epochs = v
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

// The ways a cold step's caches are emptied (Config.Evict).
const (
	// EvictFlush flushes every weight the four models read from all
	// cache levels (kernels.Flush: CLFLUSHOPT, or CLFLUSH) on the pool's
	// workers: exactly the model's lines leave the caches, at the cost of
	// a few milliseconds whatever the cache size.
	EvictFlush = "flush"
	// EvictRead reads a buffer twice the last-level cache on every
	// worker, which also evicts the TLBs, but on a machine with hundreds
	// of MiB of L3 takes some 50 ms per step and most of the demo's time.
	EvictRead = "read"
	// EvictCopies runs each cold step on the next of enough private
	// copies of the weights (loaded afresh) that the steps between two
	// uses of a copy stream at least twice the last-level cache: a model
	// larger than the cache, literally, with nothing flushed or read
	// besides. It costs memory (64 copies, 2.4 GB, for a 480 MiB L3) and
	// the time to load them, and is the check on the other two.
	EvictCopies = "copies"
)

// copiesFor returns how many weight copies EvictCopies needs for a
// last-level cache of llc bytes: a cold token runs the four models on four
// copies and streams at least twice the float32 dense model (the dense
// step's weights, and the dense halves of the two one-part models), so a
// copy comes back after n/4 cold tokens, between which at least
// (n/4 − 1)·2·dense bytes were read; n/4 − 1 ≥ 2·llc / (2·dense).
func copiesFor(llc, denseBytes int) int {
	return 4 * ((llc+denseBytes-1)/denseBytes + 1)
}

func (c Config) withDefaults() Config {
	if c.Evict == "" {
		c.Evict = EvictRead
		if kernels.CanFlush() {
			c.Evict = EvictFlush
		}
	}
	if c.Tokens == 0 {
		c.Tokens = DefaultTokens
	}
	if c.Ratios == nil {
		c.Ratios = Ratios()
	}
	if c.M == 0 {
		c.M = DefaultM
	}
	if c.ColdTokens == 0 {
		c.ColdTokens = DefaultColdTokens
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
	case c.M < 1:
		return fmt.Errorf("%w: %d candidates, need at least 1", ErrConfig, c.M)
	case c.ColdTokens < 1:
		return fmt.Errorf("%w: %d cold tokens, need at least 1", ErrConfig, c.ColdTokens)
	case c.LLC < 0:
		return fmt.Errorf("%w: last-level cache of %d bytes", ErrConfig, c.LLC)
	case c.Evict != EvictFlush && c.Evict != EvictRead && c.Evict != EvictCopies:
		return fmt.Errorf("%w: eviction %q, want %q, %q or %q", ErrConfig, c.Evict, EvictFlush, EvictRead, EvictCopies)
	case c.Evict == EvictFlush && !kernels.CanFlush():
		return fmt.Errorf("%w: this build cannot flush cache lines (purego or not amd64); use eviction %q", ErrConfig, EvictRead)
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
	// The sample first: a count beyond it is refused before the model
	// is parsed.
	a := &Assets{}
	if err := a.loadText(); err != nil {
		return nil, err
	}
	if err := a.checkTokens(cfg); err != nil {
		return nil, err
	}
	if err := a.loadModels(); err != nil {
		return nil, err
	}
	return a.Run(cfg)
}

// checkTokens refuses a token count beyond the sample.
func (a *Assets) checkTokens(cfg Config) error {
	if cfg.Tokens > len(a.Sample) {
		return fmt.Errorf("%w: %d tokens asked, the sample holds %d", ErrConfig, cfg.Tokens, len(a.Sample))
	}
	return nil
}

// checkM refuses more candidates than classes.
func (a *Assets) checkM(cfg Config) error {
	if v := a.Model.Config().Vocab; cfg.M > v {
		return fmt.Errorf("%w: %d candidates asked, the decoder has %d classes", ErrConfig, cfg.M, v)
	}
	return nil
}

// Run is the package-level Run on a's model and sample.
func (a *Assets) Run(cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := a.checkTokens(cfg); err != nil {
		return nil, err
	}
	if err := a.checkM(cfg); err != nil {
		return nil, err
	}
	pool := kernels.NewPool(cfg.Threads)
	defer pool.Close()
	e, err := a.newElastic(pool, cfg.M)
	if err != nil {
		return nil, err
	}
	stream := a.Sample[:cfg.Tokens]
	llc := cfg.LLC
	if llc == 0 {
		llc = bench.LastLevelCache()
	}
	evictBytes := 2 * llc
	if cfg.Evict != EvictRead {
		evictBytes = 0
	}
	p := newPass(a, e, stream, pool, evictBytes)
	if cfg.Evict == EvictCopies {
		if p.copies, err = a.copies(cfg, pool, llc); err != nil {
			return nil, err
		}
	}
	p.coldEvery = max(1, (len(stream)-1)/cfg.ColdTokens)
	res := &Result{
		Model: a.Describe(), Impl: kernels.Impl(), Tokens: len(stream), Threads: pool.Workers(), M: cfg.M,
		ColdTokens: (len(stream) - 2 + p.coldEvery) / p.coldEvery, Evict: cfg.Evict, EvictBytes: 8 * len(p.evict),
		Copies: len(p.copies),
	}
	names := dmi.GateNames(a.Little.Cell)
	for _, r := range cfg.Ratios {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "insensitive ratio %.2f: %d tokens through four models…\n", r, len(stream))
		}
		for _, c := range append([]*elastic{e}, p.copies...) {
			if err := c.lm.SetRatio(r); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
		}
		m, err := p.run()
		if err != nil {
			return nil, fmt.Errorf("demo: ratio %v: %w", r, err)
		}
		ins := e.lm.InsensitiveRatio()
		row := func(k int, dmiOn, screened bool) Row {
			row := m.row(k)
			row.Ratio = r
			if screened {
				row.M = cfg.M
			}
			if dmiOn {
				row.ByGate = make(map[string]float64, len(names))
				for g, v := range ins {
					row.ByGate[names[g]] = v
					row.Insensitive += v / float64(len(ins))
				}
			}
			return row
		}
		res.Rows = append(res.Rows, row(both, true, true))
		res.Parts.DMI = append(res.Parts.DMI, row(dmiOnly, true, false))
		res.Parts.Screened = append(res.Parts.Screened, row(screenOnly, false, true))
	}
	return res, nil
}

// elastic is the embedded model's runtime: dual-module layers and a
// screened decoder on one pool.
type elastic struct {
	lm  *dmi.LM
	dec *screen.Classifier
}

func (a *Assets) newElastic(pool *kernels.Pool, m int) (*elastic, error) {
	d, err := dmi.NewLM(a.Model, a.Little, pool)
	if err != nil {
		return nil, fmt.Errorf("%w: %s and %s: %w", ErrAssets, LittleFile, ModelFile, err)
	}
	c, err := screen.NewClassifier(a.Decoder, a.Screener, pool)
	if err != nil {
		return nil, fmt.Errorf("%w: %s and %s: %w", ErrAssets, ScreenerFile, ModelFile, err)
	}
	if err := c.SetSelection(screen.Selection{Mode: screen.TopM, M: m}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &elastic{lm: d, dec: c}, nil
}

// The four models a pass streams, in the order the first token runs them.
const (
	dense = iota
	dmiOnly
	screenOnly
	both
	models
)

// step advances st by token in model k, writing the logits.
func (e *elastic) step(k int, st nn.State, token int32, logits []float32) error {
	var dec dmi.Decoder
	if k == screenOnly || k == both {
		dec = e.dec
	}
	return e.lm.StepWith(st, token, logits, k == dense || k == screenOnly, dec)
}

// pass streams the sample through the four models round-robin.
type pass struct {
	a         *Assets
	e         *elastic
	stream    []int32
	pool      *kernels.Pool
	evict     []uint64   // written once, read to evict; nil: flush instead
	copies    []*elastic // EvictCopies: cold steps take the next in turn
	next      int
	sums      []uint64 // one per eviction task, so the reads are not dead
	coldEvery int
}

// evictTasks is how many pieces the eviction read is split into.
const evictTasks = 64

// copies loads the private weight copies of EvictCopies (each from the
// embedded files, so no two share memory).
func (a *Assets) copies(cfg Config, pool *kernels.Pool, llc int) ([]*elastic, error) {
	n := copiesFor(llc, a.denseBytes())
	per := a.denseBytes() + 2*a.LittleBytes + 2*a.ScreenerBytes // the float32 model, and room for the runs' own forms
	if err := budget.Check(fmt.Sprintf("demo --evict copies: %d copies of the weights", n), budget.Mul(n, per)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "loading %d copies of the weights for the cold steps…\n", n)
	}
	cs := make([]*elastic, n)
	for i := range cs {
		b, err := Load()
		if err != nil {
			return nil, err
		}
		if cs[i], err = b.newElastic(pool, cfg.M); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// denseBytes is what a dense step reads: every float32 weight of the
// layers and the decoder.
func (a *Assets) denseBytes() int {
	n := 0
	for _, w := range a.Model.Layers() {
		n += 4 * (len(w.WIH) + len(w.WHH) + len(w.BIH) + len(w.BHH))
	}
	return n + 4*(len(a.Decoder.W)+len(a.Decoder.B))
}

// newPass returns a pass that evicts by reading evictBytes, or with 0 by
// flushing the weights.
func newPass(a *Assets, e *elastic, stream []int32, pool *kernels.Pool, evictBytes int) *pass {
	p := &pass{a: a, e: e, stream: stream, pool: pool, sums: make([]uint64, evictTasks)}
	if evictBytes == 0 {
		return p
	}
	p.evict = make([]uint64, evictBytes/8)
	// Written once: untouched pages all map the kernel's zero page, whose
	// reads would evict nothing.
	for i := range p.evict {
		p.evict[i] = uint64(i)
	}
	return p
}

// passResult holds one pass's per-model losses, agreement and times.
type passResult struct {
	loss       [models]float64
	agree      [models]int
	n          int
	warm, cold [models][]float64
}

// run streams the tokens through the four models from zero states. Token
// i runs the models in rotated order (i mod 4 goes first), so no model
// always follows the same one; every coldEvery-th token evicts the caches
// before each model's step and times it as cold. It resets the layers'
// insensitive-ratio counts, which only the dual-module models add to.
func (p *pass) run() (*passResult, error) {
	vocab := p.a.Model.Config().Vocab
	for _, l := range p.e.lm.Layers() {
		l.ResetCounts()
	}
	var st [models]nn.State
	var logits [models][]float32
	for k := range models {
		st[k], logits[k] = p.a.Model.NewState(1), make([]float32, vocab)
	}
	n := len(p.stream) - 1
	r := &passResult{n: n}
	for i := range n {
		cold := i%p.coldEvery == 0
		for j := range models {
			k := (i + j) % models
			e := p.e
			switch {
			case cold && p.copies != nil:
				e = p.copies[p.next%len(p.copies)]
				p.next++
			case cold:
				p.flush()
			}
			t0 := time.Now()
			if err := e.step(k, st[k], p.stream[i], logits[k]); err != nil {
				return nil, fmt.Errorf("token %d: %w", i, err)
			}
			ms := float64(time.Since(t0).Nanoseconds()) / 1e6
			if cold {
				r.cold[k] = append(r.cold[k], ms)
			} else {
				r.warm[k] = append(r.warm[k], ms)
			}
		}
		top := argmax(logits[dense])
		for k := range models {
			r.loss[k] += nn.CrossEntropy(nil, nil, logits[k], p.stream[i+1:i+2], vocab)
			if argmax(logits[k]) == top {
				r.agree[k]++
			}
		}
	}
	for k := range models {
		r.loss[k] /= float64(n)
		if err := nn.CheckLoss(r.loss[k]); err != nil {
			return nil, fmt.Errorf("%w: %w", dmi.ErrNotFinite, err)
		}
	}
	return r, nil
}

// flush empties the caches before a cold step, on the pool, so the
// workers are awake when the step starts, as in a server that is never
// idle. Without an eviction buffer it flushes the weights of the layers
// (and the embedding and dense decoder) on one task and the screened
// decoder's on the other (EvictFlush). Otherwise it reads the buffer,
// twice the last-level cache, a word per cache line: every worker's
// private caches are evicted too, and the lines it leaves are clean
// (writing would add the write-back of dirty lines to the next step's
// traffic, which a served model's weights never cause).
func (p *pass) flush() {
	if p.evict == nil {
		p.pool.For(2, 1, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				if t == 0 {
					p.e.lm.Flush()
				} else {
					p.e.dec.Flush()
				}
			}
		})
		return
	}
	n := len(p.evict)
	p.pool.For(evictTasks, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			var s uint64
			part := p.evict[t*n/evictTasks : (t+1)*n/evictTasks]
			for i := 0; i < len(part); i += 8 { // a word per 64-byte line
				s += part[i]
			}
			p.sums[t] = s
		}
	})
}

// row is model k's Row (without ratio, m and counts).
func (r *passResult) row(k int) Row {
	row := Row{
		DensePPL: lm.Perplexity(r.loss[dense]), PPL: lm.Perplexity(r.loss[k]),
		Top1:        float64(r.agree[k]) / float64(r.n),
		WarmDenseMs: median(r.warm[dense]), WarmMs: median(r.warm[k]),
		ColdDenseMs: median(r.cold[dense]), ColdMs: median(r.cold[k]),
	}
	row.DeltaPPL = row.PPL - row.DensePPL
	row.WarmSpeedup = row.WarmDenseMs / row.WarmMs
	row.ColdSpeedup = row.ColdDenseMs / row.ColdMs
	return row
}

// argmax returns the index of the largest logit, the first on ties.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
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
// state, e.g. "5.1 epochs, validation perplexity 44.21" (or "epoch 6, …"
// where the fractional epochs are not recorded).
func (m ModelInfo) Trained() string {
	s := "epoch " + strconv.Itoa(m.Epoch)
	if m.Epochs > 0 {
		s = fmt.Sprintf("%.1f epochs", m.Epochs)
	}
	if m.ValPPL > 0 {
		s += fmt.Sprintf(", validation perplexity %.2f", m.ValPPL)
	} else {
		s += " (no completed validation)"
	}
	return s
}
