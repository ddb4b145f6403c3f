package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/dmi/experiments"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
)

type dmiTableFlags struct {
	which                   string
	models, littles         []string
	small                   string
	tokens, calibTokens     int
	seed                    uint64
	out, plots              string
	asJSON, noTiming        bool
	reps, threads           int
	timingHidden, timingSml int
	noise                   []float64
	cf                      corpusFlags
}

func newDMITable(stdout, stderr io.Writer) *cobra.Command {
	var f dmiTableFlags
	cmd := &cobra.Command{
		Use:   "table",
		Short: "Reproduce the thesis's chapter-3 tables (3.1, 3.2, 3.4, 3.5, B.1–B.4) on our models",
		Long: `table builds the evaluation tables of the thesis's chapter 3 and appendix B on
our language models, as Markdown with the thesis's columns, the command that
reproduces each table and notes on the models (checkpoint epochs, validation
perplexity) and on the timing, which runs one layer with RANDOM weights at
the thesis's shapes (LSTM/GRU 1500 and 750, GNMT LSTM 1024 with input 1024
and 2048), median of --reps steps with cold weights.

--model names the trained model; give it twice for an LSTM and a GRU (the
first is the main model). --little optionally gives little modules written by
dmi fit for each --model, used where their ε, width and seed match; the others are
fitted on --calib-tokens training tokens. --small is a model of the main
model's cell with half its hidden units (Tables B.1/B.2 and B.4). Quality
runs stream the first --tokens tokens of the valid split at batch 1.

  3.1  Gaussian noise on the sensitive vs insensitive half of each gate
  3.2  PPL and time against the insensitive ratio (LSTM, GRU, GNMT shape)
  3.4  ε of eq. 3.9 against PPL, speedup and little/big time shares
  3.5  little-module precision against PPL, fit MSE and size
  B.1  LSTM at hidden 1500 and 750;  B.2  the same for GRU
  B.3  GNMT-shaped LSTM timing;      B.4  DMI vs magnitude pruning and a half-width model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDMITable(cmd, f, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.which, "which", "all", "tables: all, or a comma list of "+strings.Join(experiments.IDs(), ", "))
	fl.StringArrayVar(&f.models, "model", nil, "trained model file; repeat for the other cell (first: main model)")
	fl.StringArrayVar(&f.littles, "little", nil, "little modules from dmi fit for the matching --model (optional)")
	fl.StringVar(&f.small, "small", "", "model of the main model's cell with half its hidden units (optional)")
	intFlag(fl, &f.tokens, "tokens", 5000, atLeast(2), "evaluation tokens from the start of the valid split")
	intFlag(fl, &f.calibTokens, "calib-tokens", 20000, atLeast(1), "calibration tokens from the start of the training split")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of projections, noise and timing weights")
	fl.StringVar(&f.out, "out", "", "write the Markdown to this file instead of stdout")
	fl.StringVar(&f.plots, "plots", "", "directory for PNG plots of PPL and speedup against the ratio")
	fl.BoolVar(&f.asJSON, "json", false, "print the tables and their numbers as JSON")
	fl.BoolVar(&f.noTiming, "no-timing", false, "skip the timing runs")
	intFlag(fl, &f.reps, "reps", 200, atLeast(1), "timed steps per point (median reported)")
	threadsFlag(fl, &f.threads)
	intFlag(fl, &f.timingHidden, "timing-hidden", 1500, width(), "hidden units of the timed single layer")
	intFlag(fl, &f.timingSml, "timing-small", 750, width(), "hidden units of the half-width timed layer (B.1, B.2)")
	floatsFlag(fl, &f.noise, "noise", []float64{0.5}, atLeast(0), "Table 3.1 noise σ in units of each gate's pre-activation RMS")
	f.cf.add(cmd)
	return cmd
}

func runDMITable(cmd *cobra.Command, f dmiTableFlags, stdout, stderr io.Writer) error {
	ids, err := tableIDs(f.which)
	if err != nil {
		return err
	}
	switch {
	case len(f.models) == 0 || len(f.models) > 2:
		return fmt.Errorf("--model: give one or two models, got %d", len(f.models))
	case len(f.littles) > len(f.models):
		return fmt.Errorf("--little: %d files for %d models", len(f.littles), len(f.models))
	}
	c, err := f.cf.load()
	if err != nil {
		return err
	}
	load := func(path, little string) (*experiments.Model, error) {
		m, st, err := lm.Load(path)
		if err != nil {
			return nil, err
		}
		if err := checkModelVocab(path, m, st, c.Vocab); err != nil {
			return nil, err
		}
		em := &experiments.Model{Path: path, LM: m, State: st}
		if little != "" {
			if em.Little, err = dmi.LoadFor(little, m); err != nil {
				return nil, err
			}
			if em.Little.Fingerprint != dmi.Fingerprint(m) {
				return nil, fmt.Errorf("%s was not fitted to %s: %w", little, path, dmi.ErrMismatch)
			}
		}
		return em, nil
	}
	var cfg experiments.Config
	for i, p := range f.models {
		little := ""
		if i < len(f.littles) {
			little = f.littles[i]
		}
		m, err := load(p, little)
		if err != nil {
			return err
		}
		if i == 0 {
			cfg.Main = *m
		} else {
			cfg.Other = m
		}
	}
	if f.small != "" {
		if cfg.Small, err = load(f.small, ""); err != nil {
			return err
		}
	}
	valid := c.Stream(corpus.Valid)
	cfg.Eval = valid[:min(f.tokens, len(valid))]
	cfg.EvalName = fmt.Sprintf("the first %d tokens of the valid split", len(cfg.Eval))
	train := c.Stream(corpus.Train)
	cfg.Calib = train[:min(f.calibTokens, len(train))]
	cfg.Seed, cfg.Noise = f.seed, f.noise
	cfg.Timing = experiments.Timing{Off: f.noTiming, Reps: f.reps, Threads: f.threads, Hidden: f.timingHidden, Small: f.timingSml}
	pool := kernels.NewPool(f.threads)
	defer pool.Close()
	cfg.Pool = pool
	cfg.Progress = progressWriter(stderr)
	cfg.Command = func(id string) string { return reproduceCommand(cmd, id) }
	r, err := experiments.New(cfg)
	if err != nil {
		return err
	}

	var md bytes.Buffer
	var results []*experiments.Result
	for _, id := range ids {
		res, err := r.Run(id)
		if err != nil {
			return err
		}
		results = append(results, res)
		if err := res.Table.Markdown(&md); err != nil {
			return err
		}
		if f.plots != "" {
			if err := os.MkdirAll(f.plots, 0o755); err != nil {
				return err
			}
			for _, p := range res.Plots {
				if err := p.Plot.SavePNG(filepath.Join(f.plots, p.Name), 0, 0); err != nil {
					return err
				}
			}
		}
	}
	if f.out != "" {
		if err := os.WriteFile(f.out, md.Bytes(), 0o644); err != nil {
			return err
		}
	}
	switch {
	case f.asJSON:
		return writeJSON(stdout, results)
	case f.out == "":
		_, err = stdout.Write(md.Bytes())
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote tables %s to %s\n", strings.Join(ids, ", "), f.out)
	return err
}

// tableIDs parses --which.
func tableIDs(which string) ([]string, error) {
	if which == "all" {
		return experiments.IDs(), nil
	}
	var ids []string
	for _, id := range strings.Split(which, ",") {
		id = strings.TrimSpace(id)
		if !slices.Contains(experiments.IDs(), id) {
			return nil, fmt.Errorf("--which %q: %w", id, experiments.ErrTable)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// reproducedFlags returns the flags that shape a table, in the order the
// reproducing command lists them.
func reproducedFlags() []string {
	return []string{"model", "little", "small", "data", "min-count", "tokens", "calib-tokens",
		"seed", "noise", "no-timing", "reps", "threads", "timing-hidden", "timing-small"}
}

// reproduceCommand returns the command line that rebuilds table id: this
// command's flags as set, with --which id and without the output flags.
func reproduceCommand(cmd *cobra.Command, id string) string {
	args := []string{"elastic", "dmi", "table", "--which", id}
	for _, name := range reproducedFlags() {
		fl := cmd.Flags().Lookup(name)
		if fl == nil || !fl.Changed {
			continue
		}
		sv, ok := fl.Value.(interface{ GetSlice() []string })
		switch {
		case ok && fl.Value.Type() == "stringArray":
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+name, shellQuote(v))
			}
		case ok:
			vs := sv.GetSlice()
			if fl.Value.Type() == "float64Slice" {
				for i, v := range vs {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						vs[i] = strconv.FormatFloat(f, 'g', -1, 64)
					}
				}
			}
			args = append(args, "--"+name, shellQuote(strings.Join(vs, ",")))
		case fl.Value.Type() == "bool":
			args = append(args, "--"+name+"="+fl.Value.String())
		default:
			args = append(args, "--"+name, shellQuote(fl.Value.String()))
		}
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,=:+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
