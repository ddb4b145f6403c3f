package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/spec"
)

func newScreen(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "screen",
		Short: "Approximate screening of a large classifier: fit, evaluate, compare with baselines",
	}
	cmd.AddCommand(newScreenFit(stdout, stderr), newScreenEval(stdout, stderr), newScreenCompare(stdout, stderr))
	return cmd
}

// classifierFlags locate a classifier in a safetensors file and the
// hidden vectors it is fed.
type classifierFlags struct {
	path, weight, bias string
	hidden             string // safetensors file with "hidden" [n, d] and optional "labels" [n]
	useLM              bool   // the classifier file is an lm model: run it on the corpus for h
	tokens             int
	threads            int
	cf                 corpusFlags
}

func (f *classifierFlags) add(cmd *cobra.Command, tokensHelp string, tokens int) {
	fl := cmd.Flags()
	fl.StringVar(&f.path, "classifier", "model.safetensors", "safetensors file holding the classifier")
	fl.StringVar(&f.weight, "weight", "decoder.weight", "tensor name of the classifier weight W [l, d] (ignored with --lm)")
	fl.StringVar(&f.bias, "bias", "decoder.bias", "tensor name of the bias b [l], empty for none (ignored with --lm)")
	fl.StringVar(&f.hidden, "hidden", "", "safetensors file of hidden vectors: tensor hidden [n, d], optional labels [n] (F32)")
	fl.BoolVar(&f.useLM, "lm", false, "the classifier file is an lm model: its decoder is the classifier, and running it on the corpus gives the hidden vectors")
	intFlag(fl, &f.tokens, "tokens", tokens, atLeast(1), tokensHelp)
	threadsFlag(fl, &f.threads)
	f.cf.add(cmd)
}

func (f *classifierFlags) check() error {
	switch {
	case f.useLM == (f.hidden != ""):
		return fmt.Errorf("give exactly one source of hidden vectors: --hidden FILE or --lm")
	}
	return nil
}

// source is an opened classifier and, with --lm, the model and corpus
// that produce its hidden vectors, or the vectors of the --hidden file.
// The corpus is read when vectors are first asked for, so that the other
// inputs (a screener) are checked against the classifier before it.
type source struct {
	lin    *spec.Linear
	model  *lm.Model
	state  lm.TrainState
	corpus *corpus.Corpus
	hidden []float32 // from --hidden
	labels []int32   // from --hidden, nil if it has none
}

// open reads the classifier: the named tensors of the file, or with --lm
// the decoder of the language model (which also covers a tied decoder,
// stored as the embedding). Before it loads the classifier it reads the
// classifier's shape from the file's header, runs check on it (a
// screener's header against it, say; check may be nil) and reads up to
// hiddenLimit vectors of the --hidden file, so a bad file costs no more
// than itself.
func (f *classifierFlags) open(hiddenLimit int, check func(screen.Shape) error) (*source, error) {
	sh, err := f.shape()
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(sh); err != nil {
			return nil, err
		}
	}
	src := &source{}
	if f.hidden != "" {
		if src.hidden, src.labels, err = screen.ReadHidden(f.hidden, sh.N, sh.D, hiddenLimit); err != nil {
			return nil, err
		}
	}
	if f.useLM {
		m, state, err := lm.Load(f.path)
		if err != nil {
			return nil, err
		}
		dec := m.Decoder
		src.lin, src.model, src.state = spec.NewLinear(dec.Weight.Data, dec.Bias.Data, dec.Out, dec.In), m, state
		return src, nil
	}
	file, err := safetensors.ReadFile(f.path)
	if err != nil {
		return nil, err
	}
	// The same checks again: the file may have changed since its header
	// was read.
	if sh, err = f.checkHeader(&file.Header); err != nil {
		return nil, err
	}
	wt, _ := file.Tensor(f.weight)
	w, err := wt.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", f.path, f.weight, err)
	}
	var b []float32
	if f.bias != "" {
		bt, _ := file.Tensor(f.bias)
		if b, err = bt.Float32s(); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", f.path, f.bias, err)
		}
	}
	src.lin = spec.NewLinear(w, b, sh.N, sh.D)
	return src, nil
}

// shape reads the classifier's shape from its file's header (with --lm,
// the model's: vocabulary × hidden width, after a check of --data).
func (f *classifierFlags) shape() (screen.Shape, error) {
	if f.useLM {
		if err := f.cf.check(); err != nil {
			return screen.Shape{}, err
		}
		cfg, err := lm.ReadConfig(f.path)
		if err != nil {
			return screen.Shape{}, err
		}
		return screen.Shape{N: cfg.Vocab, D: cfg.Hidden}, nil
	}
	h, err := safetensors.ReadHeaderFile(f.path)
	if err != nil {
		return screen.Shape{}, err
	}
	return f.checkHeader(h)
}

// checkHeader checks the shapes of the --weight and --bias tensors in a
// classifier file's header and returns the classifier's.
func (f *classifierFlags) checkHeader(h *safetensors.Header) (screen.Shape, error) {
	t, err := h.Tensor(f.weight)
	if err != nil {
		return screen.Shape{}, fmt.Errorf("%s: %w", f.path, err)
	}
	if len(t.Shape) != 2 || t.Shape[0] < 1 || t.Shape[1] < 1 {
		return screen.Shape{}, fmt.Errorf("%s: %s has shape %v, want [classes, dim]", f.path, f.weight, t.Shape)
	}
	l, d := t.Shape[0], t.Shape[1]
	if f.bias != "" {
		bt, err := h.Tensor(f.bias)
		if err != nil {
			return screen.Shape{}, fmt.Errorf("%s: %w", f.path, err)
		}
		if len(bt.Shape) != 1 || bt.Shape[0] != l {
			return screen.Shape{}, fmt.Errorf("%s: %s has shape %v, want [%d]", f.path, f.bias, bt.Shape, l)
		}
	}
	return screen.Shape{N: l, D: d}, nil
}

// vectors returns up to f.tokens hidden vectors (n×d) and their labels
// (nil if unknown): from the --hidden file, or by running the language
// model over the given corpus split at batch 1, h being the last layer's
// output that the decoder multiplies and the label the next token.
func (f *classifierFlags) vectors(src *source, split corpus.Split, pool *kernels.Pool) ([]float32, []int32, error) {
	return f.vectorsN(src, split, f.tokens, pool)
}

// vectorsN is vectors for up to limit vectors instead of f.tokens.
func (f *classifierFlags) vectorsN(src *source, split corpus.Split, limit int, pool *kernels.Pool) ([]float32, []int32, error) {
	d := src.lin.D
	if src.model == nil {
		n := min(limit, len(src.hidden)/d)
		var labels []int32
		if src.labels != nil {
			labels = src.labels[:n]
		}
		return src.hidden[:n*d], labels, nil
	}
	m := src.model
	if src.corpus == nil {
		c, err := corpusForModel(f.path, m, src.state, f.cf)
		if err != nil {
			return nil, nil, err
		}
		src.corpus = c
	}
	m.SetPool(pool)
	stream := src.corpus.Stream(split)
	n := min(limit, len(stream)-1)
	if n < 1 {
		return nil, nil, fmt.Errorf("the %v split has too few tokens", split)
	}
	if err := budget.Check(fmt.Sprintf("%d hidden vectors (--tokens) of width %d", n, d), budget.Mul(4, n, d+1)); err != nil {
		return nil, nil, err
	}
	hs := make([]float32, n*d)
	labels := make([]int32, n)
	st := m.NewState(1)
	logits := make([]float32, m.Config().Vocab)
	last := m.Config().Layers - 1
	for i := range n {
		m.Step(st, stream[i], logits)
		copy(hs[i*d:(i+1)*d], st.H[last])
		labels[i] = stream[i+1]
	}
	return hs, labels, nil
}

func newScreenFit(stdout, stderr io.Writer) *cobra.Command {
	var (
		f          classifierFlags
		o          screen.Options
		bits       int
		out        string
		tailMs     []int
		tailTokens int
	)
	cmd := &cobra.Command{
		Use:   "fit",
		Short: "Fit a screener (eq. 6.3–6.4) to a classifier from calibration hidden vectors",
		Long: `fit reads a classifier z = Wh + b from a safetensors file, collects calibration
hidden vectors (from --hidden, or with --lm by running the language model over
the first --tokens tokens of the training split), fits the screener
z̃ = W̃Ph + b̃ in closed form (or by SGD with --sgd), quantizes W̃, computes
the residual bound of the certified mode and writes the screener, tied to
the classifier by a fingerprint of its weights. --tail-m calibrates, for each
top-m given, the shift of the approximate tail logits that maximises the
likelihood of the labels under the mixed logits (the mass the screener's tail
underestimates), on vectors held out of the fit: with --lm the first
--tail-tokens of the validation split, else the last quarter of the vectors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			o.Bits = quant.Bits(bits)
			pool := kernels.NewPool(f.threads)
			defer pool.Close()
			src, err := f.open(f.tokens, nil)
			if err != nil {
				return err
			}
			lin := src.lin
			hs, labels, err := f.vectors(src, corpus.Train, pool)
			if err != nil {
				return err
			}
			// The tail shifts are calibrated on vectors the fit does not
			// see: with --lm the validation split's (the training split's
			// states are those the model was fitted to, its predictions
			// there sharper than on new text), else the last quarter.
			var held []float32
			var heldLabels []int32
			switch {
			case len(tailMs) == 0:
			case src.model != nil:
				if held, heldLabels, err = f.vectorsN(src, corpus.Valid, tailTokens, pool); err != nil {
					return err
				}
			case labels == nil:
				return fmt.Errorf("--tail-m: the calibration vectors have no labels (give --lm, or --hidden with a labels tensor)")
			default:
				cut := len(labels) - len(labels)/4
				hs, held, heldLabels = hs[:cut*lin.D], hs[cut*lin.D:], labels[cut:]
			}
			t0 := time.Now()
			s, err := screen.Fit(lin, hs, o, pool)
			if err != nil {
				return err
			}
			if len(tailMs) > 0 {
				if err := s.CalibrateTails(lin, held, heldLabels, tailMs, pool); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "tail shifts on %d held-out vectors (m: shift): %v\n", len(heldLabels), s.TailShifts)
			}
			if err := s.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %v screener k=%d for the %d×%d classifier %s (fingerprint %s), fitted on %d vectors in %v\n",
				out, s.Bits, s.K, s.L, s.D, f.path, s.Fingerprint, len(hs)/lin.D, time.Since(t0).Round(time.Millisecond))
			_, err = fmt.Fprintf(stdout, "eq. 6.4 MSE %.4g (predicting zero: %.4g); screener %.2f MiB = %.2f%% of the classifier (codes alone %.2f%%)\n",
				s.MSE, s.ZeroMSE, float64(s.Bytes())/(1<<20), 100*s.BytesRatio(), 100*s.CodeRatio())
			return err
		},
	}
	f.add(cmd, "calibration vectors (tokens of the training split with --lm)", 20000)
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "screener.safetensors", "output file")
	floatFlag(fl, &o.KRatio, "k-ratio", screen.DefaultKRatio, unitRight(), "k/d, the projected width over the hidden width")
	intFlag(fl, &bits, "bits", 4, bitWidths(), "screener weight width (32: float)")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed of the projection")
	floatFlag(fl, &o.Lambda, "lambda", 0, atLeast(0), "ridge added to the least squares (0: none)")
	fl.BoolVar(&o.SGD, "sgd", false, "fit by minibatch SGD (thesis Algorithm 3) instead of the closed form")
	fl.BoolVar(&o.NoBound, "no-bound", false, "skip the residual bound (the certified mode then refuses the screener; the file is smaller)")
	intFlag(fl, &o.SGDConfig.Epochs, "epochs", 10, atLeast(1), "SGD epochs")
	intsFlag(fl, &tailMs, "tail-m", nil, atLeast(1), "top-m counts to calibrate a tail shift for (needs labels; none by default)")
	intFlag(fl, &tailTokens, "tail-tokens", 10000, atLeast(1), "with --lm and --tail-m: validation tokens the shifts are calibrated on")
	return cmd
}

type screenEvalPoint struct {
	Selection string `json:"selection"`
	screen.Quality
	PPL float64 `json:"ppl,omitempty"`
}

type screenEvalResult struct {
	Classifier string            `json:"classifier"`
	Screener   string            `json:"screener"`
	Classes    int               `json:"classes"`
	Dim        int               `json:"dim"`
	Inputs     int               `json:"inputs"`
	FullPPL    float64           `json:"full_ppl,omitempty"`
	Conformal  *screen.Conformal `json:"conformal,omitempty"`
	Points     []screenEvalPoint `json:"points"`
}

func newScreenEval(stdout, stderr io.Writer) *cobra.Command {
	var (
		f         classifierFlags
		path      string
		ms        []int
		delta     float64
		certified bool
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Top-1 agreement, top-5 recall and perplexity of screening vs the full classifier",
		Long: `eval runs hidden vectors through the full classifier and through screening at
each top-m of --m, and prints top-1 agreement, top-5 recall, coverage of the
full top-1 by the candidates, mean candidates and, when labels are known,
perplexity from the mixed logits. With --lm the vectors come from the
validation split. With --delta, a split-conformal threshold is calibrated on
the first half of the vectors and evaluated on the second; --certified adds
the certified mode, whose top-1 always equals the full classifier's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if len(ms) == 0 {
				return fmt.Errorf("--m: none given")
			}
			// Half the vectors calibrate: check they can before any is made.
			if need := screen.MinCalib(delta); delta > 0 && f.tokens/2 < need {
				return fmt.Errorf("--delta %g: conformal calibration on half of --tokens %d needs at least %s inputs: %w", delta, f.tokens, calibCount(need), screen.ErrCalib)
			}
			pool := kernels.NewPool(f.threads)
			defer pool.Close()
			// The screener's header is checked against the classifier's
			// and its bytes read before the classifier is loaded.
			var sf *screen.File
			src, err := f.open(f.tokens, func(sh screen.Shape) (err error) {
				sf, err = screen.Open(path, &sh)
				return err
			})
			if err != nil {
				return err
			}
			lin := src.lin
			s, err := sf.For(lin)
			if err != nil {
				return err
			}
			c, err := screen.NewClassifier(lin, s, pool)
			if err != nil {
				return fmt.Errorf("%s with %s: %w", path, f.path, err)
			}
			hs, labels, err := f.vectors(src, corpus.Valid, pool)
			if err != nil {
				return err
			}
			r := screenEvalResult{Classifier: f.path, Screener: path, Classes: lin.N, Dim: lin.D}
			var sels []screen.Selection
			for _, m := range ms {
				sels = append(sels, screen.Selection{Mode: screen.TopM, M: m})
			}
			if delta > 0 {
				n := len(hs) / lin.D / 2
				cf, err := c.Calibrate(hs[:n*lin.D], delta)
				if err != nil {
					return err
				}
				r.Conformal = &cf
				hs = hs[n*lin.D:]
				if labels != nil {
					labels = labels[n:]
				}
				sels = append(sels, cf.GapSelection(), cf.TopMSelection())
			}
			if certified {
				sels = append(sels, screen.Selection{Mode: screen.Certified, M: ms[0]})
			}
			r.Inputs = len(hs) / lin.D
			for _, sl := range sels {
				if err := c.SetSelection(sl); err != nil {
					return err
				}
				q, err := c.Evaluate(hs, labels)
				if err != nil {
					return err
				}
				p := screenEvalPoint{Selection: describeSelection(sl), Quality: q}
				if labels != nil {
					for _, l := range []float64{q.Loss, q.FullLoss} {
						if err := nn.CheckLoss(l); err != nil {
							return fmt.Errorf("%s: %w", describeSelection(sl), err)
						}
					}
					p.PPL = math.Exp(q.Loss)
					r.FullPPL = math.Exp(q.FullLoss)
				}
				r.Points = append(r.Points, p)
			}
			if asJSON {
				return writeJSON(stdout, r)
			}
			return printScreenEval(stdout, r)
		},
	}
	f.add(cmd, "vectors to evaluate (tokens of the validation split with --lm)", 2000)
	fl := cmd.Flags()
	fl.StringVar(&path, "screener", "screener.safetensors", "screener written by screen fit")
	intsFlag(fl, &ms, "m", []int{1, 4, 16, 64, 256}, atLeast(1), "candidate counts for top-m selection")
	floatFlag(fl, &delta, "delta", 0, unitOpen(), "miscoverage δ of a conformal threshold calibrated on half the vectors (default: none)")
	fl.BoolVar(&certified, "certified", false, "also evaluate the certified mode, starting from the first --m")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// calibCount formats screen.MinCalib, which saturates.
func calibCount(n int) string {
	if n == math.MaxInt {
		return "more than 2^63 (no count suffices)"
	}
	return strconv.Itoa(n)
}

func describeSelection(s screen.Selection) string {
	switch s.Mode {
	case screen.Gap:
		return fmt.Sprintf("gap %.3g", s.Gap)
	case screen.Certified:
		return fmt.Sprintf("certified from m=%d", s.M)
	}
	return fmt.Sprintf("top-m %d", s.M)
}

func printScreenEval(w io.Writer, r screenEvalResult) error {
	fmt.Fprintf(w, "%d×%d classifier %s with screener %s, %d inputs", r.Classes, r.Dim, r.Classifier, r.Screener, r.Inputs)
	if r.FullPPL > 0 {
		fmt.Fprintf(w, "; full perplexity %.2f", r.FullPPL)
	}
	fmt.Fprintln(w)
	if cf := r.Conformal; cf != nil {
		fmt.Fprintf(w, "conformal at δ=%g on %d held-out inputs: gap %.4g, m %d\n", cf.Delta, cf.N, cf.Gap, cf.M)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "selection\tcandidates\ttop-1 agree\ttop-5 recall\tcoverage\tPPL\t")
	for _, p := range r.Points {
		ppl := "-"
		if p.PPL > 0 {
			ppl = fmt.Sprintf("%.2f", p.PPL)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.4f\t%.4f\t%.4f\t%s\t\n", p.Selection, p.Candidates, p.Top1, p.Top5, p.Coverage, ppl)
	}
	return tw.Flush()
}

func newBenchScreen(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg    screen.BenchConfig
		bits   int
		llcMiB int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "screen",
		Short: "Full vs screened classification of a synthetic extreme classifier, weights cold",
		Long: `screen generates a synthetic classifier (package screen/synth: low rank plus
noise, skewed row norms, log-prior bias), fits an INT4 screener at k/d = 0.25
to synthetic hidden vectors, chooses m by conformal calibration (--m 0) so
that the full top-1 is a candidate with probability ≥ 1 − δ, and times in
one process, interleaved, the full classifier (dense multithreaded GEMV, or
GEMM for --batch > 1) against screening, split into screen, select and
exact phases. Weights are cold: classifier and screener rotate through
copies spanning twice the last-level cache (a classifier that large by
itself is not copied). Sizes: 268K×512 (Transformer-W268K), 670K×512
(XMLCNN-670K), 1M×512; 10M×512 needs 20 GB of float32 weights and is
refused, but runs with --half: W stored in float16 (10 GB), the full
baseline and the exact rows on the float16 GEMVs (batch 1 only).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Bits, cfg.LLC = quant.Bits(bits), llcMiB<<20
			cfg.Progress = progressWriter(stderr)
			if err := screenBenchBudget(cfg); err != nil {
				return err
			}
			res, err := screen.RunBench(cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			return printBenchScreen(stdout, res)
		},
	}
	fl := cmd.Flags()
	intFlag(fl, &cfg.Classes, "classes", 267744, atLeast(2), "classes l (rows of W)")
	intFlag(fl, &cfg.Dim, "dim", 512, closed(1, synth.MaxDim), "hidden width d")
	fl.BoolVar(&cfg.Half, "half", false, "store the classifier in float16 (both full and exact GEMVs read float16)")
	floatFlag(fl, &cfg.KRatio, "k-ratio", screen.DefaultKRatio, unitRight(), "k/d of the screener")
	intFlag(fl, &bits, "bits", 4, bitWidths(), "screener weight width")
	intFlag(fl, &cfg.M, "m", 0, atLeast(1), "candidates per input (default: conformal choice at --delta)")
	floatFlag(fl, &cfg.Delta, "delta", screen.DefaultDelta, unitOpen(), "miscoverage δ for the automatic m")
	intFlag(fl, &cfg.Batch, "batch", 1, atLeast(1), "inputs per call")
	intFlag(fl, &cfg.Reps, "reps", 20, atLeast(1), "timed rounds (median reported)")
	threadsFlag(fl, &cfg.Threads)
	fl.Uint64Var(&cfg.Seed, "seed", 1, "seed of the classifier, inputs and projection")
	intFlag(fl, &llcMiB, "llc-mib", 0, llcDomain(), "last-level cache in MiB for the cold-weight rotation (default: read from sysfs)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

func printBenchScreen(w io.Writer, r *screen.BenchResult) error {
	fmt.Fprintf(w, "%d×%d %s classifier (%s), batch %d, %d threads, kernels %s, %d reps\n",
		r.Classes, r.Dim, r.DType, r.Weights, r.Batch, r.Threads, r.Impl, r.Reps)
	fmt.Fprintf(w, "cold weights: %s\n", r.ColdNote)
	fmt.Fprintf(w, "screener INT%d k=%d: %.1f MiB = %.2f%% of the classifier's %.1f MiB (codes alone %.2f%%); fit %.1f s, MSE %.4g vs %.4g for zero\n",
		r.Bits, r.K, float64(r.ScreenerBytes)/(1<<20), 100*r.ScreenerBytesRatio, float64(r.ClassifierBytes)/(1<<20), 100*r.CodeRatio, r.FitSeconds, r.MSE, r.ZeroMSE)
	if cf := r.Conformal; cf != nil {
		fmt.Fprintf(w, "m = %d from conformal calibration at δ=%g on %d held-out inputs (rank quantile %d)\n", r.M, cf.Delta, cf.N, cf.M)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "classes\tdim\tfull ms\tscreen ms\tspeedup\tcandidates\ttop-1 agree\ttop-5 recall\tbytes ratio\t")
	fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t%.2f×\t%.1f\t%.4f\t%.4f\t%.4f\t\n", r.Classes, r.Dim, r.FullMs, r.ScreenMs, r.Speedup,
		r.Candidates, r.Top1Agreement, r.Top5Recall, r.ScreenerBytesRatio)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nbreakdown: screen %.3f ms, select %.3f ms, exact %.3f ms; screening overhead (screen+select) = %.1f%% of full\n",
		r.PhaseScreenMs, r.PhaseSelectMs, r.PhaseExactMs, 100*r.Overhead)
	if r.QualityNote != "" {
		fmt.Fprintf(w, "note: %s\n", r.QualityNote)
	}
	return err
}
