package dsg

import (
	"fmt"

	"github.com/elasticml/elastic/sparse"
)

// hasBN reports whether the model holds a BatchNorm layer.
func (m *Net) hasBN() bool {
	for _, l := range m.layers {
		if _, ok := l.(bn); ok {
			return true
		}
	}
	return false
}

// bnMeta is the checkpoint's "bn" metadata: "none" for a model built
// without the BatchNorm layers its architecture has, else empty.
func (m *Net) bnMeta() string {
	if m.arch != MLP && !m.hasBN() {
		return BNNone
	}
	return ""
}

// EnableDSG makes every hidden FC and convolution layer of m run dynamic
// sparse graph training and inference with sp (Algorithm 5): the output
// layer stays dense, and with sp.BN = BNDouble a mask layer repeats each
// selection after the BatchNorm that follows it. Projection matrices are
// drawn from seed, one per layer, and fixed from then on. With sp.Gamma =
// 0 the model stays dense. It returns an error wrapping ErrConfig for an
// invalid sp, ErrMismatch if sp.BN disagrees with the model's layers, and
// an error if DSG is already enabled.
func (m *Net) EnableDSG(sp Sparse, seed uint64) error {
	if err := sp.validate(); err != nil {
		return err
	}
	sp = sp.withDefaults()
	if m.hasBN() == (sp.BN == BNNone) && m.arch != MLP {
		return fmt.Errorf("%w: a %s model %s BatchNorm, the run asks for BN variant %q", ErrMismatch, m.arch, map[bool]string{true: "with", false: "without"}[m.hasBN()], sp.BN)
	}
	if m.Sparse() != nil {
		return fmt.Errorf("%w: DSG is already enabled", ErrConfig)
	}
	if sp.Gamma == 0 {
		return nil
	}
	last := -1
	for i, l := range m.layers {
		switch l.(type) {
		case linear, conv:
			last = i
		}
	}
	gamma := new(float64)
	*gamma = sp.Gamma
	var out []layer
	var cur *sparseLayer // the sparse layer whose block (→ ReLU → BN) is being copied
	prevSparse := false
	for i, l := range m.layers {
		var s *sparseLayer
		switch l := l.(type) {
		case linear:
			if i != last {
				s = &sparseLayer{nm: l.nm, lin: l.Linear, nK: l.Out, d: l.In, rowsPer: 1}
			}
		case conv:
			s = &sparseLayer{nm: l.nm, cv: l.Conv2d, nK: l.OutC, d: l.Kernel * l.Kernel * l.InC, rowsPer: l.OutH * l.OutW}
		}
		if s == nil {
			if b, ok := l.(bn); ok && cur != nil && cur.channel {
				b.src, b.save = cur, new([]float32)
				l = b
			}
			out = append(out, l)
			if b, ok := l.(bn); ok && cur != nil && sp.BN == BNDouble {
				out = append(out, maskLayer{src: cur, size: b.size})
			}
			if _, ok := l.(maxpool); ok {
				cur = nil
			}
			continue
		}
		s.gamma, s.perSamp, s.pool = gamma, sp.Select == SelectPerSample, m.pool
		s.selMode, s.channel, s.zvc = sp.Select, sp.Granularity == GranChannel, sp.ZVC
		s.searchFrac = sp.SearchFraction
		// Zeros in the input are outputs an earlier sparse layer dropped
		// (masked after BN, or left zero by ReLU without BN), so their
		// gradient is discarded; single-mask BN makes no zeros.
		s.skipDead = s.channel && prevSparse && sp.BN != BNSingle
		prevSparse = true
		var err error
		if s.search, err = newDRS(sp, s.nK, s.d, seed^uint64(i+1)*0x9e3779b97f4a7c15); err != nil {
			return err
		}
		s.search.gemm = s.channel
		out = append(out, s)
		cur = s
	}
	m.layers = out
	m.acts = make([][]float32, len(out))
	m.grads = make([][]float32, len(out))
	m.dsg = &sp
	m.dsg.Gamma = 0 // the live γ is *gamma
	m.gamma = gamma
	return nil
}

// Sparse returns the DSG configuration m runs with (Gamma the current
// sparsity), or nil for a dense model.
func (m *Net) Sparse() *Sparse {
	if m.dsg == nil {
		return nil
	}
	s := *m.dsg
	s.Gamma = *m.gamma
	return &s
}

// SetSparsity changes γ of a model with DSG enabled, from the next
// forward pass on. It returns an error wrapping ErrConfig for γ outside
// [0, 1) or a dense model.
func (m *Net) SetSparsity(gamma float64) error {
	if m.dsg == nil {
		return fmt.Errorf("%w: DSG is not enabled", ErrConfig)
	}
	if !(gamma >= 0 && gamma < 1) {
		return fmt.Errorf("%w: sparsity %v outside [0, 1)", ErrConfig, gamma)
	}
	*m.gamma = gamma
	return nil
}

// Masks returns the selection of each sparse layer in the last forward
// pass, in layer order with their names: rows are the FC samples or the
// conv windows (sample-major), columns the layer's outputs. The patterns
// are the layers' own, valid until the next forward pass.
func (m *Net) Masks() (names []string, pats []*sparse.Pattern) {
	for _, l := range m.layers {
		if s, ok := l.(*sparseLayer); ok {
			names = append(names, s.nm)
			pats = append(pats, &s.pat)
		}
	}
	return names, pats
}

// StashBytes returns the bytes of the inputs the sparse layers kept for
// backward in the last training forward, as float32 (dense) and as held
// (zvc: the compressed stash with Sparse.ZVC, else the same as dense).
// Both are zero before a training forward.
func (m *Net) StashBytes() (dense, zvc int) {
	for _, l := range m.layers {
		s, ok := l.(*sparseLayer)
		if !ok || s.n == 0 {
			continue
		}
		in, _ := s.sizes()
		dense += 4 * s.n * in
		if s.stashed {
			zvc += s.stash.bytes()
		} else {
			zvc += 4 * s.n * in
		}
	}
	return dense, zvc
}

// SearchMACs returns the multiply-accumulates of one sample's
// dimension-reduction search over all sparse layers (Table A.1's count:
// the low-dimensional products, the ternary projection needing none).
func (m *Net) SearchMACs() int {
	s := 0
	for _, l := range m.layers {
		if sl, ok := l.(*sparseLayer); ok {
			s += sl.search.macsPerSample(sl.rowsPer)
		}
	}
	return s
}

// sparse is the run's DSG configuration, γ from Sparsity.
func (c Config) sparse() Sparse {
	s := c.DSG
	s.Gamma = c.Sparsity
	return s
}

// EvaluateFileWith is EvaluateFile with DSG's on-the-fly search in the
// test passes at sparsity gamma (0: dense) and options sp, the
// projections drawn from the checkpoint's seed as in training. An empty
// sp.BN takes the checkpoint's variant: none for a model saved without
// BatchNorm, else double. It is what `elastic dsg eval` runs.
func EvaluateFileWith(path, dataDir string, threads int, gamma float64, sp Sparse) (*EvalResult, error) {
	sp.Gamma = gamma
	if err := sp.validate(); err != nil {
		return nil, err
	}
	return evaluateFile(path, dataDir, threads, func(m *Net, st State) error {
		if sp.BN == "" && m.bnMeta() == BNNone {
			sp.BN = BNNone
		}
		return m.EnableDSG(sp, st.Seed)
	})
}
