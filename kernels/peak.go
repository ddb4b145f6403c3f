package kernels

import (
	"math"
	"sync/atomic"
	"time"
)

// PeakGFLOPS measures the float32 multiply-add throughput of the pool's
// workers, in 10⁹ floating-point operations per second (an FMA counts as
// two), at the instruction set the attention kernels use: independent
// VFMADD231PS chains on ZMM registers with AVX-512, on YMM with AVX2, and
// scalar multiply-adds in pure Go. Every worker runs chains for about d;
// the figure is the operations they completed over the wall time, so on a
// loaded machine it measures what the kernels could get, not the CPU's
// data-sheet peak. Attention benchmarks report their GFLOPS beside it.
func PeakGFLOPS(p *Pool, d time.Duration) float64 {
	return peakGFLOPS(p, attnKernelF32(), d)
}

// peakBatch is the iterations of one peak call, a few microseconds.
const peakBatch = 1 << 12

func peakGFLOPS(p *Pool, ak attnKernel, d time.Duration) float64 {
	workers := p.Workers()
	var ops atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	run := func(lo, hi int) {
		for range hi - lo {
			n := int64(0)
			for {
				ak.peak(peakBatch)
				n++
				if !time.Now().Before(deadline) {
					break
				}
			}
			ops.Add(n * peakBatch * int64(ak.peakFlops))
		}
	}
	p.For(workers, 1, run)
	secs := time.Since(start).Seconds()
	return float64(ops.Load()) / secs / 1e9
}

// peakFMAGeneric is the pure-Go probe: eight independent multiply-add
// chains whose operands the compiler cannot fold: a = 1 and b = 0 are
// computed from iters (below 2^62), not constants.
func peakFMAGeneric(iters int) {
	b := float32(iters >> 62)
	a := 1 + b
	var x0, x1, x2, x3, x4, x5, x6, x7 float32 = 1, 2, 3, 4, 5, 6, 7, 8
	for range iters {
		x0 = x0*a + b
		x1 = x1*a + b
		x2 = x2*a + b
		x3 = x3*a + b
		x4 = x4*a + b
		x5 = x5*a + b
		x6 = x6*a + b
		x7 = x7*a + b
	}
	if math.IsNaN(float64(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7)) {
		panic("kernels: peak probe lost its operands")
	}
}
