package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/elasticml/elastic/kernels"
)

// Sampler draws the candidate classes of sampled-softmax training batches,
// for a classifier with too many classes to compute every logit while
// training (wordnet's 117,659 synsets). It is deterministic given its
// seed.
type Sampler struct {
	// Related, if not nil, lists for each class the classes added to
	// the candidates with certainty whenever it is a target: for a
	// synset, the other senses of its words, which the full softmax must
	// tell apart and uniform draws almost never supply.
	Related [][]int32

	classes int
	rng     *rand.Rand
	stamp   []uint32 // stamp[c] == gen: c is candidate slot[c]
	slot    []int32
	gen     uint32

	cand []int32
	logQ []float32
	pos  []int32
}

// NewSampler returns a sampler over classes classes. It panics if classes
// is not positive.
func NewSampler(classes int, seed uint64) *Sampler {
	if classes <= 0 {
		panic(fmt.Sprintf("nn: NewSampler(%d): classes must be positive", classes))
	}
	return &Sampler{classes: classes, rng: rand.New(rand.NewPCG(seed, 0x6e65_6761_7469_7665)), stamp: make([]uint32, classes), slot: make([]int32, classes)}
}

// Candidates returns the candidate set of a batch whose samples have the
// given targets: the distinct targets first, then their Related classes,
// then negatives classes drawn uniformly without replacement from the
// rest. logQ[j] is the log-probability that candidate j is in the set: 0
// for a target or related class, which are certain, and
// log(negatives/rest) for a drawn class. pos[i] is the
// index in cand of targets[i]. The slices are owned by s and valid until
// the next call.
//
// If negatives is negative or at least the number of other classes, cand
// and logQ are nil, meaning every class with logQ = 0, and pos = targets:
// the sampled loss is then the full softmax.
func (s *Sampler) Candidates(targets []int32, negatives int) (cand []int32, logQ []float32, pos []int32) {
	s.gen++
	if s.gen == 0 { // wrapped: old stamps could collide
		clear(s.stamp)
		s.gen = 1
	}
	s.cand, s.pos = s.cand[:0], s.pos[:0]
	for _, t := range targets {
		if t < 0 || int(t) >= s.classes {
			panic(fmt.Sprintf("nn: Sampler.Candidates: target %d outside [0, %d)", t, s.classes))
		}
		if s.stamp[t] != s.gen {
			s.stamp[t] = s.gen
			s.slot[t] = int32(len(s.cand))
			s.cand = append(s.cand, t)
		}
		s.pos = append(s.pos, s.slot[t])
	}
	if s.Related != nil {
		for _, t := range targets {
			for _, c := range s.Related[t] {
				if s.stamp[c] != s.gen {
					s.stamp[c] = s.gen
					s.cand = append(s.cand, c)
				}
			}
		}
	}
	rest := s.classes - len(s.cand)
	if negatives < 0 || negatives >= rest {
		return nil, nil, targets
	}
	nt := len(s.cand)
	for len(s.cand) < nt+negatives {
		c := int32(s.rng.IntN(s.classes))
		if s.stamp[c] != s.gen {
			s.stamp[c] = s.gen
			s.cand = append(s.cand, c)
		}
	}
	s.logQ = grow(s.logQ, len(s.cand))
	lq := float32(math.Log(float64(negatives) / float64(rest)))
	for j := range s.logQ {
		if j < nt {
			s.logQ[j] = 0
		} else {
			s.logQ[j] = lq
		}
	}
	return s.cand, s.logQ, s.pos
}

// SampledSoftmax computes a sampled-softmax loss and its gradients, with
// buffers kept between calls.
//
// For candidate classes C with inclusion probabilities q, the loss of
// row i is the cross-entropy of the softmax over C of
//
//	z_ic = w_c·h_i + b_c − log q_c
//
// at the row's target. Subtracting log q (the "logQ correction") makes
// Σ_c exp(z_ic) an unbiased estimate of the full softmax's normaliser, so
// training on it approximates training the full classifier; with every
// class a candidate it is the full softmax.
type SampledSoftmax struct {
	wc, z []float32
	// DW (len(cand)×d) and DB (len(cand)) hold the gradients for the
	// rows and biases of the candidates after Loss, in candidate order.
	DW, DB []float32
}

// Loss returns the mean over the n rows of h (n×d) of the sampled-softmax
// loss for the decoder weight w (classes×d) and bias b, with cand, logQ
// and pos as from Sampler.Candidates. It sets dh (n×d) to the gradient
// with respect to h, and s.DW, s.DB to those for the candidate rows. The
// products run on p when it is not nil.
func (s *SampledSoftmax) Loss(p *kernels.Pool, h []float32, n, d int, w, b []float32, cand []int32, logQ []float32, pos []int32, dh []float32) float64 {
	classes := len(b)
	if len(w) != classes*d || len(h) != n*d || len(dh) != n*d || len(pos) != n {
		panic(fmt.Sprintf("nn: SampledSoftmax.Loss: len(w)=%d len(b)=%d len(h)=%d len(dh)=%d len(pos)=%d for n=%d d=%d",
			len(w), len(b), len(h), len(dh), len(pos), n, d))
	}
	nc := classes
	wc := w
	if cand != nil {
		nc = len(cand)
		if len(logQ) != nc {
			panic(fmt.Sprintf("nn: SampledSoftmax.Loss: len(logQ)=%d != len(cand)=%d", len(logQ), nc))
		}
		s.wc = grow(s.wc, nc*d)
		wc = s.wc
		for j, c := range cand {
			copy(wc[j*d:(j+1)*d], w[int(c)*d:(int(c)+1)*d])
		}
	}
	s.z = grow(s.z, n*nc)
	p.Gemm(false, true, n, nc, d, 1, h, d, wc, d, 0, s.z, nc)
	for i := range n {
		row := s.z[i*nc : (i+1)*nc]
		if cand == nil {
			kernels.Axpy(1, b, row)
			continue
		}
		for j, c := range cand {
			row[j] += b[c] - logQ[j]
		}
	}
	// CrossEntropy turns z into dL/dz in place.
	loss := CrossEntropy(p, s.z, s.z, pos, nc)
	s.DW = grow(s.DW, nc*d)
	p.Gemm(true, false, nc, d, n, 1, s.z, nc, h, d, 0, s.DW, d)
	s.DB = grow(s.DB, nc)
	clear(s.DB)
	for i := range n {
		kernels.Axpy(1, s.z[i*nc:(i+1)*nc], s.DB)
	}
	p.Gemm(false, false, n, d, nc, 1, s.z, nc, wc, d, 0, dh, d)
	return loss
}
