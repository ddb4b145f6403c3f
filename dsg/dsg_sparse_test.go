package dsg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/rproj"
)

// Table A.1 of the thesis: VGG8 layers on CIFAR-10 (nPQ, nCRS, nK), the
// projected dimension k and the search's mega-MACs (2²⁰ MACs, as the
// table's baseline column shows: 1024·1152·128 = 144·2²⁰) for
// ε = 0.3, 0.5, 0.7, 0.9, and the dense baseline.
func TestTableA1(t *testing.T) {
	rows := []struct {
		nPQ, nCRS, nK int
		k             [4]int
		mmacs         [4]float64
		baseline      float64
	}{
		{1024, 1152, 128, [4]int{539, 232, 148, 119}, [4]float64{67.37, 29, 18.5, 14.88}, 144},
		{256, 1152, 256, [4]int{616, 266, 169, 136}, [4]float64{38.5, 16.63, 10.56, 8.5}, 72},
		{256, 2304, 256, [4]int{616, 266, 169, 136}, [4]float64{38.5, 16.63, 10.56, 8.5}, 144},
		{64, 2304, 512, [4]int{693, 299, 190, 154}, [4]float64{21.65, 9.34, 5.94, 4.81}, 72},
		{64, 4608, 512, [4]int{693, 299, 190, 154}, [4]float64{21.65, 9.34, 5.94, 4.81}, 144},
	}
	const mega = 1 << 20
	for _, r := range rows {
		if got := float64(r.nPQ*r.nCRS*r.nK) / mega; got != r.baseline {
			t.Errorf("%d,%d,%d: baseline %v MMACs, table %v", r.nPQ, r.nCRS, r.nK, got, r.baseline)
		}
		for i, eps := range []float64{0.3, 0.5, 0.7, 0.9} {
			k, macs, err := SearchMACs(r.nPQ, r.nCRS, r.nK, eps)
			if err != nil {
				t.Fatal(err)
			}
			// The table prints two decimals, rounding some values up
			// (14.875 → 14.88) and truncating others (21.656 → 21.65):
			// within one unit of the last place. One more dimension of k
			// would move each entry by at least 0.03.
			if got := float64(macs) / mega; k != r.k[i] || math.Abs(got-r.mmacs[i]) >= 0.01 {
				t.Errorf("%d,%d,%d ε=%.1f: k=%d, %.4f MMACs; table k=%d, %v MMACs", r.nPQ, r.nCRS, r.nK, eps, k, got, r.k[i], r.mmacs[i])
			}
		}
	}
	if _, _, err := SearchMACs(64, 100, 512, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("ε=1: %v, want ErrConfig", err)
	}
	// A small layer projects to no more dimensions than it has.
	if k, _, _ := SearchMACs(784, 25, 6, 0.5); k != 25 {
		t.Errorf("conv1 of LeNet: k=%d, want the cap 25", k)
	}
}

// The projection DSG uses is eq. 4.5–4.6 with s = 3: f(v) = R·v/√k with
// R's entries √3 and −√3 with probability 1/6 each and 0 with 2/3, i.e.
// rproj's P = R/√k with entries ±√(3/k).
func TestProjectionIsSEqualsThree(t *testing.T) {
	s, err := newDRS(Sparse{Gamma: 0.5}.withDefaults(), 300, 784, 9)
	if err != nil {
		t.Fatal(err)
	}
	k := s.k()
	if want, _ := rproj.KForDSG(0.5, 300); k != want {
		t.Fatalf("k=%d, want %d", k, want)
	}
	p := s.p.Dense()
	a := float32(math.Sqrt(3 / float64(k)))
	var plus, minus, zero int
	for _, v := range p {
		switch {
		case v == 0:
			zero++
		case math.Abs(float64(v-a)) < 1e-6:
			plus++
		case math.Abs(float64(v+a)) < 1e-6:
			minus++
		default:
			t.Fatalf("entry %v is none of 0, ±√(3/k) = ±%v", v, a)
		}
	}
	n := float64(len(p))
	// Binomial: 5 standard deviations of a frequency over 2·10⁵ entries.
	for _, c := range []struct {
		name string
		got  int
		p    float64
	}{{"+√3", plus, 1.0 / 6}, {"−√3", minus, 1.0 / 6}, {"0", zero, 2.0 / 3}} {
		if sd := math.Sqrt(c.p * (1 - c.p) / n); math.Abs(float64(c.got)/n-c.p) > 5*sd {
			t.Errorf("%s: frequency %.4f, want %.4f", c.name, float64(c.got)/n, c.p)
		}
	}
}

// newSparseTestLayer builds a sparse FC or conv layer on its own.
func newSparseTestLayer(t *testing.T, fc bool, sp Sparse, gamma *float64, seed uint64) (*sparseLayer, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var l *sparseLayer
	var in int
	if fc {
		lin := nn.NewLinear(64, 40, rng)
		l = &sparseLayer{nm: "fc", lin: lin, nK: 40, d: 64, rowsPer: 1}
		in = 64
	} else {
		cv := nn.NewConv2d(nn.ConvConfig{InC: 3, InH: 6, InW: 5, OutC: 12, Kernel: 3, Pad: 1}, rng)
		l = &sparseLayer{nm: "conv", cv: cv, nK: 12, d: 27, rowsPer: 30}
		in = cv.InSize()
	}
	sp = sp.withDefaults()
	l.gamma, l.perSamp = gamma, sp.Select == SelectPerSample
	l.selMode, l.channel = sp.Select, sp.Granularity == GranChannel
	var err error
	if l.search, err = newDRS(sp, l.nK, l.d, seed); err != nil {
		t.Fatal(err)
	}
	l.search.gemm = l.channel
	return l, in
}

// The forward executor against a dense float64 reference masked
// afterwards; the selection against the top-k definition on the
// estimates; the backward executors against dense float64 products of
// the masked gradient (conv's input gradient against nn's dense
// Backward); and the weight rows of neurons no row selected get exactly
// zero gradient.
func TestSparseLayerMatchesMaskedDense(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, fc := range []bool{true, false} {
		for _, mode := range []string{SelectFirst, SelectPerSample} {
			for _, strat := range []string{StrategyDRS, StrategyOracle, StrategyRandom} {
				for _, gamma := range []float64{0, 0.5, 0.9} {
					for _, p := range []*kernels.Pool{nil, pool} {
						g := gamma
						l, in := newSparseTestLayer(t, fc, Sparse{Gamma: g, Select: mode, Strategy: strat}, &g, 11)
						l.pool = p
						checkSparseLayer(t, l, in, g, mode)
					}
				}
			}
		}
	}
}

// The channel executors (one GEMM per group over the selected weight
// rows): the selection is each group's top channels by summed ReLU
// estimate, the same for every row of the group; forward, weight and
// input gradients match dense float64 references of the masked layer;
// and recomputing on the same input (Reapply) gives the forward again.
func TestChannelLayerMatchesMaskedDense(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, fc := range []bool{true, false} {
		for _, mode := range []string{SelectFirst, SelectPerSample, SelectBatch} {
			for _, strat := range []string{StrategyDRS, StrategyOracle, StrategyRandom} {
				for _, gamma := range []float64{0, 0.5, 0.9} {
					for _, p := range []*kernels.Pool{nil, pool} {
						g := gamma
						l, in := newSparseTestLayer(t, fc, Sparse{Gamma: g, Select: mode, Strategy: strat, Granularity: GranChannel}, &g, 11)
						l.pool = p
						checkChannelLayer(t, l, in, g, mode)
					}
				}
			}
		}
	}
}

func checkChannelLayer(t *testing.T, l *sparseLayer, in int, gamma float64, mode string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(12, 13))
	const n = 4
	x := make([]float32, n*in)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	_, outSize := l.sizes()
	y := make([]float32, n*outSize)
	for i := range y {
		y[i] = 99
	}
	l.forward(y, x, n, true)
	rows, nK, d := n*l.rowsPer, l.nK, l.d
	tag := fmt.Sprintf("%s/%s/%s γ=%v", l.nm, mode, l.search.strategy, gamma)
	if err := l.pat.Validate(); err != nil || l.pat.Rows != rows || l.pat.Cols != nK {
		t.Fatalf("%s: pattern %d×%d: %v", tag, l.pat.Rows, l.pat.Cols, err)
	}
	kSel := nK - int(math.Round(gamma*float64(nK)))
	groups, searched := 1, rows
	switch mode {
	case SelectPerSample:
		groups = n
	case SelectFirst:
		searched = l.rowsPer
	}
	if len(l.approx) != searched*nK {
		t.Fatalf("%s: %d estimates, want %d (the rows that rank)", tag, len(l.approx), searched*nK)
	}
	per, sper := rows/groups, searched/groups
	for g := range groups {
		score := make([]float64, nK)
		for r := g * sper; r < (g+1)*sper; r++ {
			for j := range nK {
				score[j] += max(0, float64(l.approx[r*nK+j]))
			}
		}
		first := l.pat.Row(g * per)
		if len(first) != kSel {
			t.Fatalf("%s group %d: %d channels kept, want %d", tag, g, len(first), kSel)
		}
		kept := make([]bool, nK)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, j := range first {
			kept[j] = true
			lo = min(lo, score[j])
		}
		for j := range nK {
			if !kept[j] {
				hi = max(hi, score[j])
			}
		}
		if lo < hi-1e-4*math.Abs(hi) {
			t.Fatalf("%s group %d: lowest kept score %v below highest dropped %v", tag, g, lo, hi)
		}
		for r := g * per; r < (g+1)*per; r++ {
			if fmt.Sprint(l.pat.Row(r)) != fmt.Sprint(first) {
				t.Fatalf("%s: row %d keeps %v, its group %v", tag, r, l.pat.Row(r), first)
			}
		}
	}
	X, mask := l.x, l.pat.Mask()
	w, b := l.weights()
	for r := range rows {
		for j := range nK {
			want := 0.0
			if mask[r*nK+j] {
				want = float64(b.Data[j])
				for c := range d {
					want += float64(X[r*d+c]) * float64(w.Data[j*d+c])
				}
			}
			if got := float64(y[r*nK+j]); math.Abs(got-want) > 1e-5*float64(d) {
				t.Fatalf("%s: y[%d,%d] = %v, want %v", tag, r, j, got, want)
			}
		}
	}
	y2 := make([]float32, len(y))
	l.Reapply(y2, x)
	for i := range y {
		if math.Abs(float64(y2[i]-y[i])) > 1e-5*float64(d) {
			t.Fatalf("%s: Reapply y[%d] = %v, forward %v", tag, i, y2[i], y[i])
		}
	}
	checkMaskedBackward(t, l, x, in, mask, rng, tag)
}

// With skipDead the channel executors leave inputs that are zero in the
// whole batch out of the lowered matrix and the GEMMs, and searching a
// fraction of the rows ranks on those alone: forward and weight gradient
// are the masked dense layer's, the input gradient too except at the
// dead inputs, where it is zero.
func TestChannelSkipsDeadInputs(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, fc := range []bool{true, false} {
		for _, mode := range []string{SelectBatch, SelectPerSample, SelectFirst} {
			for _, frac := range []float64{1, 0.25} {
				g := 0.5
				l, in := newSparseTestLayer(t, fc, Sparse{Gamma: g, Select: mode, Granularity: GranChannel, SearchFraction: frac}, &g, 7)
				l.pool, l.skipDead, l.searchFrac = pool, true, frac
				ch := in
				if !fc {
					ch = l.cv.InC
				}
				dead := func(i int) bool { return (i%ch)%3 == 1 } // channels 1, 4, ...
				const n = 4
				rng := rand.New(rand.NewPCG(5, 6))
				x := make([]float32, n*in)
				for i := range x {
					if !dead(i) {
						x[i] = float32(rng.NormFloat64())
					}
				}
				_, out := l.sizes()
				y := make([]float32, n*out)
				l.forward(y, x, n, true)
				tag := fmt.Sprintf("fc=%v/%s/frac=%v", fc, mode, frac)
				if want := ch - (ch+1)/3; len(l.ch.live) != want {
					t.Fatalf("%s: %d live inputs %v, want %d", tag, len(l.ch.live), l.ch.live, want)
				}
				X := x
				if !fc {
					X = slices.Clone(l.cv.Lower(x, n))
				}
				mask := l.pat.Mask()
				w, b := l.weights()
				rows, nK, d := n*l.rowsPer, l.nK, l.d
				for r := range rows {
					for j := range nK {
						want := 0.0
						if mask[r*nK+j] {
							want = float64(b.Data[j])
							for c := range d {
								want += float64(X[r*d+c]) * float64(w.Data[j*d+c])
							}
						}
						if got := float64(y[r*nK+j]); math.Abs(got-want) > 1e-5*float64(d) {
							t.Fatalf("%s: y[%d,%d] = %v, want %v", tag, r, j, got, want)
						}
					}
				}
				if frac < 1 && (mode == SelectBatch || !fc) && mode != SelectFirst && len(l.approx) >= rows*nK {
					t.Fatalf("%s: the search estimated %d values, all %d rows", tag, len(l.approx), rows*nK)
				}
				checkMaskedBackwardX(t, l, x, X, in, mask, rng, tag, dead)
			}
		}
	}
}

// The GEMM form of the projection (the channel executors') gives the
// ternary gather's estimates within float32 rounding.
func TestProjectionGemmMatchesTernary(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	const nK, d, rows = 64, 576, 37
	rng := rand.New(rand.NewPCG(4, 4))
	X, w, b := make([]float32, rows*d), make([]float32, nK*d), make([]float32, nK)
	for _, v := range [][]float32{X, w, b} {
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
	}
	var got [2][]float32
	for i, g := range []bool{false, true} {
		s, err := newDRS(Sparse{Gamma: 0.5}.withDefaults(), nK, d, 9)
		if err != nil {
			t.Fatal(err)
		}
		s.gemm = g
		got[i] = make([]float32, rows*nK)
		s.estimate(pool, got[i], X, w, b, rows, true)
	}
	for i := range got[0] {
		if math.Abs(float64(got[0][i]-got[1][i])) > 1e-4*(1+math.Abs(float64(got[0][i]))) {
			t.Fatalf("estimate %d: ternary %v, GEMM %v", i, got[0][i], got[1][i])
		}
	}
}

// f(W) is projected on the first forward pass and again every Refresh
// training iterations, not in between, and never by evaluation passes.
func TestProjectedWeightsRefresh(t *testing.T) {
	g := 0.5
	l, in := newSparseTestLayer(t, true, Sparse{Gamma: g, Refresh: 3}, &g, 2)
	x := make([]float32, 2*in)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	y := make([]float32, 2*l.nK)
	w, _ := l.weights()
	var refreshed []int
	var last []float32
	for it := range 8 {
		for i := range w.Data {
			w.Data[i] += 0.25 // new weights every iteration
		}
		l.forward(y, x, 2, it != 4)
		if last == nil || fmt.Sprint(last) != fmt.Sprint(l.search.wp) {
			refreshed = append(refreshed, it)
		}
		last = append(last[:0], l.search.wp...)
	}
	// Training calls 0–3 and 5–7 are iterations 0–6; refreshes at 0, 3, 6.
	if want := []int{0, 3, 7}; fmt.Sprint(refreshed) != fmt.Sprint(want) {
		t.Errorf("f(W) changed at calls %v, want %v", refreshed, want)
	}
}

func checkSparseLayer(t *testing.T, l *sparseLayer, in int, gamma float64, mode string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(12, 13))
	const n = 4
	x := make([]float32, n*in)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	_, outSize := l.sizes()
	y := make([]float32, n*outSize)
	for i := range y {
		y[i] = 99 // must all be overwritten
	}
	l.forward(y, x, n, true)
	rows, nK, d := n*l.rowsPer, l.nK, l.d
	X := l.x
	w, b := l.weights()
	mask := l.pat.Mask()
	if err := l.pat.Validate(); err != nil || l.pat.Rows != rows || l.pat.Cols != nK {
		t.Fatalf("%s: pattern %d×%d: %v", l.nm, l.pat.Rows, l.pat.Cols, err)
	}
	tag := func() string { return l.nm + "/" + mode + "/" + l.search.strategy }
	// Forward: exact where selected, zero elsewhere.
	for r := range rows {
		for j := range nK {
			want := 0.0
			if mask[r*nK+j] {
				want = float64(b.Data[j])
				for c := range d {
					want += float64(X[r*d+c]) * float64(w.Data[j*d+c])
				}
			}
			if got := float64(y[r*nK+j]); math.Abs(got-want) > 1e-5*float64(d) {
				t.Fatalf("%s γ=%v: y[%d,%d] = %v, want %v", tag(), gamma, r, j, got, want)
			}
		}
	}
	// Selection: each searched sample keeps exactly its top K estimates
	// (no ties among continuous values), so its sparsity is γ rounded to
	// whole outputs; with a shared threshold the others keep exactly the
	// estimates at or above the first sample's K-th.
	per := l.rowsPer * nK
	K := per - int(math.Round(gamma*float64(per)))
	var theta0 float32
	for s := range n {
		kept := 0
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for i := range per {
			a := l.approx[s*per+i]
			if mask[s*per+i] {
				kept++
				lo = min(lo, a)
			} else {
				hi = max(hi, a)
			}
		}
		if s == 0 {
			theta0 = lo
		}
		if s == 0 || mode == SelectPerSample {
			if kept != K || lo < hi {
				t.Fatalf("%s γ=%v sample %d: %d kept (want %d), lowest kept estimate %v, highest dropped %v", tag(), gamma, s, kept, K, lo, hi)
			}
			if sp := 1 - float64(kept)/float64(per); math.Abs(sp-gamma) > 0.5/float64(per)+1e-12 {
				t.Fatalf("%s: sample %d sparsity %v, want γ=%v within rounding", tag(), s, sp, gamma)
			}
			continue
		}
		for i := range per {
			if a := l.approx[s*per+i]; mask[s*per+i] != (a >= theta0) {
				t.Fatalf("%s γ=%v sample %d: estimate %v kept=%v with shared threshold %v", tag(), gamma, s, a, mask[s*per+i], theta0)
			}
		}
	}
	checkMaskedBackward(t, l, x, in, mask, rng, tag())
}

// checkMaskedBackward checks the backward pass of l after a forward of x
// whose selection is mask: against dense float64 products of the masked
// gradient (conv's input gradient against nn's dense Backward), with
// exactly zero gradient for the weight rows of neurons selected nowhere.
func checkMaskedBackward(t *testing.T, l *sparseLayer, x []float32, in int, mask []bool, rng *rand.Rand, tag string) {
	t.Helper()
	checkMaskedBackwardX(t, l, x, l.x, in, mask, rng, tag, nil)
}

// checkMaskedBackwardX is checkMaskedBackward with the full lowered
// matrix X given and, where dead(i), the input gradient required zero.
func checkMaskedBackwardX(t *testing.T, l *sparseLayer, x, X []float32, in int, mask []bool, rng *rand.Rand, tag string, dead func(int) bool) {
	t.Helper()
	n := l.n
	rows, nK, d := n*l.rowsPer, l.nK, l.d
	w, b := l.weights()
	_, outSize := l.sizes()
	gamma := *l.gamma
	mode := l.selMode
	tagf := func() string { return tag }
	// Backward with a dense dy: the executors must read only the
	// selected entries (Algorithm 5's Mask_k on G_S).
	dy := make([]float32, rows*nK)
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	w.Grad, b.Grad = make([]float32, len(w.Data)), make([]float32, len(b.Data))
	dx := make([]float32, n*in)
	l.backward(dx, dy)
	dym := make([]float32, len(dy))
	for i, v := range dy {
		if mask[i] {
			dym[i] = v
		}
	}
	selected := make([]bool, nK)
	for r := range rows {
		for j := range nK {
			selected[j] = selected[j] || mask[r*nK+j]
		}
	}
	unselected := 0
	for j := range nK {
		gb := 0.0
		for r := range rows {
			gb += float64(dym[r*nK+j])
		}
		if math.Abs(float64(b.Grad[j])-gb) > 1e-5*float64(rows) {
			t.Fatalf("%s: bias grad[%d] = %v, want %v", tagf(), j, b.Grad[j], gb)
		}
		for c := range d {
			gw := 0.0
			for r := range rows {
				gw += float64(dym[r*nK+j]) * float64(X[r*d+c])
			}
			got := w.Grad[j*d+c]
			if math.Abs(float64(got)-gw) > 1e-5*float64(rows) {
				t.Fatalf("%s: weight grad[%d,%d] = %v, want %v", tagf(), j, c, got, gw)
			}
			if !selected[j] && got != 0 {
				t.Fatalf("%s: neuron %d is selected nowhere, yet its weight gradient is %v", tagf(), j, got)
			}
		}
		if !selected[j] {
			unselected++
			if b.Grad[j] != 0 {
				t.Fatalf("%s: neuron %d is selected nowhere, yet its bias gradient is %v", tagf(), j, b.Grad[j])
			}
		}
	}
	if l.lin != nil && gamma == 0.9 && mode == SelectFirst && unselected == 0 {
		t.Errorf("%s γ=0.9: every neuron was selected somewhere; the zero-gradient check saw nothing", tagf())
	}
	// Input gradient.
	if l.lin != nil {
		for r := range n {
			for c := range d {
				want := 0.0
				for j := range nK {
					want += float64(dym[r*nK+j]) * float64(w.Data[j*d+c])
				}
				if dead != nil && dead(r*d+c) {
					want = 0
				}
				if math.Abs(float64(dx[r*d+c])-want) > 1e-5*float64(nK) {
					t.Fatalf("%s: dx[%d,%d] = %v, want %v", tagf(), r, c, dx[r*d+c], want)
				}
			}
		}
		return
	}
	ref := make([]float32, n*in)
	l.cv.Forward(make([]float32, n*outSize), x, n)
	l.cv.Backward(ref, dym)
	for i := range ref {
		if dead != nil && dead(i) {
			ref[i] = 0
		}
		if math.Abs(float64(dx[i]-ref[i])) > 1e-5*float64(nK*d) {
			t.Fatalf("%s: dx[%d] = %v, dense Backward of the masked gradient %v", tagf(), i, dx[i], ref[i])
		}
	}
}

// The search finds the large activations: on a layer with informative
// inputs its selection overlaps the oracle top-k far more than a random
// one, and more so at smaller ε (larger k).
func TestSearchFindsLargeActivations(t *testing.T) {
	overlap := func(strat string, eps float64) float64 {
		g := 0.8
		sp := Sparse{Gamma: g, Eps: eps, Select: SelectPerSample, Strategy: strat}
		rng := rand.New(rand.NewPCG(21, 22))
		lin := nn.NewLinear(784, 300, rng)
		l := &sparseLayer{nm: "fc", lin: lin, nK: 300, d: 784, rowsPer: 1, gamma: &g, perSamp: true}
		var err error
		if l.search, err = newDRS(sp.withDefaults(), 300, 784, 5); err != nil {
			t.Fatal(err)
		}
		o := &sparseLayer{nm: "oracle", lin: lin, nK: 300, d: 784, rowsPer: 1, gamma: &g, perSamp: true}
		o.search, _ = newDRS(Sparse{Gamma: g, Strategy: StrategyOracle}.withDefaults(), 300, 784, 5)
		const n = 32
		x := make([]float32, n*784)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		y := make([]float32, n*300)
		l.forward(y, x, n, true)
		o.forward(y, x, n, true)
		a, b := l.pat.Mask(), o.pat.Mask()
		both, kept := 0, 0
		for i := range a {
			if b[i] {
				kept++
				if a[i] {
					both++
				}
			}
		}
		return float64(both) / float64(kept)
	}
	random := overlap(StrategyRandom, 0.5)
	d3, d5, d9 := overlap(StrategyDRS, 0.3), overlap(StrategyDRS, 0.5), overlap(StrategyDRS, 0.9)
	t.Logf("overlap with oracle top-20%%: random %.3f, DRS ε=0.3 %.3f, 0.5 %.3f, 0.9 %.3f", random, d3, d5, d9)
	if math.Abs(random-0.2) > 0.05 {
		t.Errorf("random selection overlaps the oracle by %.3f, want ≈ 0.2", random)
	}
	if d5 < random+0.2 || d3 <= d9 {
		t.Errorf("DRS overlaps: ε=0.3 %.3f, 0.5 %.3f, 0.9 %.3f; random %.3f", d3, d5, d9, random)
	}
}

// With the zero-value-compressed stash, backward rebuilds its input from
// the stash alone: the input and the lowered matrix overwritten after
// forward, it gives the gradients of the uncompressed layer; the stash
// round-trips the input exactly and is as small as its zeros allow.
func TestZVCStashBackward(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, fc := range []bool{true, false} {
		for _, gran := range []string{GranElement, GranChannel} {
			g := 0.7
			sp := Sparse{Gamma: g, Granularity: gran}
			plain, in := newSparseTestLayer(t, fc, sp, &g, 5)
			sp.ZVC = true
			zl, _ := newSparseTestLayer(t, fc, sp, &g, 5)
			zl.zvc = true
			plain.pool, zl.pool = pool, pool
			tag := fmt.Sprintf("fc=%v/%s", fc, gran)
			const n = 4
			rng := rand.New(rand.NewPCG(3, 4))
			x := make([]float32, n*in)
			zeros := 0
			for i := range x {
				if rng.IntN(10) < 6 {
					zeros++
					continue
				}
				x[i] = float32(rng.NormFloat64())
			}
			// −0 is a zero; the smallest subnormal is not.
			x[0], x[1] = float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32
			zeros = 0
			for _, v := range x {
				if v == 0 {
					zeros++
				}
			}
			_, out := plain.sizes()
			y1, y2 := make([]float32, n*out), make([]float32, n*out)
			plain.forward(y1, x, n, true)
			zl.forward(y2, slices.Clone(x), n, true)
			back := make([]float32, len(x))
			zl.stash.decompress(pool, back)
			if !slices.Equal(back, x) {
				t.Fatalf("%s: the stash does not round-trip its input", tag)
			}
			if want := 8*n*((in+63)/64) + 4*(n+1) + 4*(len(x)-zeros); zl.stash.bytes() != want {
				t.Fatalf("%s: stash %d bytes, want %d (masks, offsets, %d non-zeros)", tag, zl.stash.bytes(), want, len(x)-zeros)
			}
			// Overwrite everything backward could read other than the stash.
			for i := range zl.x {
				zl.x[i] = float32(math.NaN())
			}
			dy := make([]float32, n*out)
			for i := range dy {
				dy[i] = float32(rng.NormFloat64())
			}
			dx1, dx2 := make([]float32, n*in), make([]float32, n*in)
			for _, l := range []*sparseLayer{plain, zl} {
				w, b := l.weights()
				w.Grad, b.Grad = make([]float32, len(w.Data)), make([]float32, len(b.Data))
			}
			plain.backward(dx1, dy)
			zl.backward(dx2, dy)
			w1, b1 := plain.weights()
			w2, b2 := zl.weights()
			for _, c := range []struct {
				name string
				a, b []float32
			}{{"dx", dx1, dx2}, {"weight grad", w1.Grad, w2.Grad}, {"bias grad", b1.Grad, b2.Grad}} {
				for i := range c.a {
					if d := math.Abs(float64(c.a[i] - c.b[i])); !(d <= 1e-5*(1+math.Abs(float64(c.a[i])))) {
						t.Fatalf("%s: %s[%d] = %v from the stash, %v uncompressed", tag, c.name, i, c.b[i], c.a[i])
					}
				}
			}
		}
	}
}
