package main

import (
	"errors"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/screen"
)

// withMemoryLimit runs f under a soft memory limit, as main sets one, so
// that the budget checks have a limit to check against.
func withMemoryLimit(t *testing.T, limit int64, f func()) {
	t.Helper()
	old := debug.SetMemoryLimit(limit)
	defer debug.SetMemoryLimit(old)
	f()
}

// The flag probes of issue 11: each panicked, ran out of memory, hung or
// silently took a default before the flag domains and budget checks.
func TestIssue11FlagProbes(t *testing.T) {
	withMemoryLimit(t, 4<<30, func() {
		checkCLIErrors(t, []cliError{
			// --threads beyond kernels.NewPool's limit panicked on every command.
			{[]string{"bench", "gemv", "--threads", "32769"}, "--threads 32769: want in [1, 32768]"},
			{[]string{"bench", "dmi", "--threads", "32769"}, "--threads 32769"},
			{[]string{"bench", "screen", "--threads", "32769"}, "--threads 32769"},
			{[]string{"lm", "eval", "--threads", "32769"}, "--threads 32769"},
			{[]string{"wn", "eval", "--threads", "32769"}, "--threads 32769"},
			{[]string{"demo", "--threads", "32769"}, "--threads 32769"},
			{[]string{"screen", "compare", "--threads", "32769"}, "--threads 32769"},
			// --threads -1 and 0 are refused the same way everywhere.
			{[]string{"bench", "gemv", "--threads", "-1"}, "--threads -1: want in [1, 32768]"},
			{[]string{"bench", "fit", "--threads", "0"}, "unknown flag"}, // fit has no --threads
			{[]string{"bench", "screen", "--threads", "0"}, "--threads 0: want in [1, 32768]"},
			{[]string{"dmi", "fit", "--threads", "0"}, "--threads 0"},
			// Zero no longer means "default".
			{[]string{"bench", "screen", "--delta", "0"}, "--delta 0: want in (0, 1)"},
			{[]string{"bench", "screen", "--k-ratio", "0"}, "--k-ratio 0: want in (0, 1]"},
			{[]string{"bench", "screen", "--bits", "0"}, "--bits 0: want one of 2, 4, 8, 16, 32"},
			{[]string{"bench", "screen", "--batch", "0"}, "--batch 0: want ≥ 1"},
			{[]string{"bench", "screen", "--m", "0"}, "--m 0: want ≥ 1"},
			{[]string{"bench", "dmi", "--eps", "0"}, "--eps 0: want in (0, 1)"},
			{[]string{"bench", "dmi", "--bits", "0"}, "--bits 0"},
			{[]string{"bench", "dmi", "--input", "0"}, "--input 0"},
			{[]string{"dmi", "fit", "--eps", "0"}, "--eps 0"},
			{[]string{"screen", "fit", "--k-ratio", "0"}, "--k-ratio 0"},
			{[]string{"screen", "eval", "--delta", "0"}, "--delta 0"},
			{[]string{"lm", "train", "--emb", "0"}, "--emb 0"},
			{[]string{"lm", "eval", "--min-count", "0"}, "--min-count 0"},
			// NaN and ±Inf.
			{[]string{"lm", "train", "--max-minutes", "NaN"}, "--max-minutes NaN: NaN and ±Inf are not accepted"},
			{[]string{"wn", "train", "--max-minutes", "NaN"}, "--max-minutes NaN"},
			{[]string{"lm", "train", "--lr", "+Inf"}, "--lr +Inf"},
			{[]string{"dmi", "eval", "--theta", "nan"}, "--theta nan"},
			{[]string{"dmi", "eval", "--ratios", "0.5,NaN"}, "--ratios NaN"},
			{[]string{"bench", "gemv", "--keep", "1e400"}, "--keep 1e400"},
			// Panics in library constructors.
			{[]string{"screen", "fit", "--sgd", "--epochs", "-1"}, "--epochs -1: want ≥ 1"},
			{[]string{"bench", "gemv", "--cols", "100000"}, "--cols 100000: want in [1, 65536]"},
			{[]string{"bench", "dmi", "--input", "100000"}, "--input 100000: want in [1, 65536]"},
			// Out of memory at once: refused by a domain or the budget.
			{[]string{"bench", "dmi", "--hidden", "100000"}, "--hidden 100000: want in [1, 65536]"},
			{[]string{"bench", "dmi", "--hidden", "60000"}, "--hidden 60000, --input 60000 needs about"},
			{[]string{"bench", "fit", "--n", "1000000", "--d", "1000000"}, "--d 1000000: want in [1, 65536]"},
			{[]string{"bench", "fit", "--n", "1000000", "--d", "60000"}, "--n 1000000 × --d 60000 (--k 512, --chunk 1000) needs about"},
			{[]string{"bench", "gemv", "--llc-mib", "1000000"}, "--llc-mib 1000000: want in [1, 1024]"},
			{[]string{"bench", "gemv", "--rows", "1000000", "--cols", "60000"}, "--rows 1000000 × --cols 60000"},
			{[]string{"screen", "compare", "--tokens", "1e12"}, "--tokens 1e12: not an integer"},
			{[]string{"screen", "compare", "--tokens", "1000000000000"}, "--tokens 1000000000000 and --tests 1000 needs about"},
			// Hangs and unbounded growth.
			{[]string{"bench", "screen", "--dim", "100000"}, "--dim 100000: want in [1, 4096]"},
			{[]string{"bench", "screen", "--batch", "100000"}, "--classes 267744 × --dim 512 at --batch 100000 needs about"},
			// --llc-mib fixed: the budget counts cold copies of 4×LLC, which on
			// a 480 MiB L3 would exceed the test's limit before δ is checked.
			{[]string{"bench", "screen", "--delta", "1e-300", "--llc-mib", "32"}, "δ = 1e-300 needs"},
			{[]string{"demo", "--tokens", "100000000"}, "100000000 tokens asked"},
			// Devices and pipes that never end, as trace files.
			{[]string{"sim", "enmc", "--trace", "/dev/zero"}, "enmc: /dev/zero: not a regular file"},
			{[]string{"sim", "dram", "--trace", "/dev/zero"}, "dram: /dev/zero: not a regular file"},
			{[]string{"screen", "eval", "--lm", "--delta", "1e-19"}, "--delta 1e-19: conformal calibration on half of --tokens 2000 needs at least more than 2^63"},
			{[]string{"screen", "eval", "--lm", "--delta", "0.0001"}, "needs at least 9999 inputs"},
		})
	})
}

// Every numeric flag of every command is registered with a domain: a
// pflag int or float flag would accept 0, NaN or an out-of-range value
// silently.
func TestEveryNumericFlagHasADomain(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			switch f.Value.(type) {
			case intValue[int], intValue[int64], floatValue, *sliceValue[int], *sliceValue[float64]:
				return
			}
			if slices.Contains([]string{"int", "int64", "float", "float64", "float32", "ints", "floats", "intSlice", "float64Slice"}, f.Value.Type()) {
				t.Errorf("%s --%s is a plain pflag %s without a domain", c.CommandPath(), f.Name, f.Value.Type())
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(nil, nil))
}

// The budget estimates refuse what cannot fit but not the documented
// large runs: `bench screen --classes 10000000 --half` fits in the 80% of
// a 24 GB machine it was run on.
func TestBudgetEstimatesAdmitDocumentedRuns(t *testing.T) {
	withMemoryLimit(t, 24<<30/100*80, func() {
		half := screen.BenchConfig{Classes: 10_000_000, Dim: 512, Half: true, KRatio: screen.DefaultKRatio, Bits: 4,
			Delta: screen.DefaultDelta, Batch: 1, LLC: 32 << 20}
		if err := screenBenchBudget(half); err != nil {
			t.Errorf("10M×512 float16: %v", err)
		}
		half.Batch = 100_000
		if err := screenBenchBudget(half); !errors.Is(err, budget.ErrMemory) {
			t.Errorf("10M×512 at batch 100000: %v, want budget.ErrMemory", err)
		}
		if err := dmiBenchBudget(dmi.BenchConfig{Cell: nn.LSTMCell, Hidden: 1500, LLC: 32 << 20}); err != nil {
			t.Errorf("LSTM-1500: %v", err)
		}
		if err := gemvBudget(bench.GemvConfig{Rows: 33278, Cols: 1500, LLC: 32 << 20}); err != nil {
			t.Errorf("33278×1500 GEMV: %v", err)
		}
		if err := fitBudget(bench.FitConfig{N: 6000, D: 3000, K: 512, Samples: 20000, Chunk: 1000}); err != nil {
			t.Errorf("default fit: %v", err)
		}
	})
}
