package bench

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/elasticml/elastic/kernels"
)

// GemvConfig describes one `elastic bench gemv` run.
type GemvConfig struct {
	Rows, Cols int
	Keep       float64 // fraction of rows the gather kernel computes, in (0, 1]
	Reps       int     // timed repetitions per kernel (median reported); ≥ 20 recommended
	Threads    int     // pool workers; ≤ 0 means GOMAXPROCS
	Seed       uint64
	LLC        int       // last-level cache bytes; 0 means LastLevelCache()
	Progress   io.Writer // optional one-line-per-phase progress; nil for none
}

// GemvResult holds the figures of one run. Times are per call in ms.
type GemvResult struct {
	Impl       string  `json:"impl"`
	Threads    int     `json:"threads"`
	Rows       int     `json:"rows"`
	Cols       int     `json:"cols"`
	Keep       float64 `json:"keep"`
	Reps       int     `json:"reps"`
	LLCBytes   int     `json:"llc_bytes"`
	CopyGBps   float64 `json:"copy_gbps"`
	ReadGBps   float64 `json:"read_gbps"`
	DenseMs    float64 `json:"dense_ms"`
	DenseGBps  float64 `json:"dense_gbps"`
	DenseOfBW  float64 `json:"dense_fraction_of_copy"`
	DenseOfRd  float64 `json:"dense_fraction_of_read"`
	GatherMs   float64 `json:"gather_ms"`
	GatherRel  float64 `json:"gather_over_dense"`
	Int8Ms     float64 `json:"int8_ms"`
	Int8Speed  float64 `json:"int8_speedup"`
	Int4Ms     float64 `json:"int4_ms"`
	Int4Speed  float64 `json:"int4_speedup"`
	HalfMs     float64 `json:"half_ms"`
	HalfGBps   float64 `json:"half_gbps"`
	HalfOfF32  float64 `json:"half_gbps_over_dense"`
	HalfGthMs  float64 `json:"half_gather_ms"`
	HalfGthRel float64 `json:"half_gather_gbps_over_gather"`
	CopyTiming Timing  `json:"copy_timing"`
	ReadTiming Timing  `json:"read_timing"`
	Dense      Timing  `json:"dense_timing"`
	Gather     Timing  `json:"gather_timing"`
	Int8       Timing  `json:"int8_timing"`
	Int4       Timing  `json:"int4_timing"`
	Half       Timing  `json:"half_timing"`
	HalfGather Timing  `json:"half_gather_timing"`
}

// ErrConfig reports an unusable benchmark configuration.
var ErrConfig = errors.New("bench: bad configuration")

func (c *GemvConfig) check() error {
	switch {
	case c.Rows < 1 || c.Cols < 1:
		return fmt.Errorf("%w: rows and cols must be positive (got %d×%d)", ErrConfig, c.Rows, c.Cols)
	case !(c.Keep > 0 && c.Keep <= 1):
		return fmt.Errorf("%w: keep must be in (0, 1] (got %g)", ErrConfig, c.Keep)
	case c.Reps < 1:
		return fmt.Errorf("%w: reps must be positive (got %d)", ErrConfig, c.Reps)
	case int64(c.Rows)*int64(c.Cols) > 1<<31:
		return fmt.Errorf("%w: %d×%d exceeds 2^31 weights", ErrConfig, c.Rows, c.Cols)
	}
	return nil
}

// RunGemv measures, in one process: copy bandwidth, streaming-read
// bandwidth, dense float32 GEMV, row-gather GEMV over a random fraction
// Keep of the rows, INT8 GEMV and INT4 GEMV (both including the run-time
// quantization of x), and the float16 GEMV. Each kernel
// rotates through enough copies of its weights to exceed the last-level
// cache, so every repetition reads its weights from memory. The operations
// are interleaved round by round, and the ratios against dense are medians
// of per-round ratios, so a shared machine's drift cancels out.
func RunGemv(cfg GemvConfig) (*GemvResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.LLC <= 0 {
		cfg.LLC = LastLevelCache()
	}
	p := kernels.NewPool(cfg.Threads)
	defer p.Close()
	res := &GemvResult{
		Impl: kernels.Impl(), Threads: p.Workers(), Rows: cfg.Rows, Cols: cfg.Cols,
		Keep: cfg.Keep, Reps: cfg.Reps, LLCBytes: cfg.LLC,
	}
	say := func(format string, a ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", a...)
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xbe9c))
	rows, cols := cfg.Rows, cfg.Cols

	x := make([]float32, cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	b := make([]float32, rows)
	y := make([]float32, rows)
	keep := max(1, int(cfg.Keep*float64(rows)+0.5))
	idx := make([]int32, rows)
	for i := range idx {
		idx[i] = int32(i)
	}
	rng.Shuffle(rows, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	idx = idx[:keep]
	slices.Sort(idx) // selectors emit ascending indices; so does DMI

	say("allocating: copy buffers %d MiB ×2, weights in float32, INT8, INT4 (each ≥ 2× LLC)…", 4*cfg.LLC>>20)
	copyOp, moved := CopyProbe(p, 4*cfg.LLC)
	readOp, read := ReadProbe(p, 4*cfg.LLC)

	// Dense float32 and the gather kernel share the same weight copies.
	wBytes := rows * cols * 4
	nW := Copies(wBytes, cfg.LLC)
	ws := make([][]float32, nW)
	for c := range ws {
		ws[c] = kernels.Make[float32](rows * cols)
		fillUniform(p, ws[c], cfg.Seed+uint64(c))
	}
	scales := make([]float32, rows)
	for i := range scales {
		scales[i] = 1.0 / 127
	}
	xq := make([]int8, cols)
	q8Bytes := rows * cols
	n8 := Copies(q8Bytes, cfg.LLC)
	q8 := make([][]int8, n8)
	for c := range q8 {
		q8[c] = kernels.Make[int8](q8Bytes)
		fillBytes(p, q8[c], cfg.Seed+uint64(c))
	}
	q4Bytes := rows * ((cols + 1) / 2)
	n4 := Copies(q4Bytes, cfg.LLC)
	q4 := make([][]byte, n4)
	for c := range q4 {
		q4[c] = kernels.Make[byte](q4Bytes)
		fillBytes(p, q4[c], cfg.Seed+uint64(c)+1000)
	}

	hBytes := rows * cols * 2
	nH := Copies(hBytes, cfg.LLC)
	hs := make([][]uint16, nH)
	for c := range hs {
		hs[c] = kernels.Make[uint16](rows * cols)
		kernels.ToHalf(hs[c], ws[c%nW])
	}

	say("timing %d interleaved rounds: copy, read, dense, gather (%d of %d rows), int8, int4, float16, float16 gather…", cfg.Reps, keep, rows)
	ts, raw := MeasureRounds(cfg.Reps,
		copyOp,
		readOp,
		func(i int) { p.Gemv(y, ws[i%nW], cols, x, b) },
		func(i int) { p.GemvGather(y, ws[i%nW], cols, x, b, idx) },
		func(i int) {
			s := kernels.QuantizeInt8(xq, x)
			p.GemvInt8(y, q8[i%n8], scales, cols, xq, s, b)
		},
		func(i int) {
			s := kernels.QuantizeInt8(xq, x)
			p.GemvInt4(y, q4[i%n4], scales, cols, xq, s, b)
		},
		func(i int) { p.GemvHalf(y, hs[i%nH], cols, x, b) },
		func(i int) { p.GemvHalfGather(y, hs[i%nH], cols, x, b, idx) },
	)
	const (
		iCopy = iota
		iRead
		iDense
		iGather
		iInt8
		iInt4
		iHalf
		iHalfGather
	)
	res.CopyTiming, res.ReadTiming, res.Dense, res.Gather = ts[iCopy], ts[iRead], ts[iDense], ts[iGather]
	res.Int8, res.Int4, res.Half, res.HalfGather = ts[iInt8], ts[iInt4], ts[iHalf], ts[iHalfGather]
	res.CopyGBps = float64(moved) / (res.CopyTiming.Median * 1e6)
	res.ReadGBps = float64(read) / (res.ReadTiming.Median * 1e6)
	res.DenseMs = res.Dense.Median
	res.DenseGBps = float64(wBytes) / (res.DenseMs * 1e6)
	// Paired per-round ratios: each against the operation timed beside it.
	// Bandwidth ratios are ratios of bytes over times, so the bytes are
	// scaled out of the paired time ratios.
	res.DenseOfBW = PairedRatio(raw[iCopy], raw[iDense]) * float64(wBytes) / float64(moved)
	res.DenseOfRd = PairedRatio(raw[iRead], raw[iDense]) * float64(wBytes) / float64(read)
	res.GatherMs = res.Gather.Median
	res.GatherRel = PairedRatio(raw[iGather], raw[iDense])
	res.Int8Ms = res.Int8.Median
	res.Int8Speed = PairedRatio(raw[iDense], raw[iInt8])
	res.Int4Ms = res.Int4.Median
	res.Int4Speed = PairedRatio(raw[iDense], raw[iInt4])
	res.HalfMs = res.Half.Median
	res.HalfGBps = float64(hBytes) / (res.HalfMs * 1e6)
	res.HalfOfF32 = PairedRatio(raw[iDense], raw[iHalf]) * float64(hBytes) / float64(wBytes)
	res.HalfGthMs = res.HalfGather.Median
	res.HalfGthRel = PairedRatio(raw[iGather], raw[iHalfGather]) * float64(hBytes) / float64(wBytes)
	return res, nil
}

// fillUniform fills w with seeded values in [-1, 1), in parallel chunks
// whose content depends only on the seed and the chunk's position.
func fillUniform(p *kernels.Pool, w []float32, seed uint64) {
	const chunk = 1 << 20
	p.For((len(w)+chunk-1)/chunk, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			r := rand.New(rand.NewPCG(seed, uint64(c)))
			end := min(len(w), (c+1)*chunk)
			for i := c * chunk; i < end; i++ {
				w[i] = float32(2*r.Float64() - 1)
			}
		}
	})
}

func fillBytes[T int8 | byte](p *kernels.Pool, q []T, seed uint64) {
	const chunk = 1 << 20
	p.For((len(q)+chunk-1)/chunk, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			r := rand.New(rand.NewPCG(seed, uint64(c)))
			end := min(len(q), (c+1)*chunk)
			for i := c * chunk; i < end; i++ {
				q[i] = T(r.Uint32())
			}
		}
	})
}
