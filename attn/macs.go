package attn

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/fmnist"
	"github.com/elasticml/elastic/lra"
)

// MACs is the multiply-accumulate count of one example's forward pass,
// split as thesis Fig. 7.7 splits it. Retrieval's example is a pair: two
// passages through the encoder.
type MACs struct {
	Linear    int64 `json:"linear"`    // Q, K, V, output projections and the FFN
	Attention int64 `json:"attention"` // Q·Kᵀ and P·V on the kept entries
	Predictor int64 `json:"predictor"` // DSA's X·P, Q̃, K̃ and Q̃·K̃ᵀ (0 dense)
	Other     int64 `json:"other"`     // the classifier head
}

// Total is the sum of the parts.
func (m MACs) Total() int64 { return m.Linear + m.Attention + m.Predictor + m.Other }

// CountMACs returns the MACs of one example of c at its full Length with
// classes outputs, attention keeping the share keep ∈ (0, 1] of the
// query–key entries; keep < 1 adds the DSA predictor of width σ (k_p =
// round(σ·d_head), as nn builds it: X·P shared by the heads, then per
// head Q̃ = XP·W̃_Q, K̃ = XP·W̃_K and the scores Q̃·K̃ᵀ). Softmax, layer
// norms and embeddings are not multiply-accumulates and are left out.
func CountMACs(c Config, classes int, keep, sigma float64) (MACs, error) {
	if c.Layers < 1 || c.Heads < 1 || c.Dim < c.Heads || c.Dim%c.Heads != 0 || c.FFN < 1 || c.Hidden < 1 || c.Length < 1 || classes < 2 {
		return MACs{}, fmt.Errorf("%w: cannot count MACs of %d layers × %d heads, dim %d, FFN %d, hidden %d, length %d, %d classes",
			ErrConfig, c.Layers, c.Heads, c.Dim, c.FFN, c.Hidden, c.Length, classes)
	}
	if !(keep > 0 && keep <= 1) || (keep < 1 && !(sigma > 0 && sigma <= 1)) {
		return MACs{}, fmt.Errorf("%w: keep %v (want (0, 1]) and sigma %v (want (0, 1])", ErrConfig, keep, sigma)
	}
	l, d, h := int64(c.Length), int64(c.Dim), int64(c.Heads)
	var m MACs
	m.Linear = int64(c.Layers) * (4*l*d*d + 2*l*d*int64(c.FFN))
	m.Attention = int64(c.Layers) * int64(math.Round(keep*float64(2*l*l*d)))
	if keep < 1 {
		kp := int64(max(1, int(math.Round(sigma*float64(c.Dim/c.Heads)))))
		m.Predictor = int64(c.Layers) * (l*d*kp + h*(2*l*kp*kp+l*l*kp))
	}
	in := d
	if c.Task == "retrieval" {
		m.Linear, m.Attention, m.Predictor = 2*m.Linear, 2*m.Attention, 2*m.Predictor
		in = 4 * d // the dual head reads [u, v, u⊙v, |u−v|]
	}
	m.Other = in*int64(c.Hidden) + int64(c.Hidden)*int64(classes)
	return m, nil
}

// TaskClasses is the number of classes of a task's data, known without
// loading it.
func TaskClasses(task string) (int, error) {
	switch task {
	case "listops":
		return lra.ListOpsClasses, nil
	case "text":
		return len(lra.DefaultGroups()), nil
	case "retrieval":
		return 2, nil
	case "image":
		return fmnist.Classes, nil
	}
	return 0, fmt.Errorf("%w: unknown task %q, want one of %v", ErrConfig, task, Tasks)
}
