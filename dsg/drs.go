package dsg

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/rproj"
)

// Selection modes: where the top-k threshold of a layer comes from.
const (
	// SelectFirst runs the top-k search on the first sample of the batch
	// and shares its threshold with the others (Figure A.1).
	SelectFirst = "first"
	// SelectPerSample runs a top-k search on every sample.
	SelectPerSample = "per-sample"
)

// BatchNorm variants of Figure 4.5(e).
const (
	BNDouble = "double" // mask before and after BN (Figure 4.2c)
	BNSingle = "single" // mask before BN only
	BNNone   = "none"   // a model without BatchNorm
)

// Strategies that estimate the activations the selection ranks (Figure 4.5c).
const (
	StrategyDRS    = "drs"    // dimension-reduction search: sparse random projection
	StrategyOracle = "oracle" // the exact activations, computed densely
	StrategyRandom = "random" // uniform random scores
)

// DefaultRefresh is the thesis's interval, in training iterations, between
// refreshes of the projected weights f(W) (§4.3).
const DefaultRefresh = 50

// Sparse configures DSG. Zero fields take the default in brackets.
type Sparse struct {
	Gamma    float64 `json:"sparsity"` // γ in [0, 1): the fraction of each layer's outputs dropped
	Eps      float64 `json:"eps"`      // JL ε in (0, 1) fixing the projected dimension k [0.5]
	Select   string  `json:"select"`   // SelectFirst or SelectPerSample [first]
	BN       string  `json:"bn"`       // BNDouble, BNSingle or BNNone [double]
	Strategy string  `json:"strategy"` // StrategyDRS, StrategyOracle or StrategyRandom [drs]
	Refresh  int     `json:"refresh"`  // iterations between projected-weight refreshes [50]
	// Granularity is GranElement or GranChannel [element].
	Granularity string `json:"granularity,omitempty"`
	// ZVC keeps each sparse layer's input for backward zero-value
	// compressed (bitmask and non-zeros, Figure 4.3c) and rebuilds it
	// from that stash in backward.
	ZVC bool `json:"zvc,omitempty"`
	// SearchFraction (GranChannel) is the fraction of the rows that rank
	// the channels the search estimates, a stride through them [1: all].
	SearchFraction float64 `json:"search_fraction,omitempty"`
}

func (s Sparse) withDefaults() Sparse {
	if s.Eps == 0 {
		s.Eps = 0.5
	}
	if s.Select == "" {
		s.Select = SelectFirst
	}
	if s.BN == "" {
		s.BN = BNDouble
	}
	if s.Strategy == "" {
		s.Strategy = StrategyDRS
	}
	if s.Refresh == 0 {
		s.Refresh = DefaultRefresh
	}
	if s.Granularity == "" {
		s.Granularity = GranElement
	}
	return s
}

func (s Sparse) validate() error {
	switch {
	case !(s.Gamma >= 0 && s.Gamma < 1):
		return fmt.Errorf("%w: sparsity %v outside [0, 1)", ErrConfig, s.Gamma)
	case s.Eps != 0 && !(s.Eps > 0 && s.Eps < 1):
		return fmt.Errorf("%w: ε %v outside (0, 1)", ErrConfig, s.Eps)
	case s.Granularity != "" && s.Granularity != GranElement && s.Granularity != GranChannel:
		return fmt.Errorf("%w: mask granularity %q (want element or channel)", ErrConfig, s.Granularity)
	case s.Select == SelectBatch && s.Granularity != GranChannel:
		return fmt.Errorf("%w: selection batch needs channel granularity (want first or per-sample)", ErrConfig)
	case s.Select != "" && s.Select != SelectFirst && s.Select != SelectPerSample && s.Select != SelectBatch:
		return fmt.Errorf("%w: selection %q (want first or per-sample, or batch with channel granularity)", ErrConfig, s.Select)
	case s.BN != "" && s.BN != BNDouble && s.BN != BNSingle && s.BN != BNNone:
		return fmt.Errorf("%w: BN variant %q (want double, single or none)", ErrConfig, s.BN)
	case s.Strategy != "" && s.Strategy != StrategyDRS && s.Strategy != StrategyOracle && s.Strategy != StrategyRandom:
		return fmt.Errorf("%w: strategy %q (want drs, oracle or random)", ErrConfig, s.Strategy)
	case s.SearchFraction != 0 && !(s.SearchFraction > 0 && s.SearchFraction <= 1):
		return fmt.Errorf("%w: search fraction %v outside (0, 1]", ErrConfig, s.SearchFraction)
	case s.Refresh < 0:
		return fmt.Errorf("%w: refresh interval %d", ErrConfig, s.Refresh)
	}
	return nil
}

// ProjectedDim returns the k of dimension-reduction search for a layer of
// nK outputs: the JL rule k = ⌊4·ln(nK)/(ε²/2 − ε³/3)⌋ of Table A.1
// (rproj.KForDSG, N = nK), before any cap at the input dimension.
func ProjectedDim(eps float64, nK int) (int, error) {
	k, err := rproj.KForDSG(eps, nK)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return k, nil
}

// SearchMACs returns the projected dimension and the multiply-accumulates
// of one sample's low-dimensional search in a layer of nPQ windows (1 for
// FC), nCRS inputs per window and nK outputs: nPQ·k·nK, the operations
// Table A.1 counts (the ternary projection itself needs no multiplies).
// k is capped at nCRS, where projecting would save nothing.
func SearchMACs(nPQ, nCRS, nK int, eps float64) (k, macs int, err error) {
	if nPQ < 1 || nCRS < 1 || nK < 2 {
		return 0, 0, fmt.Errorf("%w: layer %d×%d×%d", ErrConfig, nPQ, nCRS, nK)
	}
	if k, err = ProjectedDim(eps, nK); err != nil {
		return 0, 0, err
	}
	k = min(k, nCRS)
	return k, nPQ * k * nK, nil
}

// drs is the speculator of one layer y = X·Wᵀ + b (rows of X: the FC
// input or the conv windows): dimension-reduction search estimates
// ỹ = f(X)·f(W)ᵀ + b with f(v) = P·v (eq. 4.5; rproj's P already carries
// the 1/√k), the projected weights refreshed every Refresh training
// iterations (§4.3). Oracle and random estimates stand in for the
// comparisons of Figure 4.5(c).
type drs struct {
	strategy string
	p        *rproj.Projection
	nK, d    int
	wp       []float32 // nK×k projected weights
	z        []float32 // rows×k projected inputs
	iter     int
	refresh  int
	rng      *rand.Rand
	// gemm projects with the dense form of P on our GEMM (pd, k×d),
	// faster than the ternary gather on many rows; the sums agree up to
	// float32 rounding. The channel executors use it.
	gemm bool
	pd   []float32
}

var errShape = errors.New("dsg: shape")

func newDRS(sp Sparse, nK, d int, seed uint64) (*drs, error) {
	s := &drs{strategy: sp.Strategy, nK: nK, d: d, refresh: sp.Refresh,
		rng: rand.New(rand.NewPCG(seed, 0x72616e64))}
	if sp.Strategy != StrategyDRS {
		return s, nil
	}
	k, err := ProjectedDim(sp.Eps, nK)
	if err != nil {
		return nil, err
	}
	if s.p, err = rproj.New(min(k, d), d, rproj.DefaultSparsity, seed); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return s, nil
}

// k returns the projected dimension (0 unless the strategy is DRS).
func (s *drs) k() int {
	if s.p == nil {
		return 0
	}
	return s.p.K()
}

// estimate sets approx (rows×nK) to the estimated activations of the rows
// of X (rows×d) for weights w (nK×d) and bias b. A training call counts an
// iteration and refreshes f(W) when one is due; the first call always
// computes it.
func (s *drs) estimate(pool *kernels.Pool, approx, X, w, b []float32, rows int, train bool) {
	if len(approx) != rows*s.nK || len(X) != rows*s.d || len(w) != s.nK*s.d {
		panic(fmt.Sprintf("%v: estimate %d rows of %d→%d with len(approx)=%d len(X)=%d len(w)=%d", errShape, rows, s.d, s.nK, len(approx), len(X), len(w)))
	}
	switch s.strategy {
	case StrategyRandom:
		for i := range approx {
			approx[i] = s.rng.Float32()
		}
		return
	case StrategyOracle:
		pool.Gemm(false, true, rows, s.nK, s.d, 1, X, s.d, w, s.d, 0, approx, s.nK)
		addBias(approx, b)
		return
	}
	k := s.p.K()
	if s.wp == nil || (train && s.refresh > 0 && s.iter%s.refresh == 0) {
		s.wp = grow(s.wp, s.nK*k)
		s.project(pool, s.wp, w, s.nK)
	}
	if train {
		s.iter++
	}
	s.z = grow(s.z, rows*k)
	s.project(pool, s.z, X, rows)
	pool.Gemm(false, true, rows, s.nK, k, 1, s.z, k, s.wp, k, 0, approx, s.nK)
	addBias(approx, b)
}

// project sets z = P·x for n rows (on pool; a nil pool runs on the caller).
func (s *drs) project(pool *kernels.Pool, z, x []float32, n int) {
	if !s.gemm {
		pool.TernaryApplyBatch(s.p.Ternary(), z, x, n)
		return
	}
	if s.pd == nil {
		s.pd = s.p.Dense()
	}
	k := s.p.K()
	pool.Gemm(false, true, n, k, s.d, 1, x, s.d, s.pd, s.d, 0, z, k)
}

func addBias(y, b []float32) {
	if b == nil {
		return
	}
	for r := 0; r < len(y); r += len(b) {
		row := y[r : r+len(b)]
		for i, v := range b {
			row[i] += v
		}
	}
}

// macsPerSample is the search's multiply-accumulates for one sample of
// rowsPer rows.
func (s *drs) macsPerSample(rowsPer int) int { return rowsPer * s.k() * s.nK }
