package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/sparse"
	"github.com/elasticml/elastic/speculate"
)

// Dynamic sparse attention (DSA, thesis chapter 7) in the runtime's terms
// (package speculate): each head of each sequence is one
// speculate.RowStep. Its RowSelector speculates and selects the rows
// together — scoreMasker scores q̃_i·K̃ᵀ (eq. 7.5: Q̃, K̃ = X·P·W̃_{Q,K}) or,
// for the oracle, the exact q_i·Kᵀ, a row block at a time, and keeps each
// row's top-k groups (or those reaching a probability threshold);
// int8Masker does both in kernels.PredictTopK — and appends them to the
// layer's one compressed-row pattern (rowOff, idx), which the backward
// pass reuses. Its RowExecutor, headAttention, is SDDMM → sparse softmax →
// SpMM on the selection, the unselected entries dropped (Step's Drop):
// eq. 7.4 with c → ∞. Masks are selected for every head before any is
// executed, so that held masks (gradient checks) skip the selection.

var (
	_ speculate.RowSelector = scoreMasker{}
	_ speculate.RowSelector = int8Masker{}
	_ speculate.RowExecutor = headAttention{}
)

// DSAMode says where a DSA mask comes from.
type DSAMode int

const (
	// DSAOracle selects from the exact scores q·kᵀ of each head.
	DSAOracle DSAMode = iota + 1
	// DSAPredicted selects from the predictor's S̃ = Q̃K̃ᵀ (eq. 7.5).
	DSAPredicted
)

// String returns "oracle" or "predicted".
func (m DSAMode) String() string {
	switch m {
	case DSAOracle:
		return "oracle"
	case DSAPredicted:
		return "predicted"
	}
	return fmt.Sprintf("DSAMode(%d)", int(m))
}

// MarshalText writes the mode's name, so configurations read well as JSON.
func (m DSAMode) MarshalText() ([]byte, error) {
	if m != DSAOracle && m != DSAPredicted {
		return nil, fmt.Errorf("%w: mode %d", ErrDSAConfig, int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText parses a name written by MarshalText.
func (m *DSAMode) UnmarshalText(b []byte) error {
	v, err := ParseDSAMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseDSAMode parses "oracle" or "predicted".
func ParseDSAMode(s string) (DSAMode, error) {
	switch s {
	case "oracle":
		return DSAOracle, nil
	case "predicted":
		return DSAPredicted, nil
	}
	return 0, fmt.Errorf("%w: mode %q, want oracle or predicted", ErrDSAConfig, s)
}

// ErrDSAConfig is returned, wrapped, for an invalid DSA configuration.
var ErrDSAConfig = errors.New("nn: invalid DSA configuration")

// DSA configures dynamic sparse attention for a MultiHeadAttention
// (SetSparse). Exactly one of Keep, TopK and Threshold selects how many
// keys each query row keeps.
type DSA struct {
	Mode DSAMode `json:"mode"`
	// Keep is the fraction of keys each row keeps, in (0, 1]: a sequence
	// of l tokens keeps k = ⌈Keep·l⌉ keys per row (at least 1).
	Keep float64 `json:"keep,omitempty"`
	// TopK is the number of keys each row keeps, at least 1; a sequence
	// shorter than TopK keeps all its keys.
	TopK int `json:"top_k,omitempty"`
	// Threshold, in (0, 1), keeps the keys whose exact softmax probability
	// is at least Threshold (Table 7.1), and at least the most probable
	// one, so rows keep different numbers of keys. Oracle mode only.
	Threshold float64 `json:"threshold,omitempty"`
	// Block is 1 (0 means 1), 4 or 8: keys are selected in aligned groups
	// of Block consecutive keys scored by their best member, the 1×4 and
	// 1×8 column vectors of §7.5.1. With TopK or Keep, k keys are ⌈k/Block⌉
	// groups; a sequence's last group may be short.
	Block int `json:"block,omitempty"`
	// Sigma is the predictor's size k_p/dₕ, in (0, 1] (Predicted only):
	// k_p = max(1, round(Sigma·dₕ)).
	Sigma float64 `json:"sigma,omitempty"`
	// Bits is the predictor's precision for selection: 32 (0 means 32);
	// 8, INT8 Q̃ and K̃ with per-row scales through kernels.PredictTopK; or
	// 4 or 2, Q̃ and K̃ quantized per row by package quant and scored from
	// the dequantized values in float32 — the precision of an INT4/INT2
	// predictor, not its speed, for there is no such kernel. The MSE of
	// eq. 7.6 is always taken in float32 (the quantizer is treated as the
	// identity in the backward pass).
	Bits int `json:"bits,omitempty"`
	// Lambda is λ of eq. 7.7, at least 0. When positive (Predicted only),
	// Forward computes the MSE of eq. 7.6 and Backward adds λ·∂MSE/∂W̃ to
	// the predictor's gradients.
	Lambda float64 `json:"lambda,omitempty"`
	// Seed fixes the projection P and the initial W̃_Q, W̃_K.
	Seed uint64 `json:"seed"`
}

// Validate returns an error wrapping ErrDSAConfig if c is not a usable
// configuration.
func (c DSA) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrDSAConfig, fmt.Sprintf(format, a...))
	}
	if c.Mode != DSAOracle && c.Mode != DSAPredicted {
		return bad("mode %d, want oracle or predicted", int(c.Mode))
	}
	set := 0
	for _, on := range []bool{c.Keep != 0, c.TopK != 0, c.Threshold != 0} {
		if on {
			set++
		}
	}
	switch {
	case set != 1:
		return bad("exactly one of keep %v, top-k %d and threshold %v must be set", c.Keep, c.TopK, c.Threshold)
	case c.Keep != 0 && !(c.Keep > 0 && c.Keep <= 1):
		return bad("keep %v outside (0, 1]", c.Keep)
	case c.TopK < 0:
		return bad("top-k %d < 1", c.TopK)
	case c.Threshold != 0 && !(c.Threshold > 0 && c.Threshold < 1):
		return bad("threshold %v outside (0, 1)", c.Threshold)
	case c.Threshold != 0 && c.Mode != DSAOracle:
		return bad("a probability threshold needs the exact scores: oracle mode only")
	case c.Block != 0 && c.Block != 1 && c.Block != 4 && c.Block != 8:
		return bad("block %d, want 1, 4 or 8", c.Block)
	case c.Bits != 0 && c.Bits != 32 && c.Bits != 8 && c.Bits != 4 && c.Bits != 2:
		return bad("bits %d, want 32, 8, 4 or 2", c.Bits)
	case !(c.Lambda >= 0) || math.IsInf(c.Lambda, 1):
		return bad("lambda %v must be finite and >= 0", c.Lambda)
	case c.Mode == DSAPredicted && !(c.Sigma > 0 && c.Sigma <= 1):
		return bad("sigma %v outside (0, 1]", c.Sigma)
	case c.Mode == DSAOracle && c.Sigma != 0 && !(c.Sigma > 0 && c.Sigma <= 1):
		return bad("sigma %v outside (0, 1]", c.Sigma)
	}
	return nil
}

// KeepForSparsity returns the Keep of a target sparsity s (the fraction of
// attention entries dropped), 1 − s, or an error wrapping ErrDSAConfig if s
// is outside [0, 1).
func KeepForSparsity(s float64) (float64, error) {
	if !(s >= 0 && s < 1) {
		return 0, fmt.Errorf("%w: sparsity %v outside [0, 1)", ErrDSAConfig, s)
	}
	return 1 - s, nil
}

func (c DSA) block() int { return max(c.Block, 1) }

// rowBlocks returns how many groups each row of a sequence of l keys keeps
// under top-k selection: ⌈k/Block⌉ for k = min(TopK, l) or ⌈Keep·l⌉, at
// least 1 and at most the number of groups.
func (c DSA) rowBlocks(l int) int {
	k := c.TopK
	if c.Keep != 0 {
		k = int(math.Ceil(c.Keep*float64(l) - 1e-9))
	}
	k = min(max(k, 1), l)
	b := c.block()
	return min((k+b-1)/b, (l+b-1)/b)
}

// DSAStats are a layer's (or an encoder's) DSA counters: the attention
// entries kept and the entries of the dense matrices, summed over Forward
// calls since the last reset, and the MSE of eq. 7.6 of the last Forward
// (an encoder's: the sum over its layers).
type DSAStats struct {
	Kept, Total int64
	// MSE is the mean over the compared entries (every entry of every
	// head's l×l score matrix) of (S − S̃)², S = q·kᵀ/√dₕ; HasMSE is false
	// when it was not computed (oracle mode or Lambda = 0).
	MSE    float64
	HasMSE bool
}

// Sparsity is the realised fraction of attention entries dropped, 1 −
// Kept/Total (0 with no entries).
func (s DSAStats) Sparsity() float64 {
	if s.Total == 0 {
		return 0
	}
	return 1 - float64(s.Kept)/float64(s.Total)
}

// add sums counters; MSEs are the caller's.
func (s *DSAStats) add(o DSAStats) {
	s.Kept += o.Kept
	s.Total += o.Total
}

// dsaState is a MultiHeadAttention's DSA configuration, predictor and
// buffers. Masks are stored per row: row g = off·Heads + h·l + i (query i
// of head h of the sequence starting at row off, the heads-major layout)
// keeps the groups idx[rowOff[g]:rowOff[g+1]], and its probabilities are
// p[rowOff[g]·Block:rowOff[g+1]·Block], so memory is O(n·k) per head.
type dsaState struct {
	cfg  DSA
	kp   int
	proj *rproj.Projection // kp×Dim
	// wq and wk are W̃_Q and W̃_K, one kp×kp matrix per head.
	wq, wk *Param
	// hold makes Forward reuse the last masks (gradient checks).
	hold     bool
	holdLens []int

	rowOff               []int
	idx                  []int32
	p, dp                []float32
	xp, qt, kt, dqt, dkt []float32
	tile, grp            []float32
	work                 []int32
	gradReady            bool
	kept, total          int64
	mse                  float64
	hasMSE               bool
}

// SetSparse makes the attention dynamic sparse with configuration c, or
// dense again (today's kernels.Attention path) when c is nil. It returns an
// error wrapping ErrDSAConfig if c does not validate. In Predicted mode the
// predictor's W̃_Q and W̃_K become parameters (named as the layer's with
// dsa.wq and dsa.wk, shape heads×k_p×k_p), initialised from c.Seed, so a
// checkpoint written before SetSparse loads into the dense parameters and
// the predictor starts from the seed.
func (a *MultiHeadAttention) SetSparse(c *DSA) error {
	if c == nil {
		a.dsa = nil
		return nil
	}
	if err := c.Validate(); err != nil {
		return err
	}
	s := &dsaState{cfg: *c}
	if c.Mode == DSAPredicted {
		dh := a.Dim / a.Heads
		s.kp = max(1, int(math.Round(c.Sigma*float64(dh))))
		if c.Bits == 8 && s.kp > kernels.MaxIntCols {
			return fmt.Errorf("%w: an INT8 predictor of %d columns exceeds the kernels' %d", ErrDSAConfig, s.kp, kernels.MaxIntCols)
		}
		p, err := rproj.New(s.kp, a.Dim, rproj.DefaultSparsity, c.Seed)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrDSAConfig, err)
		}
		s.proj = p
		// The parameters take the layer's prefix (attn. inside an encoder
		// layer, layers.<i>. inside an encoder) from its q projection, which
		// the constructors named before SetSparse could be called.
		prefix := strings.TrimSuffix(a.Q.Weight.Name, "q.weight")
		rng := rand.New(rand.NewPCG(c.Seed, 0x647361)) // "dsa"
		bound := math.Sqrt(3 / float64(s.kp))
		s.wq = NewParam(prefix+"dsa.wq", a.Heads, s.kp, s.kp)
		s.wk = NewParam(prefix+"dsa.wk", a.Heads, s.kp, s.kp)
		s.wq.Uniform(rng, bound)
		s.wk.Uniform(rng, bound)
	}
	a.dsa = s
	return nil
}

// Sparse returns the DSA configuration and whether one is set.
func (a *MultiHeadAttention) Sparse() (DSA, bool) {
	if a.dsa == nil {
		return DSA{}, false
	}
	return a.dsa.cfg, true
}

// SparseStats returns the layer's DSA counters (zero when dense).
func (a *MultiHeadAttention) SparseStats() DSAStats {
	if a.dsa == nil {
		return DSAStats{}
	}
	return DSAStats{Kept: a.dsa.kept, Total: a.dsa.total, MSE: a.dsa.mse, HasMSE: a.dsa.hasMSE}
}

// ResetSparseStats clears the kept and total counters.
func (a *MultiHeadAttention) ResetSparseStats() {
	if a.dsa != nil {
		a.dsa.kept, a.dsa.total = 0, 0
	}
}

// predictorParams returns W̃_Q and W̃_K in Predicted mode, else nil.
func (a *MultiHeadAttention) predictorParams() []*Param {
	if a.dsa == nil || a.dsa.wq == nil {
		return nil
	}
	return []*Param{a.dsa.wq, a.dsa.wk}
}

// sparseForward sets a.oh from a.qh, a.kh, a.vh through the masks of the
// configuration, building them first unless held. x is the layer input,
// which the predictor projects.
func (a *MultiHeadAttention) sparseForward(x []float32) {
	s, d, hN := a.dsa, a.Dim, a.Heads
	dh := d / hN
	scale := float32(1 / math.Sqrt(float64(dh)))
	var total int64
	for _, l := range a.lens {
		total += int64(hN) * int64(l) * int64(l)
	}
	s.total += total
	if s.cfg.Mode == DSAPredicted {
		a.predict(x)
	}
	s.hasMSE, s.gradReady = false, false
	if s.cfg.Mode == DSAPredicted && s.cfg.Lambda > 0 {
		a.predictorMSE(total, scale)
	}
	if !s.hold || !slices.Equal(s.holdLens, a.lens) {
		a.buildMasks(scale)
		s.holdLens = append(s.holdLens[:0], a.lens...)
	}
	s.kept += a.keptEntries()
	b := s.cfg.block()
	s.p = grow(s.p, s.rowOff[len(s.rowOff)-1]*b)
	off := 0
	for _, l := range a.lens {
		for h := range hN {
			g0 := off*hN + h*l
			r := func(m []float32) []float32 { return m[g0*dh : (g0+l)*dh] }
			headAttention{a, l, r(a.qh), r(a.kh), r(a.vh), scale}.ExecuteRows(r(a.oh), s.rowOff[g0:g0+l+1], s.idx)
		}
		off += l
	}
}

// headAttention is the RowExecutor of one head of one sequence: SDDMM on
// the selected keys, sparse row softmax, SpMM with the values (exact
// attention on the selection, the rest dropped: eq. 7.4 with c → ∞),
// keeping the probabilities in s.p for the backward pass.
type headAttention struct {
	a       *MultiHeadAttention
	l       int
	q, k, v []float32
	scale   float32
}

// ExecuteRows implements speculate.RowExecutor: out is the head's l×dh
// output, ptr its l+1 offsets into the layer's s.idx.
func (e headAttention) ExecuteRows(out []float32, ptr []int, idx []int32) {
	s := e.a.dsa
	b := s.cfg.block()
	dh := len(e.q) / e.l
	e.a.eachPattern(ptr, e.l, func(pl *kernels.Pool, sp kernels.SparseRows, i0 int) {
		p := s.p[ptr[i0]*b : ptr[i0+sp.Rows]*b]
		pl.SDDMM(p, e.q[i0*dh:(i0+sp.Rows)*dh], e.k, dh, sp, e.scale)
		pl.SparseSoftmax(p, p, sp)
		pl.SpMM(out[i0*dh:(i0+sp.Rows)*dh], p, e.v, dh, sp)
	})
}

// sparseBackward sets a.dqh, a.dkh and a.dvh from a.doh through the masks
// of the last Forward: dP by SpMMBackward (which also gives dV), dS by
// SparseSoftmaxBackward, then dQ = dS·K_sel·scale and dK += dSᵀ·Q·scale
// scattered to the selected keys by SDDMMBackward. The masks get no
// gradient. It also adds λ·∂MSE/∂W̃ to the predictor's gradients.
func (a *MultiHeadAttention) sparseBackward() {
	s, d, hN := a.dsa, a.Dim, a.Heads
	dh := d / hN
	scale := float32(1 / math.Sqrt(float64(dh)))
	b := s.cfg.block()
	s.dp = grow(s.dp, len(s.p))
	off := 0
	for _, l := range a.lens {
		for h := range hN {
			g0 := off*hN + h*l
			r := func(m []float32) []float32 { return m[g0*dh : (g0+l)*dh] }
			q, k, v, do := r(a.qh), r(a.kh), r(a.vh), r(a.doh)
			dq, dk, dv := r(a.dqh), r(a.dkh), r(a.dvh)
			clear(dq)
			clear(dk)
			clear(dv)
			ptr := s.rowOff[g0 : g0+l+1]
			a.eachPattern(ptr, l, func(pl *kernels.Pool, sp kernels.SparseRows, i0 int) {
				lo, hi := ptr[i0]*b, ptr[i0+sp.Rows]*b
				p, dp := s.p[lo:hi], s.dp[lo:hi]
				rows := func(m []float32) []float32 { return m[i0*dh : (i0+sp.Rows)*dh] }
				pl.SpMMBackward(dp, dv, rows(do), p, v, dh, sp)
				pl.SparseSoftmaxBackward(dp, dp, p, sp)
				pl.SDDMMBackward(rows(dq), dk, dp, rows(q), k, dh, sp, scale)
			})
		}
		off += l
	}
	if s.gradReady {
		a.predictorBackward()
	}
}

// eachPattern calls f with the pattern of a head's l rows, whose groups
// are s.idx[ptr[i]:ptr[i+1]]: once with
// all l rows on a's pool when every row keeps the same number of groups
// (top-k), else once per row on the caller (threshold), i0 being the first
// row f's pattern covers.
func (a *MultiHeadAttention) eachPattern(ptr []int, l int, f func(pl *kernels.Pool, sp kernels.SparseRows, i0 int)) {
	s := a.dsa
	b := s.cfg.block()
	cnt := ptr[1] - ptr[0]
	uniform := true
	for i := 1; i < l && uniform; i++ {
		uniform = ptr[i+1]-ptr[i] == cnt
	}
	if uniform {
		f(a.Pool, kernels.SparseRows{Rows: l, Cols: l, K: cnt, Block: b, Idx: s.idx[ptr[0]:ptr[l]]}, 0)
		return
	}
	for i := range l {
		lo, hi := ptr[i], ptr[i+1]
		f(nil, kernels.SparseRows{Rows: 1, Cols: l, K: hi - lo, Block: b, Idx: s.idx[lo:hi]}, i)
	}
}

// keptEntries counts the keys the current masks keep (a group reaching
// past its sequence's end counts only its keys inside).
func (a *MultiHeadAttention) keptEntries() int64 {
	s := a.dsa
	b := int32(s.cfg.block())
	var n int64
	off := 0
	for _, l := range a.lens {
		lo, hi := s.rowOff[off*a.Heads], s.rowOff[(off+l)*a.Heads]
		for _, st := range s.idx[lo:hi] {
			n += int64(min(b, int32(l)-st))
		}
		off += l
	}
	return n
}

// buildMasks selects every row's groups from the exact scores (oracle) or
// from S̃ (predicted).
func (a *MultiHeadAttention) buildMasks(scale float32) {
	s, hN := a.dsa, a.Heads
	dh := a.Dim / hN
	s.rowOff = append(s.rowOff[:0], 0)
	s.idx = s.idx[:0]
	off := 0
	for _, l := range a.lens {
		for h := range hN {
			g0 := off*hN + h*l
			var sel speculate.RowSelector
			switch kp := s.kp; {
			case s.cfg.Mode == DSAPredicted && s.cfg.Bits == 8:
				sel = int8Masker{a, g0, l}
			case s.cfg.Mode == DSAPredicted && (s.cfg.Bits == 4 || s.cfg.Bits == 2):
				q, k := s.qt[g0*kp:(g0+l)*kp], s.kt[g0*kp:(g0+l)*kp]
				sel = scoreMasker{a, quantized(q, l, kp, s.cfg.Bits), quantized(k, l, kp, s.cfg.Bits), l, kp, 1, false}
			case s.cfg.Mode == DSAPredicted:
				sel = scoreMasker{a, s.qt[g0*kp : (g0+l)*kp], s.kt[g0*kp : (g0+l)*kp], l, kp, 1, false}
			default:
				sel = scoreMasker{a, a.qh[g0*dh : (g0+l)*dh], a.kh[g0*dh : (g0+l)*dh], l, dh, scale, s.cfg.Threshold != 0}
			}
			s.rowOff, s.idx = sel.SelectRows(s.rowOff, s.idx)
		}
		off += l
	}
}

// scoreMasker is the RowSelector of the oracle masks and of the
// floating-point predictor's: the l query rows q against the l keys k
// (each of c values) are scored alpha·q·kᵀ attnRowBlock rows at a time —
// the speculation, exact for the oracle — and each row keeps its top
// groups, or with prob the groups whose best softmax probability reaches
// the threshold.
type scoreMasker struct {
	a     *MultiHeadAttention
	q, k  []float32
	l, c  int
	alpha float32
	prob  bool
}

// SelectRows implements speculate.RowSelector.
func (m scoreMasker) SelectRows(ptr []int, idx []int32) ([]int, []int32) {
	a, q, k, l, c, alpha, prob := m.a, m.q, m.k, m.l, m.c, m.alpha, m.prob
	s := a.dsa
	b := s.cfg.block()
	groups := (l + b - 1) / b
	kb := s.cfg.rowBlocks(l)
	blk := min(attnRowBlock, l)
	s.tile, s.grp, s.work = grow(s.tile, blk*l), grow(s.grp, groups), growInt32(s.work, groups)
	for i0 := 0; i0 < l; i0 += blk {
		r := min(blk, l-i0)
		t := s.tile[:r*l]
		a.Pool.Gemm(false, true, r, l, c, alpha, q[i0*c:(i0+r)*c], c, k, c, 0, t, l)
		for i := range r {
			row := t[i*l : (i+1)*l]
			if prob {
				softmaxRow(row)
			}
			g := s.grp
			for j := range groups {
				g[j] = slices.Max(row[j*b : min(l, (j+1)*b)])
			}
			if prob {
				best, n := 0, 0
				for j, v := range g {
					if v >= float32(s.cfg.Threshold) {
						idx = append(idx, int32(j*b))
						n++
					}
					if v > g[best] {
						best = j
					}
				}
				if n == 0 {
					idx = append(idx, int32(best*b))
				}
			} else {
				sel, _ := kernels.TopK(s.work, g, kb, false)
				slices.Sort(sel)
				for _, j := range sel {
					idx = append(idx, j*int32(b))
				}
			}
			ptr = append(ptr, len(idx))
		}
	}
	return ptr, idx
}

// int8Masker is the RowSelector of the INT8 predictor: head rows
// [g0, g0+l) chosen by kernels.PredictTopK from quantized Q̃ and K̃, the
// scores and the top-k fused in one kernel.
type int8Masker struct {
	a     *MultiHeadAttention
	g0, l int
}

// SelectRows implements speculate.RowSelector.
func (m int8Masker) SelectRows(ptr []int, idx []int32) ([]int, []int32) {
	a, g0, l := m.a, m.g0, m.l
	s := a.dsa
	kp, b := s.kp, s.cfg.block()
	kb := s.cfg.rowBlocks(l)
	q := kernels.QuantizeRows(s.qt[g0*kp:(g0+l)*kp], l, kp)
	k := kernels.PackInt8(kernels.QuantizeRows(s.kt[g0*kp:(g0+l)*kp], l, kp))
	o := len(idx)
	idx = append(idx, make([]int32, l*kb)...)
	a.Pool.PredictTopK(q, k, kb, b, idx[o:])
	for i := range l {
		ptr = append(ptr, o+(i+1)*kb)
	}
	return ptr, idx
}

// quantized returns the rows×cols matrix x quantized to bits per row and
// dequantized, or x itself if it is not finite (quant refuses NaN and
// ±Inf; top-k then ranks NaNs last, as in float32).
func quantized(x []float32, rows, cols, bits int) []float32 {
	m, err := quant.Quantize(x, rows, cols, quant.Bits(bits), true)
	if err != nil {
		return x
	}
	return m.Dequantize()
}

// predict computes XP (n×k_p) and each head's Q̃ = XP·W̃_Q and K̃ = XP·W̃_K,
// heads-major per sequence like qh.
func (a *MultiHeadAttention) predict(x []float32) {
	s, n, kp := a.dsa, a.n, a.dsa.kp
	s.xp = grow(s.xp, n*kp)
	s.proj.ApplyBatch(s.xp, x, n)
	s.qt, s.kt = grow(s.qt, a.Heads*n*kp), grow(s.kt, a.Heads*n*kp)
	a.predictorHeads(func(xs []float32, l int, r, w [2]int) {
		a.Pool.Gemm(false, false, l, kp, kp, 1, xs, kp, s.wq.Data[w[0]:w[1]], kp, 0, s.qt[r[0]:r[1]], kp)
		a.Pool.Gemm(false, false, l, kp, kp, 1, xs, kp, s.wk.Data[w[0]:w[1]], kp, 0, s.kt[r[0]:r[1]], kp)
	})
}

// predictorHeads calls f for every sequence and head with the sequence's
// rows of XP, its length, the head's stretch [r0, r1) of Q̃/K̃ (and their
// gradients) and the head's stretch [w0, w1) of W̃_Q/W̃_K: the one walk
// the predictor's forward and backward share.
func (a *MultiHeadAttention) predictorHeads(f func(xs []float32, l int, r, w [2]int)) {
	s, kp := a.dsa, a.dsa.kp
	off := 0
	for _, l := range a.lens {
		xs := s.xp[off*kp : (off+l)*kp]
		for h := range a.Heads {
			g0 := off*a.Heads + h*l
			f(xs, l, [2]int{g0 * kp, (g0 + l) * kp}, [2]int{h * kp * kp, (h + 1) * kp * kp})
		}
		off += l
	}
}

// predictorMSE sets s.mse to the mean of (S̃ − S)² over every entry of
// every head's l×l score matrix (total entries), with S = q·kᵀ·scale, and
// s.dqt, s.dkt to λ times its gradient with respect to Q̃ and K̃.
//
// The exact S is formed fully, attnRowBlock rows at a time (memory
// O(64·l) per head, compute one dense score pass per head), rather than on
// the mask plus a sample: the MSE is then the exact eq. 7.6 and its
// gradient has no sampling noise, at the cost of the dense QKᵀ the
// predictor exists to avoid. That cost is paid only while training the
// predictor (Lambda > 0); inference with Lambda = 0 never forms S.
func (a *MultiHeadAttention) predictorMSE(total int64, scale float32) {
	s, hN, kp := a.dsa, a.Heads, a.dsa.kp
	dh := a.Dim / hN
	c := float32(2 * s.cfg.Lambda / float64(total))
	s.dqt, s.dkt = grow(s.dqt, len(s.qt)), grow(s.dkt, len(s.kt))
	var sum float64
	off := 0
	for _, l := range a.lens {
		blk := min(attnRowBlock, l)
		s.tile = grow(s.tile, blk*l)
		for h := range hN {
			g0 := off*hN + h*l
			q, k := a.qh[g0*dh:(g0+l)*dh], a.kh[g0*dh:(g0+l)*dh]
			qt, kt := s.qt[g0*kp:(g0+l)*kp], s.kt[g0*kp:(g0+l)*kp]
			dqt, dkt := s.dqt[g0*kp:(g0+l)*kp], s.dkt[g0*kp:(g0+l)*kp]
			clear(dkt)
			for i0 := 0; i0 < l; i0 += blk {
				r := min(blk, l-i0)
				e := s.tile[:r*l]
				a.Pool.Gemm(false, true, r, l, kp, 1, qt[i0*kp:(i0+r)*kp], kp, kt, kp, 0, e, l)
				a.Pool.Gemm(false, true, r, l, dh, -scale, q[i0*dh:(i0+r)*dh], dh, k, dh, 1, e, l)
				for _, v := range e {
					sum += float64(v) * float64(v)
				}
				a.Pool.Gemm(false, false, r, kp, l, c, e, l, kt, kp, 0, dqt[i0*kp:(i0+r)*kp], kp)
				a.Pool.Gemm(true, false, l, kp, r, c, e, l, qt[i0*kp:(i0+r)*kp], kp, 1, dkt, kp)
			}
		}
		off += l
	}
	s.mse = sum / float64(total)
	s.hasMSE, s.gradReady = true, true
}

// predictorBackward adds XPᵀ·dQ̃ and XPᵀ·dK̃ (the MSE term's gradient,
// already times λ) to W̃_Q's and W̃_K's gradients, head by head. The MSE
// gradient stops there: it reaches neither q, k nor the layer input.
func (a *MultiHeadAttention) predictorBackward() {
	s, kp := a.dsa, a.dsa.kp
	a.predictorHeads(func(xs []float32, l int, r, w [2]int) {
		a.Pool.Gemm(true, false, kp, kp, l, 1, xs, kp, s.dqt[r[0]:r[1]], kp, 1, s.wq.Grad[w[0]:w[1]], kp)
		a.Pool.Gemm(true, false, kp, kp, l, 1, xs, kp, s.dkt[r[0]:r[1]], kp, 1, s.wk.Grad[w[0]:w[1]], kp)
	})
}

func growInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// SetSparse sets DSA configuration c (nil: dense) on every layer's
// attention, layer i's predictor seeded with c.Seed + i so that the layers'
// projections differ. It returns an error wrapping ErrDSAConfig, leaving
// the encoder dense, if c does not validate.
func (e *Encoder) SetSparse(c *DSA) error {
	if c != nil {
		if err := c.Validate(); err != nil {
			return err
		}
	}
	for i, b := range e.Blocks {
		var lc *DSA
		if c != nil {
			cc := *c
			cc.Seed += uint64(i)
			lc = &cc
		}
		if err := b.Attn.SetSparse(lc); err != nil {
			for _, b := range e.Blocks {
				_ = b.Attn.SetSparse(nil)
			}
			return err
		}
	}
	return nil
}

// SparseStats sums the layers' kept and total counters and their MSEs:
// the joint loss of eq. 7.7 whose gradient Backward computes is
// L_model + λ·Σ_layers MSE_layer, so that sum is what a trainer adds (times
// λ) to its loss to log it.
func (e *Encoder) SparseStats() DSAStats {
	var st DSAStats
	for _, b := range e.Blocks {
		s := b.Attn.SparseStats()
		st.add(s)
		if s.HasMSE {
			st.MSE += s.MSE
			st.HasMSE = true
		}
	}
	return st
}

// ResetSparseStats clears every layer's counters.
func (e *Encoder) ResetSparseStats() {
	for _, b := range e.Blocks {
		b.Attn.ResetSparseStats()
	}
}

// SetSparse sets DSA on the encoder (Encoder.SetSparse).
func (c *Classifier) SetSparse(d *DSA) error { return c.Enc.SetSparse(d) }

// SparseStats returns the encoder's DSA counters.
func (c *Classifier) SparseStats() DSAStats { return c.Enc.SparseStats() }

// ResetSparseStats clears the encoder's DSA counters.
func (c *Classifier) ResetSparseStats() { c.Enc.ResetSparseStats() }

// SetSparse sets DSA on the shared encoder (Encoder.SetSparse).
func (c *DualClassifier) SetSparse(d *DSA) error { return c.Enc.SetSparse(d) }

// SparseStats returns the shared encoder's DSA counters, both passages'.
func (c *DualClassifier) SparseStats() DSAStats { return c.Enc.SparseStats() }

// ResetSparseStats clears the shared encoder's DSA counters.
func (c *DualClassifier) ResetSparseStats() { c.Enc.ResetSparseStats() }

// Masks returns the DSA masks of the last Forward, one pattern per
// sequence and head (sequence-major), each l query rows over l keys
// rounded up to whole blocks; nil without DSA. The patterns are copies.
func (a *MultiHeadAttention) Masks() []*sparse.Pattern {
	s := a.dsa
	if s == nil || len(s.rowOff) == 0 {
		return nil
	}
	b := s.cfg.block()
	var out []*sparse.Pattern
	off := 0
	for _, l := range a.lens {
		for h := range a.Heads {
			g0 := off*a.Heads + h*l
			base := s.rowOff[g0]
			p := &sparse.Pattern{Rows: l, Cols: (l + b - 1) / b * b, Block: b, Ptr: make([]int32, l+1),
				Idx: slices.Clone(s.idx[base:s.rowOff[g0+l]])}
			for i := range l {
				p.Ptr[i+1] = int32(s.rowOff[g0+i+1] - base)
			}
			out = append(out, p)
		}
		off += l
	}
	return out
}

// Masks returns each layer's Masks of the last Forward.
func (e *Encoder) Masks() [][]*sparse.Pattern {
	out := make([][]*sparse.Pattern, len(e.Blocks))
	for i, b := range e.Blocks {
		out[i] = b.Attn.Masks()
	}
	return out
}
