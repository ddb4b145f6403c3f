package bench

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/elasticml/elastic/kernels"
)

// AttentionConfig describes one `elastic bench attention` run: dense tiled
// attention against DSA (thesis chapter 7) on synthetic inputs.
type AttentionConfig struct {
	Seq, Heads, Dim int
	Sparsities      []float64 // each in [0, 1): the share of keys each query drops
	Block           int       // 1, 4 or 8: column-vector blocks of §7.5.1
	Sigma           float64   // predictor width σ = k/d in (0, 1]
	Decode          bool      // also time one decoding step per cache length
	DecodeLens      []int     // cache lengths of the decode rows (batch = Heads)
	SoftmaxSweep    []float64 // sparsities of the row-softmax sweep (Fig. 7.10); none to skip
	Reps            int
	Threads         int // pool workers; ≤ 0 means GOMAXPROCS
	Seed            uint64
	Progress        io.Writer // optional one-line-per-phase progress
}

// AttentionRow is one sparsity's figures (times per call in ms, medians;
// speed-ups are medians of per-round ratios).
type AttentionRow struct {
	Sparsity       float64 `json:"sparsity"`
	TopK           int     `json:"topk"`
	DSAMs          float64 `json:"dsa_ms"`
	PredictorMs    float64 `json:"predictor_ms"`
	SparseMs       float64 `json:"sparse_ms"`
	Speedup        float64 `json:"speedup"`
	PredictorShare float64 `json:"predictor_over_dense"`
	Predictor      Timing  `json:"predictor_timing"`
	Sparse         Timing  `json:"sparse_timing"`
}

// SoftmaxRow is one sparsity of the row-softmax sweep (thesis Fig. 7.10):
// the sparse softmax over the kept keys of every row against the same
// kernel over all l keys (the dense row softmax), paired round by round.
type SoftmaxRow struct {
	Sparsity float64 `json:"sparsity"`
	TopK     int     `json:"topk"`
	DenseMs  float64 `json:"dense_ms"`
	SparseMs float64 `json:"sparse_ms"`
	Speedup  float64 `json:"speedup"`
}

// DecodeRow is one decoding step of Heads sequences against caches of L
// keys, dense and DSA, with the predictor's recall of the exact top-k.
type DecodeRow struct {
	L        int     `json:"l"`
	Sparsity float64 `json:"sparsity"`
	TopK     int     `json:"topk"`
	DenseMs  float64 `json:"dense_ms"`
	DSAMs    float64 `json:"dsa_ms"`
	Speedup  float64 `json:"speedup"`
	Recall   float64 `json:"recall"`
	Dense    Timing  `json:"dense_timing"`
	DSA      Timing  `json:"dsa_timing"`
}

// AttentionResult is the output of RunAttention.
type AttentionResult struct {
	Impl        string         `json:"impl"`
	Threads     int            `json:"threads"`
	Data        string         `json:"data"`
	Seq         int            `json:"seq"`
	Heads       int            `json:"heads"`
	Dim         int            `json:"dim"`
	Block       int            `json:"block"`
	Sigma       float64        `json:"sigma"`
	PredCols    int            `json:"predictor_cols"`
	Reps        int            `json:"reps"`
	PeakGFLOPS  float64        `json:"peak_gflops"`
	DenseMs     float64        `json:"dense_ms"`
	DenseGFLOPS float64        `json:"dense_gflops"`
	DenseOfPeak float64        `json:"dense_of_peak"`
	Dense       Timing         `json:"dense_timing"`
	Rows        []AttentionRow `json:"rows"`
	Decode      []DecodeRow    `json:"decode,omitempty"`
	Softmax     []SoftmaxRow   `json:"softmax,omitempty"`
}

func (c *AttentionConfig) check() error {
	switch {
	case c.Seq < 1 || c.Heads < 1 || c.Dim < 1:
		return fmt.Errorf("%w: seq, heads and dim must be positive (got %d, %d, %d)", ErrConfig, c.Seq, c.Heads, c.Dim)
	case c.Dim > kernels.MaxIntCols:
		return fmt.Errorf("%w: dim %d above %d", ErrConfig, c.Dim, kernels.MaxIntCols)
	case int64(c.Heads)*int64(c.Seq)*int64(c.Dim) > 1<<28:
		return fmt.Errorf("%w: heads×seq×dim = %d×%d×%d exceeds 2^28 values", ErrConfig, c.Heads, c.Seq, c.Dim)
	case c.Block != 1 && c.Block != 4 && c.Block != 8:
		return fmt.Errorf("%w: block must be 1, 4 or 8 (got %d)", ErrConfig, c.Block)
	case !(c.Sigma > 0 && c.Sigma <= 1):
		return fmt.Errorf("%w: sigma must be in (0, 1] (got %g)", ErrConfig, c.Sigma)
	case c.Reps < 1:
		return fmt.Errorf("%w: reps must be positive (got %d)", ErrConfig, c.Reps)
	case len(c.Sparsities) == 0:
		return fmt.Errorf("%w: no sparsity given", ErrConfig)
	}
	for _, s := range append(slices.Clone(c.Sparsities), c.SoftmaxSweep...) {
		if !(s >= 0 && s < 1) {
			return fmt.Errorf("%w: sparsity must be in [0, 1) (got %g)", ErrConfig, s)
		}
	}
	if c.Decode {
		for _, l := range c.DecodeLens {
			if l < 1 || int64(l)*int64(c.Heads)*int64(c.Dim) > 1<<28 {
				return fmt.Errorf("%w: decode length %d outside [1, 2^28/(heads·dim)]", ErrConfig, l)
			}
		}
	}
	return nil
}

// topKFor is the number of kept keys (or blocks) of n at sparsity s: at
// least one.
func topKFor(n int, s float64) int { return max(1, int(math.Round((1-s)*float64(n)))) }

// RunAttention measures, in one process: our dense
// tiled attention (kernels.Pool.Attention, never forming the l×l matrix),
// and for each sparsity the DSA path — the INT8 predictor Q̃K̃ᵀ over σ·d
// projected columns with its per-row top-k fused (Pool.PredictTopK), then
// SDDMM → sparse softmax → SpMM on the selected keys (Pool.SparseAttention)
// — each part timed, round by round against dense — and then the FMA
// peak probe. With Decode it also
// times one decoding step per cache length at the first sparsity. Inputs
// are synthetic (uniform q, k, v in [−1, 1], seeded; Q̃, K̃ = q·P, k·P with
// P a seeded ±1/√c matrix), so the recall says nothing about trained
// models.
func RunAttention(cfg AttentionConfig) (*AttentionResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	p := kernels.NewPool(cfg.Threads)
	defer p.Close()
	say := func(format string, a ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", a...)
		}
	}
	h, l, d := cfg.Heads, cfg.Seq, cfg.Dim
	c := max(1, int(math.Round(cfg.Sigma*float64(d))))
	res := &AttentionResult{
		Impl: kernels.Impl(), Threads: p.Workers(), Data: "synthetic: uniform q, k, v in [−1, 1]",
		Seq: l, Heads: h, Dim: d, Block: cfg.Block, Sigma: cfg.Sigma, PredCols: c, Reps: cfg.Reps,
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xa77e))
	n := h * l * d
	q, k, v := uniform(rng, n), uniform(rng, n), uniform(rng, n)
	proj := projection(rng, d, c)
	pq := make([]*kernels.Int8Rows, h)
	pk := make([]*kernels.PackedInt8, h)
	hd := l * d
	for i := range h {
		pq[i] = kernels.QuantizeRows(project(q[i*hd:(i+1)*hd], l, d, proj, c), l, c)
		pk[i] = kernels.PackInt8(kernels.QuantizeRows(project(k[i*hd:(i+1)*hd], l, d, proj, c), l, c))
	}
	scale := float32(1 / math.Sqrt(float64(d)))
	out, dense := make([]float32, n), make([]float32, n)
	groups := (l + cfg.Block - 1) / cfg.Block
	fns := []func(int){func(int) { p.Attention(dense, q, k, v, h, l, d, false) }}
	sps := make([][]kernels.SparseRows, len(cfg.Sparsities))
	for si, s := range cfg.Sparsities {
		topk := topKFor(groups, s)
		idx := make([]int32, h*l*topk)
		sps[si] = make([]kernels.SparseRows, h)
		fns = append(fns, func(int) {
			for i := range h {
				sps[si][i] = p.PredictTopK(pq[i], pk[i], topk, cfg.Block, idx[i*l*topk:(i+1)*l*topk])
			}
		}, func(int) {
			for i := range h {
				o := i * hd
				p.SparseAttention(out[o:o+hd], q[o:o+hd], k[o:o+hd], v[o:o+hd], d, d, sps[si][i], scale)
			}
		})
	}
	say("dense vs DSA at %d sparsities, %d rounds", len(cfg.Sparsities), cfg.Reps)
	ts, raw := MeasureRounds(cfg.Reps, fns...)
	// The probe runs after the rounds, on a pool whose workers are awake:
	// run first, on a fresh pool, it read half the peak (one worker ran
	// both chunks while the other was still waking).
	say("peak probe")
	res.PeakGFLOPS = kernels.PeakGFLOPS(p, 200*time.Millisecond)
	res.Dense = ts[0]
	res.DenseMs = ts[0].Median
	res.DenseGFLOPS = kernels.AttentionFlops(h, l, d, false) / (ts[0].Median * 1e6)
	res.DenseOfPeak = res.DenseGFLOPS / res.PeakGFLOPS
	for si, s := range cfg.Sparsities {
		pt, st := ts[1+2*si], ts[2+2*si]
		pr, sr := raw[1+2*si], raw[2+2*si]
		sum := make([]float64, len(pr))
		for i := range sum {
			sum[i] = pr[i] + sr[i]
		}
		res.Rows = append(res.Rows, AttentionRow{
			Sparsity: s, TopK: topKFor(groups, s), DSAMs: summarize(sum).Median,
			PredictorMs: pt.Median, SparseMs: st.Median,
			Speedup: PairedRatio(raw[0], sum), PredictorShare: PairedRatio(pr, raw[0]),
			Predictor: pt, Sparse: st,
		})
	}
	if len(cfg.SoftmaxSweep) > 0 {
		say("row-softmax sweep at %d sparsities", len(cfg.SoftmaxSweep))
		res.Softmax = runSoftmaxSweep(p, rng, h*l, l, cfg.SoftmaxSweep, cfg.Reps)
	}
	if cfg.Decode {
		for _, dl := range cfg.DecodeLens {
			say("decode, cache %d", dl)
			res.Decode = append(res.Decode, runDecode(p, rng, h, dl, d, c, cfg.Sparsities[0], cfg.Reps))
		}
	}
	return res, nil
}

// runSoftmaxSweep times kernels.Pool.SparseSoftmax on rows of l scores,
// all l kept (the dense row softmax) against topKFor(l, s) kept per row.
func runSoftmaxSweep(p *kernels.Pool, rng *rand.Rand, rows, l int, sweep []float64, reps int) []SoftmaxRow {
	scores := uniform(rng, rows*l)
	buf := make([]float32, rows*l)
	all := make([]int32, rows*l)
	for i := range all {
		all[i] = int32(i % l)
	}
	dense := kernels.SparseRows{Rows: rows, Cols: l, K: l, Block: 1, Idx: all}
	var out []SoftmaxRow
	for _, s := range sweep {
		k := topKFor(l, s)
		idx := make([]int32, rows*k)
		for i := range idx {
			idx[i] = int32(i % k) // which keys does not matter to the softmax
		}
		sp := kernels.SparseRows{Rows: rows, Cols: l, K: k, Block: 1, Idx: idx}
		ts, raw := MeasureRounds(reps,
			func(int) { p.SparseSoftmax(buf, scores, dense) },
			func(int) { p.SparseSoftmax(buf[:rows*k], scores[:rows*k], sp) })
		out = append(out, SoftmaxRow{Sparsity: s, TopK: k, DenseMs: ts[0].Median, SparseMs: ts[1].Median, Speedup: PairedRatio(raw[0], raw[1])})
	}
	return out
}

func uniform(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(2*r.Float64() - 1)
	}
	return x
}

// projection is a d×c matrix of ±1/√c, the stand-in for the predictor's
// fitted P·W̃ on synthetic inputs.
func projection(r *rand.Rand, d, c int) []float32 {
	p := make([]float32, d*c)
	s := float32(1 / math.Sqrt(float64(c)))
	for i := range p {
		p[i] = s
		if r.IntN(2) == 0 {
			p[i] = -s
		}
	}
	return p
}

func project(x []float32, rows, d int, p []float32, c int) []float32 {
	y := make([]float32, rows*c)
	kernels.Gemm(false, false, rows, c, d, 1, x, d, p, c, 0, y, c)
	return y
}

// runDecode times one decoding step of batch sequences against caches of
// l keys, dense and DSA at sparsity s, and the predictor's recall.
func runDecode(p *kernels.Pool, rng *rand.Rand, batch, l, d, c int, s float64, reps int) DecodeRow {
	q, k, v := uniform(rng, batch*d), uniform(rng, batch*l*d), uniform(rng, batch*l*d)
	proj := projection(rng, d, c)
	pq := kernels.QuantizeRows(project(q, batch, d, proj, c), batch, c)
	kp := kernels.QuantizeRows(project(k, batch*l, d, proj, c), batch*l, c)
	pk := make([]*kernels.PackedInt8, batch)
	for b := range pk {
		pk[b] = kernels.PackInt8(&kernels.Int8Rows{Rows: l, Cols: c, Q: kp.Q[b*l*c : (b+1)*l*c], Scales: kp.Scales[b*l : (b+1)*l]})
	}
	out := make([]float32, batch*d)
	topk := topKFor(l, s)
	sel := make([]int32, batch*topk)
	ts, raw := MeasureRounds(reps,
		func(int) { p.DecodeAttention(out, q, k, v, batch, l, d, d) },
		func(int) { p.SparseDecodeAttention(out, q, k, v, batch, l, d, d, pq, pk, topk, sel) })
	return DecodeRow{
		L: l, Sparsity: s, TopK: topk, DenseMs: ts[0].Median, DSAMs: ts[1].Median,
		Speedup: PairedRatio(raw[0], raw[1]), Recall: recall(q, k, batch, l, d, topk, sel),
		Dense: ts[0], DSA: ts[1],
	}
}

// recall is the share of each sequence's exact top-k keys by score that
// sel holds.
func recall(q, k []float32, batch, l, d, topk int, sel []int32) float64 {
	y := make([]float32, l)
	work := make([]int32, l)
	hit := 0
	for b := range batch {
		kernels.Gemv(y, k[b*l*d:(b+1)*l*d], d, q[b*d:(b+1)*d], nil)
		exact, _ := kernels.TopK(work, y, topk, false)
		in := make(map[int32]bool, topk)
		for _, j := range sel[b*topk : (b+1)*topk] {
			in[j] = true
		}
		for _, j := range exact {
			if in[j] {
				hit++
			}
		}
	}
	return float64(hit) / float64(batch*topk)
}
