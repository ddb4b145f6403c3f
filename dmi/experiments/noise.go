package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/sel"
)

// Region is the half of a gate's pre-activations that noise goes to.
type Region int

const (
	// Sensitive is the half with the smallest magnitudes, where sigmoid
	// and tanh are steep (thesis §3.2, eq. 3.4).
	Sensitive Region = iota
	// Insensitive is the half with the largest magnitudes, where they
	// saturate.
	Insensitive
)

func (r Region) String() string {
	switch r {
	case Sensitive:
		return "Sensitive"
	case Insensitive:
		return "Insensitive"
	}
	return fmt.Sprintf("Region(%d)", int(r))
}

// NoiseSpec is one noisy run of Table 3.1: Gaussian noise of standard
// deviation Sigma times the RMS of the gate's pre-activations at that
// step, added to the Region half of every gate of every layer.
type NoiseSpec struct {
	Region Region
	Sigma  float64
}

// NoiseStats is the outcome of one noisy run against the clean run.
type NoiseStats struct {
	Spec NoiseSpec
	// Before and After are the mean cosine similarities, per gate (in
	// dmi.GateNames order) over layers and steps, between the noisy and
	// the clean run's pre-activations and activated gates.
	Before, After []float64
	Loss          float64 // mean cross-entropy of the noisy run, nats
}

// NoiseRun streams stream at batch 1 through m once without noise and
// once per spec, in lockstep and each with its own state, as in the
// thesis's §3.2: the sensitive half of a gate is the half of its
// pre-activations with the smallest magnitudes, ranked afresh at every
// step (sel.TopK at ratio 0.5). It returns the clean loss and the stats
// of each spec. A GRU's candidate gate gets its noise on the whole
// pre-activation W_in x + b_in + r⊙(W_hn h + b_hn), with r already
// noisy. pool may be nil. It returns an error for a stream of fewer than
// two tokens or with a token outside the vocabulary, and for a negative
// or non-finite σ.
func NoiseRun(m *lm.Model, stream []int32, specs []NoiseSpec, seed uint64, pool *kernels.Pool) (float64, []NoiseStats, error) {
	cfg := m.Config()
	if len(stream) < 2 {
		return 0, nil, fmt.Errorf("experiments: noise run: %d tokens, need at least 2", len(stream))
	}
	for i, t := range stream {
		if t < 0 || int(t) >= cfg.Vocab {
			return 0, nil, fmt.Errorf("experiments: noise run: token %d at %d outside the vocabulary of %d", t, i, cfg.Vocab)
		}
	}
	for _, s := range specs {
		if !(s.Sigma >= 0) || math.IsInf(s.Sigma, 1) || (s.Region != Sensitive && s.Region != Insensitive) {
			return 0, nil, fmt.Errorf("experiments: noise run: bad spec %+v", s)
		}
	}
	clean := newNoisyStepper(m, NoiseSpec{}, 0, pool)
	runs := make([]*noisyStepper, len(specs))
	stats := make([]NoiseStats, len(specs))
	gates := cfg.Cell.Gates()
	for i, s := range specs {
		runs[i] = newNoisyStepper(m, s, seed+uint64(i)+1, pool)
		stats[i] = NoiseStats{Spec: s, Before: make([]float64, gates), After: make([]float64, gates)}
	}
	H := cfg.Hidden
	var cleanLoss float64
	for t := 0; t+1 < len(stream); t++ {
		target := stream[t+1 : t+2]
		clean.step(stream[t])
		cleanLoss += nn.CrossEntropy(nil, nil, clean.logits, target, cfg.Vocab)
		for i, r := range runs {
			r.step(stream[t])
			stats[i].Loss += nn.CrossEntropy(nil, nil, r.logits, target, cfg.Vocab)
			for l := range r.pre {
				for g := range gates {
					seg := func(v []float32) []float32 { return v[g*H : (g+1)*H] }
					stats[i].Before[g] += cosine(seg(r.pre[l]), seg(clean.pre[l]))
					stats[i].After[g] += cosine(seg(r.act[l]), seg(clean.act[l]))
				}
			}
		}
	}
	n := float64(len(stream) - 1)
	samples := n * float64(len(clean.pre))
	for i := range stats {
		stats[i].Loss /= n
		if err := nn.CheckLoss(stats[i].Loss); err != nil {
			return 0, nil, fmt.Errorf("noise %v: %w", stats[i].Spec, err)
		}
		for g := range gates {
			stats[i].Before[g] /= samples
			stats[i].After[g] /= samples
		}
	}
	if err := nn.CheckLoss(cleanLoss / n); err != nil {
		return 0, nil, err
	}
	return cleanLoss / n, stats, nil
}

// noisyStepper runs m at batch 1 with its own state, keeping each
// layer's gate pre-activations and activations of the last step.
type noisyStepper struct {
	m        *lm.Model
	ws       []nn.LayerWeights
	spec     NoiseSpec
	rng      *rand.Rand
	pool     *kernels.Pool
	st       nn.State
	gx, gh   []float32
	pre, act [][]float32 // per layer, gates×H
	logits   []float32
	topk     []*sel.TopK // per gate, ratio 0.5
	work     []int32
	mask     []bool
}

func newNoisyStepper(m *lm.Model, spec NoiseSpec, seed uint64, pool *kernels.Pool) *noisyStepper {
	cfg := m.Config()
	G := cfg.Cell.Gates() * cfg.Hidden
	s := &noisyStepper{
		m: m, ws: m.Layers(), spec: spec, pool: pool,
		rng: rand.New(rand.NewPCG(seed, 0x3a1)),
		st:  m.NewState(1),
		gx:  make([]float32, G), gh: make([]float32, G),
		logits: make([]float32, cfg.Vocab),
		work:   make([]int32, cfg.Hidden),
		mask:   make([]bool, cfg.Hidden),
	}
	for range s.ws {
		s.pre = append(s.pre, make([]float32, G))
		s.act = append(s.act, make([]float32, G))
	}
	for _, a := range gateActs(cfg.Cell) {
		t, err := sel.NewTopK(a, 0.5)
		if err != nil {
			panic(err) // constant, valid arguments
		}
		s.topk = append(s.topk, t)
	}
	return s
}

// gateActs returns the nonlinearity of each gate in weight order.
func gateActs(c nn.Cell) []sel.Activation {
	if c == nn.GRUCell {
		return []sel.Activation{sel.Sigmoid, sel.Sigmoid, sel.Tanh}
	}
	return []sel.Activation{sel.Sigmoid, sel.Sigmoid, sel.Tanh, sel.Sigmoid}
}

func (s *noisyStepper) step(token int32) {
	cfg := s.m.Config()
	H := cfg.Hidden
	x := s.m.Encoder.Weight.Data[int(token)*cfg.Emb : (int(token)+1)*cfg.Emb]
	for l, w := range s.ws {
		h := s.st.H[l]
		s.pool.Gemv(s.gx, w.WIH, w.In, x, w.BIH)
		s.pool.Gemv(s.gh, w.WHH, H, h, w.BHH)
		pre := s.pre[l]
		if w.Cell == nn.LSTMCell {
			for i := range pre {
				pre[i] = s.gx[i] + s.gh[i]
			}
			for g := range 4 {
				s.perturb(pre[g*H:(g+1)*H], nil, g)
			}
			copy(s.act[l], pre)
			nn.LSTMUpdate(h, s.st.C[l], s.act[l])
		} else {
			// Noise on r and z goes into gx, which GRUUpdate sums with gh;
			// the candidate's pre-activation needs the noisy r first.
			for i := range 2 * H {
				pre[i] = s.gx[i] + s.gh[i]
			}
			s.perturb(pre[:H], s.gx[:H], 0)
			s.perturb(pre[H:2*H], s.gx[H:2*H], 1)
			for j := range H {
				r := float32(1 / (1 + math.Exp(-float64(pre[j]))))
				pre[2*H+j] = s.gx[2*H+j] + r*s.gh[2*H+j]
			}
			s.perturb(pre[2*H:], s.gx[2*H:], 2)
			nn.GRUUpdate(h, s.gx, s.gh)
			copy(s.act[l], s.gx)
		}
		x = h
	}
	s.pool.Gemv(s.logits, s.m.Decoder.Weight.Data, H, x, s.m.Decoder.Bias.Data)
}

// perturb adds the spec's noise to the chosen half of seg, and the same
// values to also (if not nil).
func (s *noisyStepper) perturb(seg, also []float32, gate int) {
	if s.spec.Sigma == 0 {
		return
	}
	var ss float64
	for _, v := range seg {
		ss += float64(v) * float64(v)
	}
	sigma := s.spec.Sigma * math.Sqrt(ss/float64(len(seg)))
	clear(s.mask)
	for _, i := range s.topk[gate].Select(s.work, seg) {
		s.mask[i] = true // sensitive
	}
	want := s.spec.Region == Sensitive
	for i := range seg {
		if s.mask[i] != want {
			continue
		}
		d := float32(sigma * s.rng.NormFloat64())
		seg[i] += d
		if also != nil {
			also[i] += d
		}
	}
}

// cosine returns the cosine similarity of a and b, 1 when both are zero
// and 0 when only one is.
func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	switch {
	case aa == 0 && bb == 0:
		return 1
	case aa == 0 || bb == 0:
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
