package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refSampledLoss is the sampled-softmax loss in float64, straight from
// its definition.
func refSampledLoss(h []float32, n, d int, w, b []float32, cand []int32, logQ []float32, pos []int32) float64 {
	if cand == nil {
		for c := range len(b) {
			cand = append(cand, int32(c))
			logQ = append(logQ, 0)
		}
	}
	var total float64
	for i := range n {
		z := make([]float64, len(cand))
		mx := math.Inf(-1)
		for j, c := range cand {
			var s float64
			for k := range d {
				s += float64(h[i*d+k]) * float64(w[int(c)*d+k])
			}
			z[j] = s + float64(b[c]) - float64(logQ[j])
			mx = max(mx, z[j])
		}
		var se float64
		for _, v := range z {
			se += math.Exp(v - mx)
		}
		total += mx + math.Log(se) - z[pos[i]]
	}
	return total / float64(n)
}

func TestSampledSoftmaxGradient(t *testing.T) {
	const classes, d, n = 40, 6, 5
	for _, negatives := range []int{7, -1} {
		rng := rand.New(rand.NewPCG(3, 4))
		w := randVec(rng, classes*d, 1)
		b := randVec(rng, classes, 1)
		h := randVec(rng, n*d, 1)
		targets := []int32{3, 17, 3, 39, 0}
		cand, logQ, pos := NewSampler(classes, 9).Candidates(targets, negatives)
		cand, logQ, pos = slices.Clone(cand), slices.Clone(logQ), slices.Clone(pos)
		var ss SampledSoftmax
		dh := make([]float32, n*d)
		loss := ss.Loss(nil, h, n, d, w, b, cand, logQ, pos, dh)
		ref := refSampledLoss(h, n, d, w, b, cand, logQ, pos)
		if math.Abs(loss-ref) > 1e-5*max(1, ref) {
			t.Errorf("negatives %d: loss %v, float64 reference %v", negatives, loss, ref)
		}
		rows := cand
		if rows == nil {
			for c := range classes {
				rows = append(rows, int32(c))
			}
		}
		dw := make([]float32, classes*d)
		db := make([]float32, classes)
		backward := func() {
			ss.Loss(nil, h, n, d, w, b, cand, logQ, pos, dh)
			// Scatter the candidate-order gradients back to class order.
			for j, c := range rows {
				copy(dw[int(c)*d:(int(c)+1)*d], ss.DW[j*d:(j+1)*d])
				db[c] = ss.DB[j]
			}
		}
		checkGradients(t, func() float64 { return refSampledLoss(h, n, d, w, b, cand, logQ, pos) }, backward,
			[]gradTarget{{"h", h, dh}, {"w", w, dw}, {"b", b, db}})
	}
}

func TestSamplerCandidates(t *testing.T) {
	s := NewSampler(100, 1)
	targets := []int32{5, 9, 5, 99}
	cand, logQ, pos := s.Candidates(targets, 10)
	if len(cand) != 13 || !slices.Equal(cand[:3], []int32{5, 9, 99}) {
		t.Fatalf("cand %v: want the 3 distinct targets then 10 negatives", cand)
	}
	seen := map[int32]bool{}
	for _, c := range cand {
		if seen[c] {
			t.Fatalf("candidate %d repeated in %v", c, cand)
		}
		seen[c] = true
	}
	for i, p := range pos {
		if cand[p] != targets[i] {
			t.Errorf("pos[%d]=%d names %d, want %d", i, p, cand[p], targets[i])
		}
	}
	want := float32(math.Log(10.0 / 97))
	for j, q := range logQ {
		if (j < 3 && q != 0) || (j >= 3 && math.Abs(float64(q-want)) > 1e-6) {
			t.Errorf("logQ[%d]=%v", j, q)
		}
	}
	// Same seed, same draws.
	a, _, _ := NewSampler(100, 7).Candidates(targets, 10)
	b, _, _ := NewSampler(100, 7).Candidates(targets, 10)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different candidates: %v, %v", a, b)
	}
	if c, q, p := s.Candidates(targets, 97); c != nil || q != nil || !slices.Equal(p, targets) {
		t.Errorf("negatives covering every class: got %v %v %v, want the full softmax", c, q, p)
	}
}

func TestSamplerRelated(t *testing.T) {
	s := NewSampler(50, 1)
	s.Related = make([][]int32, 50)
	s.Related[4] = []int32{10, 11, 4 + 1}
	cand, logQ, pos := s.Candidates([]int32{4, 5}, 3)
	if !slices.Equal(cand[:4], []int32{4, 5, 10, 11}) || len(cand) != 7 {
		t.Fatalf("cand %v: want targets, related (5 once), then 3 draws", cand)
	}
	want := float32(math.Log(3.0 / 46))
	for j, q := range logQ {
		if (j < 4 && q != 0) || (j >= 4 && q != want) {
			t.Errorf("logQ[%d]=%v", j, q)
		}
	}
	if !slices.Equal(pos, []int32{0, 1}) {
		t.Errorf("pos %v", pos)
	}
}
