package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/screen"
	"github.com/elasticml/elastic/screen/experiments"
	"github.com/elasticml/elastic/screen/synth"
	"github.com/elasticml/elastic/wordnet"
)

var compareWorkloads = []string{"synth", "lm", "file", "wordnet"}

// hnswSpaceBoth is --hnsw-space both: every space of experiments.Spaces.
const hnswSpaceBoth = "both"

// compareFlags configure `elastic screen compare`.
type compareFlags struct {
	workload string
	cls      classifierFlags // lm and file workloads; --tokens and --threads for all

	classes, dim int // synth
	seed         uint64

	model        string // wordnet
	wnDir        string
	splitSeed    uint64
	lemmaSamples bool

	tests, reps int
	methods     []string
	cold        bool
	llcMiB      int

	ms       []int
	bits     int
	kRatio   float64
	bitsList []int
	kRatios  []float64

	svdWindows, svdCands []int

	hnswEf        []int
	hnswM, hnswEC int
	hnswSpace     string

	asJSON bool
	plot   string
}

func newScreenCompare(stdout, stderr io.Writer) *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Quality vs speed-up of screening, SVD-softmax, HNSW and full classification on one workload",
		Long: `compare measures, in one process and on one classifier, the top-1 agreement
with the full classifier, top-5 recall, accuracy (when labels are known) and
speed-up of approximate screening at each top-m of --m, SVD-softmax at each
preview window × candidate count, HNSW graph search at each efSearch (on a
graph in each space of --hnsw-space: inner products, ip, and the Euclidean
reduction of maximum inner product search, ippt; each row names its space),
and the full classification itself (thesis Figure 6.10). Every method is timed at
batch 1, round by round against the same full dense GEMV + top-5 on the same
pool (clsmetrics.Task.Time), so the speed-ups share one baseline. With
--bits-list or --k-ratios it also sweeps the screener's precision at
--k-ratio and its k/d at --bits (Figure 6.11), one curve per screener.

Timing is warm by default: the classifier and each method's structures stay
in the caches between queries, so a classifier smaller than the last-level
cache is read at cache speed, not streamed from memory as on a server whose
other layers displace it. --cold evicts all caches before every timed call
(untimed): it writes through a buffer of twice the last-level cache (or
--llc-mib) on the pool, so every method and the full classification read
their data from memory. Each eviction moves about four times the cache's
bytes, so cold runs take longer.

Workloads:
  synth    a synthetic classifier (package screen/synth) of --classes × --dim;
           calibration and test vectors are drawn from its input model
  lm       a language model (--classifier): the decoder is the classifier, the
           last layer's state over training tokens calibrates and over
           validation tokens tests; the label is the next token
  file     tensors --weight/--bias of --classifier and the vectors of --hidden:
           the last --tests rows test, the ones before calibrate
  wordnet  a wn checkpoint (--model): the tanh layer's output over a sample of
           training examples calibrates, over test examples tests; the label
           is the synset

--tokens is the number of calibration vectors in every workload.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScreenCompare(stdout, stderr, &f)
		},
	}
	f.cls.add(cmd, "calibration vectors: drawn (synth), training tokens (lm), rows of --hidden (file), training examples (wordnet)", 20000)
	fl := cmd.Flags()
	fl.StringVar(&f.workload, "workload", "synth", "synth, lm, file or wordnet")
	intFlag(fl, &f.classes, "classes", 267744, atLeast(clsmetrics.RefK), "synth: classes l")
	intFlag(fl, &f.dim, "dim", 512, closed(1, synth.MaxDim), "synth: hidden width d")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the synthetic classifier and vectors, the projection, the HNSW levels and the WordNet samples")
	fl.StringVar(&f.model, "model", "", "wordnet: checkpoint written by wn train")
	fl.StringVar(&f.wnDir, "wordnet-dir", "", "wordnet: WordNet directory (default "+wordnet.DefaultDir+")")
	fl.Uint64Var(&f.splitSeed, "split-seed", 1, "wordnet: seed of the held-out split the model was trained with")
	fl.BoolVar(&f.lemmaSamples, "lemma-samples", true, "wordnet: the model was trained with lemma samples")
	intFlag(fl, &f.tests, "tests", 1000, atLeast(1), "test inputs, scored for quality and cycled through for timing")
	intFlag(fl, &f.reps, "reps", 20, atLeast(1), "timed rounds per budget (one method query and one full query each)")
	fl.BoolVar(&f.cold, "cold", false, "evict all caches before every timed call (default warm: structures stay cached between queries)")
	intFlag(fl, &f.llcMiB, "llc-mib", 0, llcDomain(), "with --cold: last-level cache in MiB; the evictor writes twice that (default: read from sysfs)")
	fl.StringSliceVar(&f.methods, "methods", experiments.Methods(), "methods to run, in order: full, screen, svd, hnsw")
	intsFlag(fl, &f.ms, "m", []int{8, 16, 32, 64, 128, 256}, atLeast(1), "screen: candidate counts (top-m)")
	intFlag(fl, &f.bits, "bits", 4, bitWidths(), "screen: weight width (32: float)")
	floatFlag(fl, &f.kRatio, "k-ratio", screen.DefaultKRatio, unitRight(), "screen: k/d")
	intsFlag(fl, &f.bitsList, "bits-list", nil, bitWidths(), "sensitivity: also screeners of these widths at --k-ratio (e.g. 32,8,4,2)")
	floatsFlag(fl, &f.kRatios, "k-ratios", nil, unitRight(), "sensitivity: also screeners of these k/d at --bits (e.g. 0.125,0.25,0.5)")
	intsFlag(fl, &f.svdWindows, "svd-windows", []int{16, 32, 64}, atLeast(1), "svd: preview windows (leading singular directions)")
	intsFlag(fl, &f.svdCands, "svd-cands", []int{128, 512, 2048}, atLeast(clsmetrics.RefK), "svd: candidates recomputed at full width")
	intsFlag(fl, &f.hnswEf, "hnsw-ef", []int{16, 32, 64, 128, 256}, atLeast(1), "hnsw: efSearch values")
	intFlag(fl, &f.hnswM, "hnsw-m", 16, closed(2, 256), "hnsw: links per node (2M on the bottom layer)")
	intFlag(fl, &f.hnswEC, "hnsw-ef-construction", 100, atLeast(1), "hnsw: candidate list size while building")
	choiceFlag(fl, &f.hnswSpace, "hnsw-space", hnswSpaceBoth, append(experiments.Spaces(), hnswSpaceBoth),
		"hnsw: the graph on inner products (ip), on Euclidean distances after the inner-product preserving transformation (ippt), or one graph of each, every row labelled with its space")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object instead of the markdown table")
	fl.StringVar(&f.plot, "plot", "", "write top-1 agreement vs speed-up, one line per method (per window for svd, per space for hnsw), to this PNG file")
	return cmd
}

func (f *compareFlags) has(method string) bool { return slices.Contains(f.methods, method) }

// check validates the workload's flags before any data is read; the
// methods' are checked by experiments.Config.Check.
func (f *compareFlags) check() error {
	if !slices.Contains(compareWorkloads, f.workload) {
		return fmt.Errorf("unknown --workload %q (want %s)", f.workload, strings.Join(compareWorkloads, ", "))
	}
	switch f.workload {
	case "synth":
		return f.synth().Check()
	case "lm":
		if f.cls.hidden != "" {
			return errors.New("--hidden goes with --workload file; --workload lm runs the model for its vectors")
		}
		f.cls.useLM = true
	case "file":
		if f.cls.hidden == "" || f.cls.useLM {
			return errors.New("--workload file needs --hidden and no --lm (use --workload lm for a language model)")
		}
	case "wordnet":
		return f.wordnet().Check()
	}
	return nil
}

func (f *compareFlags) synth() experiments.SynthConfig {
	return experiments.SynthConfig{Classes: f.classes, Dim: f.dim, Seed: f.seed, Calib: f.cls.tokens, Tests: f.tests}
}

func (f *compareFlags) wordnet() experiments.WordNetConfig {
	return experiments.WordNetConfig{Model: f.model, Dir: f.wnDir, SplitSeed: f.splitSeed, LemmaSamples: f.lemmaSamples,
		Seed: f.seed, Calib: f.cls.tokens, Tests: f.tests}
}

// loader is the workload of the flags. The lm and file workloads read the
// classifier as `screen fit` and `screen eval` do (classifierFlags).
func (f *compareFlags) loader() experiments.Loader {
	switch f.workload {
	case "synth":
		return f.synth().Load
	case "wordnet":
		return f.wordnet().Load
	case "lm":
		return func(pool *kernels.Pool, say func(string, ...any)) (*experiments.Workload, error) {
			src, err := f.cls.open(0, nil)
			if err != nil {
				return nil, err
			}
			say("running %s over %d training tokens (calibration) and %d validation tokens (test)…", f.cls.path, f.cls.tokens, f.tests)
			calib, _, err := f.cls.vectorsN(src, corpus.Train, f.cls.tokens, pool)
			if err != nil {
				return nil, err
			}
			test, labels, err := f.cls.vectorsN(src, corpus.Valid, f.tests, pool)
			if err != nil {
				return nil, err
			}
			lin := src.lin
			return &experiments.Workload{Source: f.cls.path, W: lin.W, B: lin.B, L: lin.N, D: lin.D,
				Calib: calib, Test: test, Labels: labels, LabelMeaning: "the next token"}, nil
		}
	}
	return func(*kernels.Pool, func(string, ...any)) (*experiments.Workload, error) {
		src, err := f.cls.open(f.cls.tokens+f.tests, nil)
		if err != nil {
			return nil, err
		}
		lin := src.lin
		return experiments.SplitVectors(f.cls.path+" with "+f.cls.hidden, lin.W, lin.B, lin.N, lin.D, src.hidden, src.labels, f.tests)
	}
}

// config is the experiments.Config of the flags.
func (f *compareFlags) config(stderr io.Writer) experiments.Config {
	spaces := []string{f.hnswSpace}
	if f.hnswSpace == hnswSpaceBoth {
		spaces = experiments.Spaces()
	}
	return experiments.Config{
		Workload: f.workload, Command: f.command(), Load: f.loader(),
		Threads: f.cls.threads, Seed: f.seed, Reps: f.reps, Methods: f.methods, Cold: f.cold, LLCMiB: f.llcMiB,
		Ms: f.ms, Bits: f.bits, KRatio: f.kRatio, BitsList: f.bitsList, KRatios: f.kRatios,
		SVDWindows: f.svdWindows, SVDCands: f.svdCands,
		HNSWEf: f.hnswEf, HNSWM: f.hnswM, HNSWEfConstruction: f.hnswEC, HNSWSpaces: spaces,
		Plot: f.plot, Progress: stderr,
	}
}

func runScreenCompare(stdout, stderr io.Writer, f *compareFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	res, err := experiments.Compare(f.config(stderr))
	if err != nil {
		return err
	}
	if f.asJSON {
		return writeJSON(stdout, res)
	}
	return res.Markdown(stdout)
}

// command returns a command line that repeats the run.
func (f *compareFlags) command() string {
	ints := func(v []int) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
	a := []string{"elastic screen compare", "--workload " + f.workload}
	switch f.workload {
	case "synth":
		a = append(a, fmt.Sprintf("--classes %d --dim %d", f.classes, f.dim))
	case "lm":
		a = append(a, "--classifier "+f.cls.path)
	case "file":
		a = append(a, fmt.Sprintf("--classifier %s --weight %s --bias %q --hidden %s", f.cls.path, f.cls.weight, f.cls.bias, f.cls.hidden))
	case "wordnet":
		a = append(a, "--model "+f.model)
	}
	a = append(a, fmt.Sprintf("--seed %d --tokens %d --tests %d --reps %d --threads %d --methods %s",
		f.seed, f.cls.tokens, f.tests, f.reps, f.cls.threads, strings.Join(f.methods, ",")))
	if f.cold {
		a = append(a, "--cold")
		if f.llcMiB > 0 {
			a = append(a, fmt.Sprintf("--llc-mib %d", f.llcMiB))
		}
	}
	if f.has(experiments.MethodScreen) {
		a = append(a, fmt.Sprintf("--m %s --bits %d --k-ratio %g", ints(f.ms), f.bits, f.kRatio))
		if len(f.bitsList) > 0 {
			a = append(a, "--bits-list "+ints(f.bitsList))
		}
		if len(f.kRatios) > 0 {
			s := make([]string, len(f.kRatios))
			for i, k := range f.kRatios {
				s[i] = strconv.FormatFloat(k, 'g', -1, 64)
			}
			a = append(a, "--k-ratios "+strings.Join(s, ","))
		}
	}
	if f.has(experiments.MethodSVD) {
		a = append(a, "--svd-windows "+ints(f.svdWindows), "--svd-cands "+ints(f.svdCands))
	}
	if f.has(experiments.MethodHNSW) {
		a = append(a, fmt.Sprintf("--hnsw-ef %s --hnsw-m %d --hnsw-ef-construction %d --hnsw-space %s", ints(f.hnswEf), f.hnswM, f.hnswEC, f.hnswSpace))
	}
	return strings.Join(a, " ")
}
