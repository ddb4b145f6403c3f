package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/sel"
)

func newDMI(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dmi",
		Short: "Dual-module inference: fit little modules to a language model and evaluate it",
	}
	cmd.AddCommand(newDMIFit(stdout, stderr), newDMIEval(stdout, stderr))
	cmd.AddCommand(newDMITable(stdout, stderr))
	return cmd
}

func checkRatios(rs []float64) error {
	if len(rs) == 0 {
		return fmt.Errorf("--ratios: none given")
	}
	for _, r := range rs {
		if !(r >= 0 && r < 1) {
			return fmt.Errorf("--ratios: %v: %w", r, sel.ErrRatio)
		}
	}
	return nil
}

// loadModelForCorpus loads a model and the corpus and checks that they
// share a vocabulary.
func loadModelForCorpus(path string, cf corpusFlags) (*lm.Model, *corpus.Corpus, error) {
	m, state, err := lm.Load(path)
	if err != nil {
		return nil, nil, err
	}
	c, err := corpusForModel(path, m, state, cf)
	return m, c, err
}

// corpusForModel loads the corpus for a loaded model and checks that they
// share a vocabulary.
func corpusForModel(path string, m *lm.Model, state lm.TrainState, cf corpusFlags) (*corpus.Corpus, error) {
	c, err := cf.load()
	if err != nil {
		return nil, err
	}
	if err := checkModelVocab(path, m, state, c.Vocab); err != nil {
		return nil, err
	}
	return c, nil
}

// checkModelVocab checks that model m, loaded from path with state, was
// trained on vocabulary v.
func checkModelVocab(path string, m *lm.Model, state lm.TrainState, v *corpus.Vocab) error {
	if err := checkVocab(path, state.Extra, v); err != nil {
		return err
	}
	if m.Config().Vocab != v.Len() {
		return fmt.Errorf("%s has a vocabulary of %d words, the corpus %d: %w", path, m.Config().Vocab, v.Len(), lm.ErrMismatch)
	}
	return nil
}

func bigBytes(m *lm.Model) int {
	n := 0
	for _, w := range m.Layers() {
		n += 4 * (len(w.WIH) + len(w.WHH) + len(w.BIH) + len(w.BHH))
	}
	return n
}

func newDMIFit(stdout, stderr io.Writer) *cobra.Command {
	var (
		model, out   string
		o            dmi.Options
		bits, tokens int
		threads      int
		cf           corpusFlags
	)
	cmd := &cobra.Command{
		Use:   "fit",
		Short: "Fit the little module of every recurrent layer on the training books",
		Long: `fit runs the model over the first --calib-tokens tokens of the training split,
records each recurrent layer's inputs and previous states, fits each layer's
little module to the gate pre-activations in closed form (eq. 3.20),
quantizes it and writes the little modules to --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Bits = quant.Bits(bits)
			m, c, err := loadModelForCorpus(model, cf)
			if err != nil {
				return err
			}
			need, err := dmi.MinCalibTokens(m, o)
			if err != nil {
				return err
			}
			train := c.Stream(corpus.Train)
			switch {
			case tokens < need:
				return fmt.Errorf("--calib-tokens %d: the little modules need at least %d: %w", tokens, need, dmi.ErrCalib)
			case len(train) < tokens:
				return fmt.Errorf("--calib-tokens %d: the training split has only %d tokens: %w", tokens, len(train), dmi.ErrCalib)
			}
			pool := kernels.NewPool(threads)
			defer pool.Close()
			m.SetPool(pool)
			t0 := time.Now()
			s, err := dmi.Fit(m, train[:tokens], o)
			if err != nil {
				return err
			}
			if err := s.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %v little modules (ε=%g, seed %d) for %s, fitted on %d tokens in %v\n",
				out, s.Bits, s.Eps, s.Seed, m.Config(), tokens, time.Since(t0).Round(time.Millisecond))
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "layer\tk_x\tk_h\tlittle MiB\tMSE\tzero MSE\t|δ| per gate ("+strings.Join(dmi.GateNames(s.Cell), " ")+")")
			for l, lt := range s.Layers {
				ds := make([]string, len(lt.Delta))
				for i, d := range lt.Delta {
					ds[i] = fmt.Sprintf("%.3g", d)
				}
				fmt.Fprintf(tw, "%d\t%d\t%d\t%.2f\t%.4g\t%.4g\t%s\n", l, lt.X.K, lt.H.K, float64(lt.Bytes())/(1<<20), lt.MSE, lt.ZeroMSE, strings.Join(ds, " "))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "little modules %.2f MiB = %.1f%% of the recurrent weights (%.2f MiB)\n",
				float64(s.Bytes())/(1<<20), 100*float64(s.Bytes())/float64(bigBytes(m)), float64(bigBytes(m))/(1<<20))
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "model.safetensors", "model file")
	fl.StringVar(&out, "out", "little.safetensors", "output file for the little modules")
	floatFlag(fl, &o.Eps, "eps", dmi.DefaultEps, unitOpen(), "ε of eq. 3.9, which sets the projected dimension k")
	intFlag(fl, &bits, "bits", 8, bitWidths(), "little-module weight width (32: float)")
	intFlag(fl, &tokens, "calib-tokens", 20000, atLeast(1), "calibration tokens taken from the start of the training split")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed of the random projections")
	floatFlag(fl, &o.Lambda, "lambda", 0, atLeast(0), "ridge added to the least squares (0: none)")
	threadsFlag(fl, &threads)
	cf.add(cmd)
	return cmd
}

type dmiEvalPoint struct {
	Selector    string             `json:"selector"`
	Ratio       float64            `json:"ratio"`
	Theta       float64            `json:"theta,omitempty"`
	Loss        float64            `json:"loss"`
	PPL         float64            `json:"ppl"`
	DeltaPPL    float64            `json:"delta_ppl"`
	Insensitive map[string]float64 `json:"insensitive_ratio"`
}

type dmiEvalResult struct {
	Model     string         `json:"model"`
	Little    string         `json:"little"`
	Bits      int            `json:"bits"`
	Split     string         `json:"split"`
	Tokens    int            `json:"tokens"`
	DenseLoss float64        `json:"dense_loss"`
	DensePPL  float64        `json:"dense_ppl"`
	Points    []dmiEvalPoint `json:"points"`
	// "checksum verified" or "checksum absent", per file.
	ModelChecksum  string `json:"model_checksum"`
	LittleChecksum string `json:"little_checksum"`
}

func newDMIEval(stdout, stderr io.Writer) *cobra.Command {
	var (
		model, little, split, selector string
		ratios                         []float64
		theta                          float64
		tokens, threads                int
		asJSON                         bool
		cf                             corpusFlags
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Perplexity of the dense and the dual-module model at several insensitive ratios",
		Long: `eval streams the first --tokens tokens of a split through the model at batch 1,
state carried, once with dense layers and once per insensitive ratio with
dual-module layers (top-K selection), and prints perplexities, their
difference and the measured insensitive ratio of each gate type. With
--selector fixed or adaptive, --theta sets the threshold (fixed) or the
tolerance θ of eq. 3.18 (adaptive) and one configuration is evaluated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var s corpus.Split
			switch split {
			case "valid":
				s = corpus.Valid
			case "test":
				s = corpus.Test
			default:
				return fmt.Errorf("--split %q: want valid or test", split)
			}
			mode, err := dmi.ParseMode(selector)
			if err != nil {
				return err
			}
			var sels []dmi.Selection
			if mode == dmi.TopK {
				if err := checkRatios(ratios); err != nil {
					return err
				}
				for _, r := range ratios {
					sels = append(sels, dmi.Selection{Mode: dmi.TopK, Ratio: r})
				}
			} else {
				sels = []dmi.Selection{{Mode: mode, Theta: theta}}
			}
			// The little modules before the corpus: their checks against
			// the model are cheaper than reading the corpus.
			m, state, err := lm.Load(model)
			if err != nil {
				return err
			}
			set, err := dmi.LoadFor(little, m)
			if err != nil {
				return err
			}
			c, err := corpusForModel(model, m, state, cf)
			if err != nil {
				return err
			}
			pool := kernels.NewPool(threads)
			defer pool.Close()
			d, err := dmi.NewLM(m, set, pool)
			if err != nil {
				return fmt.Errorf("%s with %s: %w", little, model, err)
			}
			stream := c.Stream(s)
			if tokens > 0 && tokens < len(stream) {
				stream = stream[:tokens]
			}
			progress := progressWriter(stderr)
			say := func(format string, a ...any) {
				if progress != nil {
					fmt.Fprintf(progress, format+"\n", a...)
				}
			}
			say("dense, %d tokens…", len(stream))
			dense, err := d.Loss(stream, true)
			if err != nil {
				return err
			}
			r := dmiEvalResult{Model: model, Little: little, Bits: int(set.Bits), Split: split, Tokens: len(stream),
				DenseLoss: dense, DensePPL: lm.Perplexity(dense),
				ModelChecksum: state.Checksum.String(), LittleChecksum: set.Checksum.String()}
			names := dmi.GateNames(set.Cell)
			for _, sl := range sels {
				say("%v ratio %.2f θ %g…", sl.Mode, sl.Ratio, sl.Theta)
				if err := d.SetSelection(sl); err != nil {
					return err
				}
				loss, err := d.Loss(stream, false)
				if err != nil {
					return err
				}
				p := dmiEvalPoint{Selector: sl.Mode.String(), Ratio: sl.Ratio, Theta: sl.Theta, Loss: loss,
					PPL: lm.Perplexity(loss), Insensitive: map[string]float64{}}
				p.DeltaPPL = p.PPL - r.DensePPL
				for g, v := range d.InsensitiveRatio() {
					p.Insensitive[names[g]] = v
				}
				r.Points = append(r.Points, p)
			}
			if asJSON {
				return writeJSON(stdout, r)
			}
			return printDMIEval(stdout, r, m.Config(), names)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "model.safetensors", "model file")
	fl.StringVar(&little, "little", "little.safetensors", "little modules written by dmi fit")
	floatsFlag(fl, &ratios, "ratios", []float64{0.1, 0.3, 0.5, 0.7, 0.9}, unitLeft(), "insensitive ratios for top-K selection")
	fl.StringVar(&selector, "selector", "topk", "selection: topk, fixed or adaptive")
	floatFlag(fl, &theta, "theta", 0.1, finite(), "threshold (fixed) or tolerance θ (adaptive)")
	fl.StringVar(&split, "split", "valid", "split to evaluate: valid or test")
	intFlag(fl, &tokens, "tokens", 5000, atLeast(0), "tokens from the start of the split (0: all)")
	threadsFlag(fl, &threads)
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cf.add(cmd)
	return cmd
}

func printDMIEval(w io.Writer, r dmiEvalResult, cfg lm.Config, names []string) error {
	fmt.Fprintf(w, "%s with INT%d little modules on %s (%d tokens, batch 1): dense perplexity %.2f\n",
		cfg, r.Bits, r.Split, r.Tokens, r.DensePPL)
	fmt.Fprintf(w, "%s: %s; %s: %s\n\n", r.Model, r.ModelChecksum, r.Little, r.LittleChecksum)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "selector\tratio\tθ\tPPL\tΔPPL\t")
	for _, n := range names {
		fmt.Fprintf(tw, "insens. %s\t", n)
	}
	fmt.Fprintln(tw)
	for _, p := range r.Points {
		ratio, th := fmt.Sprintf("%.2f", p.Ratio), fmt.Sprintf("%g", p.Theta)
		if p.Selector == dmi.TopK.String() {
			th = "-"
		} else {
			ratio = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%+.2f\t", p.Selector, ratio, th, p.PPL, p.DeltaPPL)
		for _, n := range names {
			fmt.Fprintf(tw, "%.3f\t", p.Insensitive[n])
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func newBenchDMI(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg    dmi.BenchConfig
		cell   string
		bits   int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "dmi",
		Short: "Dense vs dual-module step of one LSTM/GRU layer at batch 1, weights cold",
		Long: `dmi times one recurrent layer at batch 1 in one process: a copy-bandwidth
probe, the dense step (multithreaded GEMVs over W_ih and W_hh plus the
update) and the dual-module step at each insensitive ratio, split into the
little part (projection, INT8/INT4 GEMV, selection) and the big part
(gather GEMVs, assembly, update). Weights are cold: the run rotates through
copies of the whole layer spanning twice the last-level cache. Weights are
random and the little module is fitted to random inputs: the timings are
meaningful, the approximation quality is not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nn.ParseCell(cell)
			if err != nil {
				return err
			}
			if err := checkRatios(cfg.Ratios); err != nil {
				return err
			}
			cfg.Cell, cfg.Bits = c, quant.Bits(bits)
			cfg.Progress = progressWriter(stderr)
			if err := dmiBenchBudget(cfg); err != nil {
				return err
			}
			res, err := dmi.RunBench(cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			return printBenchDMI(stdout, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cell, "cell", "lstm", "cell: lstm or gru")
	intFlag(f, &cfg.Hidden, "hidden", 1500, width(), "hidden units")
	intFlag(f, &cfg.Input, "input", 0, width(), "input width (default: same as --hidden)")
	floatsFlag(f, &cfg.Ratios, "ratios", []float64{0.1, 0.3, 0.5, 0.7, 0.9}, unitLeft(), "insensitive ratios")
	floatFlag(f, &cfg.Eps, "eps", dmi.DefaultEps, unitOpen(), "ε of eq. 3.9, which sets k")
	intFlag(f, &bits, "bits", 8, bitWidths(), "little-module weight width")
	threadsFlag(f, &cfg.Threads)
	intFlag(f, &cfg.Reps, "reps", 200, atLeast(1), "timed steps per configuration (median reported)")
	intFlag(f, &cfg.Load, "load", 0, closed(0, bench.MaxLoad), "busy-loop processes competing for the CPUs while timing, as on a loaded machine")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of weights, inputs and projections")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

func printBenchDMI(w io.Writer, r *dmi.BenchResult) error {
	fmt.Fprintf(w, "%s %d (input %d), batch 1, %d threads, kernels %s, %d reps, %d copies over LLC %d MiB; weights %s\n",
		r.Cell, r.Hidden, r.Input, r.Threads, r.Impl, r.Reps, r.Copies, r.LLCBytes>>20, r.Weights)
	if r.Load > 0 {
		fmt.Fprintf(w, "under load: %d busy-loop processes competing for the CPUs\n", r.Load)
	}
	fmt.Fprintf(w, "little module INT%d, k_x=%d k_h=%d: %.2f MiB = %.1f%% of the big module's %.2f MiB (+%.2f MiB projection indices)\n",
		r.Bits, r.KX, r.KH, float64(r.LittleByte)/(1<<20), 100*r.LittleFrac, float64(r.BigBytes)/(1<<20), float64(r.ProjBytes)/(1<<20))
	fmt.Fprintf(w, "copy %.1f GB/s; dense step %.3f ms = %.1f GB/s (%.0f%% of copy)\n\n", r.CopyGBps, r.DenseMs, r.DenseGBps, 100*r.DenseOfBW)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ratio\texact rows\tdense ms\tDMI ms\tlittle ms\tbig ms\tspeedup\t")
	for _, p := range r.Points {
		fmt.Fprintf(tw, "%.2f\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f×\t\n", p.Ratio, p.Exact, p.DenseMs, p.DMIMs, p.LittleMs, p.BigMs, p.Speedup)
	}
	return tw.Flush()
}
