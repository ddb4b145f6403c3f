package main

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/budget"
	"github.com/elasticml/elastic/dmi"
	"github.com/elasticml/elastic/screen"
)

// The estimates below are of the bytes a command allocates, taken from its
// flags before it allocates any; each is checked against the memory limit
// by budget.Check, whose error names the flags. They are upper bounds of
// the large buffers, not exact counts.

// llcDomain bounds --llc-mib: a last-level cache of 1 GiB is beyond any
// CPU made; the flag sizes buffers of several times it.
func llcDomain() domain { return closed(1, 1024) }

// llcBytes is the cache size a bench command will use.
func llcBytes(cfgLLC int) int {
	if cfgLLC > 0 {
		return cfgLLC
	}
	return bench.LastLevelCache()
}

// gemvBudget: two copy buffers of 4 LLC each, and float32, INT8 and INT4
// weights, each rotated over copies spanning twice the cache.
func gemvBudget(cfg bench.GemvConfig) error {
	llc := llcBytes(cfg.LLC)
	n := budget.Mul(cfg.Rows, cfg.Cols)
	need := budget.Add(budget.Mul(8, llc), budget.Mul(3, 2, llc), budget.Mul(6, int(min(n, 1<<61))))
	return budget.Check(fmt.Sprintf("--rows %d × --cols %d with a %d MiB cache (--llc-mib)", cfg.Rows, cfg.Cols, llc>>20), need)
}

// fitBudget: the n×d map, a chunk of inputs and targets, and the float64
// Gram and cross moments of the k+1 projected features.
func fitBudget(cfg bench.FitConfig) error {
	k1 := cfg.K + 1
	need := budget.Add(
		budget.Mul(4, cfg.N, cfg.D),
		budget.Mul(4, cfg.Chunk, cfg.N+cfg.D),
		budget.Mul(8, k1, k1),
		budget.Mul(8, k1, cfg.N+cfg.D),
		budget.Mul(8, cfg.N, k1),
	)
	return budget.Check(fmt.Sprintf("--n %d × --d %d (--k %d, --chunk %d)", cfg.N, cfg.D, cfg.K, cfg.Chunk), need)
}

// dmiBenchBudget: the layer's float32 weights, rotated over copies spanning
// twice the cache, the float64 moments of the fit (at most as wide as the
// inputs) and the copy-probe buffers.
func dmiBenchBudget(cfg dmi.BenchConfig) error {
	in := cfg.Input
	if in == 0 {
		in = cfg.Hidden
	}
	llc := llcBytes(cfg.LLC)
	rows := budget.Mul(cfg.Cell.Gates(), cfg.Hidden)
	weights := budget.Mul(4, int(min(rows, 1<<40)), in+cfg.Hidden+2)
	need := budget.Add(
		budget.Mul(3, int(min(weights, 1<<60))),
		budget.Mul(2, int(min(weights, 1<<60))), // moments in float64 of the same shape
		budget.Mul(8, in+cfg.Hidden+1, in+cfg.Hidden+1),
		budget.Mul(10, llc),
	)
	return budget.Check(fmt.Sprintf("--hidden %d, --input %d", cfg.Hidden, in), need)
}

// screenBenchBudget: the classifier and its cold copies (capped by
// screen.MaxBenchBytes), the screener's codes, each classifier copy's
// scratch of three l-vectors, the calibration vectors and, per batch, the
// inputs and three l-wide outputs per input.
func screenBenchBudget(cfg screen.BenchConfig) error {
	wSize := 4
	if cfg.Half {
		wSize = 2
	}
	llc := llcBytes(cfg.LLC)
	l, d := cfg.Classes, cfg.Dim
	k := int(math.Ceil(cfg.KRatio * float64(d)))
	bits := max(int(cfg.Bits), 4)
	w := budget.Mul(l, wSize*d+4)
	copies := min(budget.Add(w, budget.Mul(4, llc)), screen.MaxBenchBytes+w)
	calib := max(4096, 4*(k+1))
	if cfg.M == 0 {
		calib += max(400, min(screen.MinCalib(cfg.Delta), screen.MaxBenchCalib)+1)
	}
	need := budget.Add(
		copies,
		budget.Mul(2, l, (k*bits+7)/8+4),
		budget.Mul(3*4, l, max(1, 4*llc/max(1, int(min(w, 1<<40))))),
		budget.Mul(4, calib, d),
		budget.Mul(4, cfg.Batch, d+3*l),
	)
	return budget.Check(fmt.Sprintf("--classes %d × --dim %d at --batch %d", l, d, cfg.Batch), need)
}
