package demo

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/elasticml/elastic/kernels"
)

// DefaultWords is how many words Generate continues a prompt by when
// GenerateConfig.Words is zero.
const DefaultWords = 30

// DefaultGenerateRatio is the elastic model's insensitive ratio in
// Generate when GenerateConfig.Ratio is unset (the CLI's default).
const DefaultGenerateRatio = 0.5

// GenerateConfig configures Generate.
type GenerateConfig struct {
	// Prompt is the text to continue: words are lower-cased and stripped
	// of punctuation as the corpus was; at least one must be in the
	// vocabulary.
	Prompt string
	// Words is the continuation's length; 0 means DefaultWords.
	Words int
	// Ratio is the elastic model's top-K insensitive ratio, in [0, 1).
	Ratio float64
	// M is the screened decoder's candidates; 0 means DefaultM.
	M int
	// Threads is the number of pool workers; 0 means GOMAXPROCS.
	Threads int
}

// Continuation is the outcome of Generate: the greedy continuations of the
// dense and of the elastic model (dual-module layers at Ratio and the
// screened decoder at M), and each one's speed.
type Continuation struct {
	Prompt  []string `json:"prompt"`  // the words as read
	Unknown []string `json:"unknown"` // prompt words read as <unk>
	Ratio   float64  `json:"ratio"`
	M       int      `json:"m"`
	Threads int      `json:"threads"`
	Dense   []string `json:"dense"`
	Elastic []string `json:"elastic"`
	// Same counts the positions where both continuations hold the same word.
	Same int `json:"same"`
	// TokensPerSec are over the whole continuation, prompt included.
	DenseTokensPerSec   float64 `json:"dense_tokens_per_sec"`
	ElasticTokensPerSec float64 `json:"elastic_tokens_per_sec"`
}

// Generate loads the embedded assets and continues cfg.Prompt greedily with
// the dense and with the elastic model. It returns an error wrapping
// ErrConfig for a prompt with no known word or a bad cfg.
func Generate(cfg GenerateConfig) (*Continuation, error) {
	if cfg.Words == 0 {
		cfg.Words = DefaultWords
	}
	if cfg.M == 0 {
		cfg.M = DefaultM
	}
	switch {
	case cfg.Words < 1:
		return nil, fmt.Errorf("%w: %d words to generate", ErrConfig, cfg.Words)
	case !(cfg.Ratio >= 0 && cfg.Ratio < 1):
		return nil, fmt.Errorf("%w: ratio %v outside [0, 1)", ErrConfig, cfg.Ratio)
	case cfg.M < 1 || cfg.Threads < 0:
		return nil, fmt.Errorf("%w: m = %d, %d threads", ErrConfig, cfg.M, cfg.Threads)
	}
	a := &Assets{}
	if err := a.loadText(); err != nil {
		return nil, err
	}
	c := &Continuation{Ratio: cfg.Ratio, M: cfg.M}
	prompt, err := c.read(cfg.Prompt, a.Words)
	if err != nil {
		return nil, err
	}
	if err := a.loadModels(); err != nil {
		return nil, err
	}
	if err := a.checkM(Config{M: cfg.M}); err != nil {
		return nil, err
	}
	pool := kernels.NewPool(cfg.Threads)
	defer pool.Close()
	c.Threads = pool.Workers()
	e, err := a.newElastic(pool, cfg.M)
	if err != nil {
		return nil, err
	}
	if err := e.lm.SetRatio(cfg.Ratio); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	for _, k := range []int{dense, both} {
		words, tps, err := a.greedy(e, k, prompt, cfg.Words)
		if err != nil {
			return nil, err
		}
		if k == dense {
			c.Dense, c.DenseTokensPerSec = words, tps
		} else {
			c.Elastic, c.ElasticTokensPerSec = words, tps
		}
	}
	for i := range c.Dense {
		if c.Dense[i] == c.Elastic[i] {
			c.Same++
		}
	}
	return c, nil
}

// read splits the prompt into vocabulary ids, lower-casing and dropping
// punctuation as the corpus does; unknown words become <unk>.
func (c *Continuation) read(text string, words []string) ([]int32, error) {
	ids, unk, err := vocabIDs(words, "<unk>")
	if err != nil {
		return nil, err
	}
	var out []int32
	known := 0
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		c.Prompt = append(c.Prompt, f)
		id, ok := ids[f]
		if !ok {
			c.Unknown = append(c.Unknown, f)
			id = unk
		} else {
			known++
		}
		out = append(out, id)
	}
	if known == 0 {
		return nil, fmt.Errorf("%w: the prompt %q has no word of the model's vocabulary (%d words of the KJV, lower case)", ErrConfig, text, len(words))
	}
	return out, nil
}

// greedy feeds the prompt to model k and then its own most likely word
// (never <unk>), n times, and returns the words and tokens per second.
func (a *Assets) greedy(e *elastic, k int, prompt []int32, n int) ([]string, float64, error) {
	vocab := a.Model.Config().Vocab
	st, logits := a.Model.NewState(1), make([]float32, vocab)
	unk := int32(-1)
	for i, w := range a.Words {
		if w == "<unk>" {
			unk = int32(i)
		}
	}
	t0 := time.Now()
	for _, tok := range prompt {
		if err := e.step(k, st, tok, logits); err != nil {
			return nil, 0, err
		}
	}
	var out []string
	for range n {
		if unk >= 0 {
			logits[unk] = float32(-1e30)
		}
		next := int32(argmax(logits))
		out = append(out, a.Words[next])
		if err := e.step(k, st, next, logits); err != nil {
			return nil, 0, err
		}
	}
	return out, float64(len(prompt)+n) / time.Since(t0).Seconds(), nil
}
