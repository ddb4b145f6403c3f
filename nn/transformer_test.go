package nn

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/safetensors"
)

func TestGradLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const rows, dim = 4, 6
	l := NewLayerNorm(dim)
	for _, p := range l.Params() {
		p.Uniform(rng, 1.5) // away from γ = 1, β = 0, where a swapped term could hide
	}
	x := randVec(rng, rows*dim, 2)
	dx := make([]float32, len(x))
	r := randVec(rng, len(x), 1)
	y := make([]float32, len(x))
	loss := func() float64 { l.Forward(y, x, rows); return dotLoss(r, y) }
	backward := func() { loss(); l.Backward(dx, r) }
	checkGradients(t, loss, backward, append(paramTargets(l.Params()), gradTarget{"x", x, dx}))
}

func TestGradGELU(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var a GELU
	x := randVec(rng, 40, 4)
	dx := make([]float32, len(x))
	r := randVec(rng, len(x), 1)
	y := make([]float32, len(x))
	loss := func() float64 { a.Forward(y, x); return dotLoss(r, y) }
	backward := func() { loss(); a.Backward(dx, r) }
	checkGradients(t, loss, backward, []gradTarget{{"x", x, dx}})
}

// TestGELUValues pins GELU to values of its tanh form computed
// independently (PyTorch's GELU(approximate="tanh")).
func TestGELUValues(t *testing.T) {
	x := []float32{-3, -1, 0, 0.5, 2}
	want := []float64{-0.0036373920, -0.1588079929, 0, 0.3457140028, 1.9545976925}
	y := make([]float32, len(x))
	var a GELU
	a.Forward(y, x)
	for i := range x {
		if math.Abs(float64(y[i])-want[i]) > 1e-6 {
			t.Errorf("GELU(%v) = %v, want %v", x[i], y[i], want[i])
		}
	}
}

// refAttention is multi-head self-attention in float64 straight from its
// definition, for sequences back to back as MultiHeadAttention takes them.
func refAttention(a *MultiHeadAttention, x []float32, lens []int) []float64 {
	d, dh := a.Dim, a.Dim/a.Heads
	proj := func(l *Linear, x []float64, n int) []float64 {
		y := make([]float64, n*l.Out)
		for i := range n {
			for o := range l.Out {
				s := float64(l.Bias.Data[o])
				for k := range l.In {
					s += x[i*l.In+k] * float64(l.Weight.Data[o*l.In+k])
				}
				y[i*l.Out+o] = s
			}
		}
		return y
	}
	n := len(x) / d
	x64 := make([]float64, len(x))
	for i, v := range x {
		x64[i] = float64(v)
	}
	q, k, v := proj(a.Q, x64, n), proj(a.K, x64, n), proj(a.V, x64, n)
	cat := make([]float64, n*d)
	off := 0
	for _, l := range lens {
		for h := range a.Heads {
			for i := range l {
				s := make([]float64, l)
				mx := math.Inf(-1)
				for j := range l {
					for c := range dh {
						s[j] += q[(off+i)*d+h*dh+c] * k[(off+j)*d+h*dh+c]
					}
					s[j] /= math.Sqrt(float64(dh))
					mx = math.Max(mx, s[j])
				}
				var z float64
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					z += s[j]
				}
				for j := range l {
					for c := range dh {
						cat[(off+i)*d+h*dh+c] += s[j] / z * v[(off+j)*d+h*dh+c]
					}
				}
			}
		}
		off += l
	}
	return proj(a.Out, cat, n)
}

func TestMultiHeadAttentionForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const dim, heads = 16, 4
	a := NewMultiHeadAttention(dim, heads, rng)
	for _, p := range a.Params() {
		p.Uniform(rng, 0.6)
	}
	lens := []int{1, 7, 130} // 130 > one key tile of the kernel
	n := 138
	x := randVec(rng, n*dim, 1)
	y := make([]float32, len(x))
	a.Forward(y, x, lens)
	want := refAttention(a, x, lens)
	var worst float64
	for i := range y {
		e := math.Abs(float64(y[i])-want[i]) / (1e-4 + 1e-4*math.Abs(want[i]))
		worst = max(worst, e)
	}
	if worst > 1 {
		t.Errorf("attention differs from float64 reference: worst error / tolerance %.3g", worst)
	}
}

func TestGradMultiHeadAttention(t *testing.T) {
	for _, tc := range []struct {
		dim, heads int
		lens       []int
	}{
		{8, 2, []int{3, 5}},
		{4, 1, []int{attnRowBlock + 6}}, // two row blocks in the backward pass
	} {
		t.Run(fmt.Sprintf("d%d/h%d/%v", tc.dim, tc.heads, tc.lens), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(17, uint64(tc.dim)))
			a := NewMultiHeadAttention(tc.dim, tc.heads, rng)
			for _, p := range a.Params() {
				p.Uniform(rng, 0.8) // sharp enough softmaxes that a wrong dS shows
			}
			n := seqRows("test", tc.lens)
			x := randVec(rng, n*tc.dim, 1)
			dx := make([]float32, len(x))
			r := randVec(rng, len(x), 1)
			y := make([]float32, len(x))
			loss := func() float64 { a.Forward(y, x, tc.lens); return dotLoss(r, y) }
			backward := func() { loss(); a.Backward(dx, r) }
			checkGradients(t, loss, backward, append(paramTargets(a.Params()), gradTarget{"x", x, dx}))
		})
	}
}

func TestGradEncoderLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	const dim, heads, ffn = 8, 2, 12
	e := NewEncoderLayer(dim, heads, ffn, 0, rng)
	for _, p := range e.Params() {
		p.Uniform(rng, 0.7)
	}
	lens := []int{4, 2}
	x := randVec(rng, 6*dim, 1)
	dx := make([]float32, len(x))
	r := randVec(rng, len(x), 1)
	y := make([]float32, len(x))
	loss := func() float64 { e.Forward(y, x, lens, false); return dotLoss(r, y) }
	backward := func() { loss(); e.Backward(dx, r) }
	checkGradients(t, loss, backward, append(paramTargets(e.Params()), gradTarget{"x", x, dx}))
}

func smallConfig(pool Pooling) EncoderConfig {
	return EncoderConfig{Vocab: 7, MaxLen: 6, Dim: 8, Heads: 2, FFN: 10, Layers: 2, Pool: pool}
}

func TestGradClassifier(t *testing.T) {
	for _, pool := range []Pooling{MeanPool, CLSPool} {
		t.Run(fmt.Sprint(pool), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, uint64(pool)))
			c, err := NewClassifier(smallConfig(pool), 9, 3, rng)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range c.Params() {
				p.Uniform(rng, 0.7)
			}
			ids := []int32{1, 6, 6, 0, 2, 3, 5, 4, 1} // repeated ids and positions accumulate
			lens := []int{5, 1, 3}
			targets := []int32{2, 0, 1}
			logits := make([]float32, 3*3)
			dlogits := make([]float32, len(logits))
			loss := func() float64 {
				if err := c.Forward(logits, ids, lens, false); err != nil {
					t.Fatal(err)
				}
				return CrossEntropy(nil, nil, logits, targets, 3)
			}
			backward := func() {
				loss()
				CrossEntropy(nil, dlogits, logits, targets, 3)
				c.Backward(dlogits)
			}
			checkGradients(t, loss, backward, paramTargets(c.Params()))
		})
	}
}

func TestGradDualClassifier(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	c, err := NewDualClassifier(smallConfig(MeanPool), 9, 2, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Params() {
		p.Uniform(rng, 0.7)
	}
	ids1, lens1 := []int32{1, 2, 3, 4, 5, 6}, []int{4, 2}
	ids2, lens2 := []int32{6, 0, 0, 3, 2}, []int{2, 3}
	targets := []int32{1, 0}
	logits := make([]float32, 2*2)
	dlogits := make([]float32, len(logits))
	loss := func() float64 {
		if err := c.Forward(logits, ids1, lens1, ids2, lens2, false); err != nil {
			t.Fatal(err)
		}
		return CrossEntropy(nil, nil, logits, targets, 2)
	}
	backward := func() {
		loss()
		CrossEntropy(nil, dlogits, logits, targets, 2)
		c.Backward(dlogits)
	}
	checkGradients(t, loss, backward, paramTargets(c.Params()))
}

// TestDualClassifierSymmetricFeatures checks the pair features: swapping
// the two sides must change only the u−v block's sign and swap u and v.
func TestDualClassifierFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	c, err := NewDualClassifier(smallConfig(MeanPool), 4, 2, rng)
	if err != nil {
		t.Fatal(err)
	}
	logits := make([]float32, 2)
	if err := c.Forward(logits, []int32{1, 2, 3}, []int{3}, []int32{4, 5}, []int{2}, false); err != nil {
		t.Fatal(err)
	}
	f1 := append([]float32(nil), c.feat...)
	if err := c.Forward(logits, []int32{4, 5}, []int{2}, []int32{1, 2, 3}, []int{3}, false); err != nil {
		t.Fatal(err)
	}
	d := c.Enc.Cfg.Dim
	for j := range d {
		if f1[j] != c.feat[d+j] || f1[d+j] != c.feat[j] || f1[2*d+j] != c.feat[2*d+j] || f1[3*d+j] != -c.feat[3*d+j] {
			t.Fatalf("feature %d: [u v u*v u-v] not swapped consistently: %v vs %v", j, f1, c.feat)
		}
	}
}

func TestEncoderBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	c, err := NewClassifier(smallConfig(MeanPool), 4, 2, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ids  []int32
		lens []int
	}{
		{"too long", make([]int32, 7), []int{7}},
		{"empty sequence", []int32{1}, []int{1, 0}},
		{"no sequences", nil, nil},
		{"token beyond vocabulary", []int32{1, 7}, []int{2}},
		{"negative token", []int32{-1}, []int{1}},
		{"lengths do not add up", []int32{1, 2, 3}, []int{2}},
	} {
		logits := make([]float32, 2*max(1, len(tc.lens)))
		if err := c.Forward(logits, tc.ids, tc.lens, false); !errors.Is(err, ErrSequence) {
			t.Errorf("%s: got %v, want ErrSequence", tc.name, err)
		}
	}
	if _, err := NewEncoder(EncoderConfig{Vocab: 4, MaxLen: 4, Dim: 6, Heads: 4, FFN: 4, Layers: 1}, rng); err == nil {
		t.Error("4 heads over width 6 accepted")
	}
}

func TestEncoderParamNamesUnique(t *testing.T) {
	c, err := NewDualClassifier(smallConfig(MeanPool), 4, 2, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range c.Params() {
		if seen[p.Name] {
			t.Errorf("parameter name %q twice", p.Name)
		}
		seen[p.Name] = true
	}
	for _, name := range []string{"embed.tok.weight", "embed.pos.weight", "layers.1.attn.q.weight", "layers.0.ffn2.bias", "norm.weight", "head.fc1.weight"} {
		if !seen[name] {
			t.Errorf("no parameter %q", name)
		}
	}
}

// TestAdamWEquations runs AdamW on f(w) = ½Σaᵢ(wᵢ − cᵢ)² and compares
// every step with the update written out in float64 from its equations
// (decoupled decay w·(1 − lr·λ) before the bias-corrected Adam step).
func TestAdamWEquations(t *testing.T) {
	a := []float64{1, 4, 0.25}
	c := []float64{2, -1, 3}
	p := NewParam("w", 3)
	copy(p.Data, []float32{0.5, 0.5, -1})
	o := NewAdamW([]*Param{p}, 0.1)
	w := []float64{0.5, 0.5, -1}
	m, v := make([]float64, 3), make([]float64, 3)
	sched := Warmup{Base: 0.05, Warmup: 4}
	for step := 1; step <= 20; step++ {
		lr := sched.Rate(step)
		for i := range p.Data {
			p.Grad[i] = float32(a[i] * (float64(p.Data[i]) - c[i]))
		}
		o.Step(lr)
		for i := range w {
			g := a[i] * (w[i] - c[i])
			w[i] *= 1 - lr*0.1
			m[i] = 0.9*m[i] + 0.1*g
			v[i] = 0.999*v[i] + 0.001*g*g
			mh := m[i] / (1 - math.Pow(0.9, float64(step)))
			vh := v[i] / (1 - math.Pow(0.999, float64(step)))
			w[i] -= lr * mh / (math.Sqrt(vh) + 1e-8)
		}
		for i := range w {
			if math.Abs(float64(p.Data[i])-w[i]) > 1e-5 {
				t.Fatalf("step %d: w[%d] = %v, equations give %v", step, i, p.Data[i], w[i])
			}
		}
	}
}

// TestAdamWDecayDecoupled checks that the decay is applied to the weight,
// not the gradient: with zero gradients Adam's step is zero and each step
// multiplies w by exactly 1 − lr·λ, except for exempt parameters.
func TestAdamWDecayDecoupled(t *testing.T) {
	p, q := NewParam("w", 2), NewParam("bias", 2)
	copy(p.Data, []float32{2, -4})
	copy(q.Data, []float32{2, -4})
	o := NewAdamW([]*Param{p, q}, 0.5)
	o.NoDecay = func(p *Param) bool { return p.Name == "bias" }
	for range 3 {
		o.Step(0.1)
	}
	f := math.Pow(1-0.1*0.5, 3)
	for i, w0 := range []float64{2, -4} {
		if math.Abs(float64(p.Data[i])-w0*f) > 1e-6 {
			t.Errorf("decayed w[%d] = %v, want %v", i, p.Data[i], w0*f)
		}
		if float64(q.Data[i]) != w0 {
			t.Errorf("exempt bias[%d] = %v, want %v unchanged", i, q.Data[i], w0)
		}
	}
}

// TestAdamWMinimises checks that AdamW with a warm-up drives a quadratic
// to its minimum (no decay, so the minimum is c itself).
func TestAdamWMinimises(t *testing.T) {
	c := []float32{1.5, -2, 0.25}
	p := NewParam("w", 3)
	o := NewAdamW([]*Param{p}, 0)
	sched := Warmup{Base: 0.05, Warmup: 50, RsqrtDecay: true}
	for step := 1; step <= 3000; step++ {
		for i := range p.Data {
			p.Grad[i] = 3 * (p.Data[i] - c[i])
		}
		o.Step(sched.Rate(step))
	}
	for i := range c {
		if math.Abs(float64(p.Data[i]-c[i])) > 1e-2 {
			t.Errorf("w[%d] = %v, minimum at %v", i, p.Data[i], c[i])
		}
	}
}

func TestWarmupRate(t *testing.T) {
	for _, tc := range []struct {
		w    Warmup
		t    int
		want float64
	}{
		{Warmup{Base: 1, Warmup: 4}, 1, 0.25},
		{Warmup{Base: 1, Warmup: 4}, 4, 1},
		{Warmup{Base: 1, Warmup: 4}, 100, 1},
		{Warmup{Base: 2, Warmup: 4, RsqrtDecay: true}, 16, 1},
		{Warmup{Base: 2, Warmup: 0}, 5, 2},
		{Warmup{Base: 2, Warmup: 0, RsqrtDecay: true}, 5, 2},
	} {
		if got := tc.w.Rate(tc.t); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%+v.Rate(%d) = %v, want %v", tc.w, tc.t, got, tc.want)
		}
	}
}

// TestClassifierPool checks that running on a pool (threads split over
// heads, query blocks and GEMM tiles) gives the single-threaded logits and
// gradients, up to float32 reassociation.
func TestClassifierPool(t *testing.T) {
	cfg := EncoderConfig{Vocab: 11, MaxLen: 300, Dim: 16, Heads: 4, FFN: 24, Layers: 2}
	build := func() *Classifier {
		c, err := NewClassifier(cfg, 8, 3, rand.New(rand.NewPCG(29, 30)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	rng := rand.New(rand.NewPCG(31, 32))
	lens := []int{300, 77, 150}
	ids := make([]int32, 527)
	for i := range ids {
		ids[i] = int32(rng.IntN(cfg.Vocab))
	}
	targets := []int32{0, 2, 1}
	run := func(c *Classifier) ([]float32, []*Param) {
		logits := make([]float32, 9)
		if err := c.Forward(logits, ids, lens, false); err != nil {
			t.Fatal(err)
		}
		g := make([]float32, 9)
		CrossEntropy(nil, g, logits, targets, 3)
		c.Backward(g)
		return logits, c.Params()
	}
	l1, p1 := run(build())
	pool := kernels.NewPool(3)
	defer pool.Close()
	c2 := build()
	c2.SetPool(pool)
	l2, p2 := run(c2)
	relErr := func(a, b []float32) float64 {
		var worst, scale float64
		for i := range a {
			scale = max(scale, math.Abs(float64(a[i])))
		}
		for i := range a {
			worst = max(worst, math.Abs(float64(a[i]-b[i]))/(1e-6+scale))
		}
		return worst
	}
	if e := relErr(l1, l2); e > 1e-4 {
		t.Errorf("logits differ on a pool: relative error %.3g", e)
	}
	for i := range p1 {
		if e := relErr(p1[i].Grad, p2[i].Grad); e > 1e-3 {
			t.Errorf("%s: gradient differs on a pool: relative error %.3g", p1[i].Name, e)
		}
	}
}

// TestGradClassifierDropout checks the gradient through the embedding,
// attention-output and FFN-output dropouts with their masks held fixed.
func TestGradClassifierDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	cfg := smallConfig(MeanPool)
	cfg.Dropout = 0.3
	c, err := NewClassifier(cfg, 9, 3, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Params() {
		p.Uniform(rng, 0.7)
	}
	ids, lens, targets := []int32{1, 6, 6, 0, 2, 3, 5}, []int{4, 3}, []int32{2, 0}
	logits := make([]float32, 2*3)
	dlogits := make([]float32, len(logits))
	if err := c.Forward(logits, ids, lens, true); err != nil { // draws the masks
		t.Fatal(err)
	}
	train := append([]float32(nil), logits...)
	c.Enc.holdMasks(true)
	loss := func() float64 {
		if err := c.Forward(logits, ids, lens, true); err != nil {
			t.Fatal(err)
		}
		return CrossEntropy(nil, nil, logits, targets, 3)
	}
	backward := func() {
		loss()
		CrossEntropy(nil, dlogits, logits, targets, 3)
		c.Backward(dlogits)
	}
	checkGradients(t, loss, backward, paramTargets(c.Params()))

	// Evaluation is deterministic and not the training function.
	c.Enc.holdMasks(false)
	eval := func() []float32 {
		if err := c.Forward(logits, ids, lens, false); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), logits...)
	}
	e1, e2 := eval(), eval()
	if !slices.Equal(e1, e2) {
		t.Error("evaluation logits differ between two calls")
	}
	if slices.Equal(e1, train) {
		t.Error("training with dropout 0.3 gave the evaluation logits")
	}
	cfg.Dropout = 1
	if _, err := NewEncoder(cfg, rng); err == nil {
		t.Error("dropout 1 accepted")
	}
}

// TestClassifierLearns trains a small classifier with AdamW on a task
// that needs the positional embeddings — the label is the token at
// position 0 of a random sequence, read through mean pooling — and checks
// held-out accuracy far above chance (1/4): forward, backward and
// optimizer work together, not only each alone. (It does not prove that
// attention is needed; a fixed position can be read without it.)
func TestClassifierLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for 300 steps")
	}
	const vocab, l, batch = 4, 8, 16
	rng := rand.New(rand.NewPCG(35, 36))
	cfg := EncoderConfig{Vocab: vocab, MaxLen: l, Dim: 16, Heads: 2, FFN: 32, Layers: 1}
	c, err := NewClassifier(cfg, 16, vocab, rng)
	if err != nil {
		t.Fatal(err)
	}
	draw := func(n int) ([]int32, []int, []int32) {
		ids := make([]int32, n*l)
		lens := make([]int, n)
		labels := make([]int32, n)
		for i := range n {
			for j := range l {
				ids[i*l+j] = int32(rng.IntN(vocab))
			}
			lens[i], labels[i] = l, ids[i*l]
		}
		return ids, lens, labels
	}
	opt := NewAdamW(c.Params(), 0.01)
	sched := Warmup{Base: 3e-3, Warmup: 30}
	logits := make([]float32, batch*vocab)
	grad := make([]float32, len(logits))
	for step := 1; step <= 300; step++ {
		ids, lens, labels := draw(batch)
		if err := c.Forward(logits, ids, lens, true); err != nil {
			t.Fatal(err)
		}
		CrossEntropy(nil, grad, logits, labels, vocab)
		ZeroGrad(c.Params())
		c.Backward(grad)
		opt.Step(sched.Rate(step))
	}
	const n = 400
	ids, lens, labels := draw(n)
	out := make([]float32, n*vocab)
	if err := c.Forward(out, ids, lens, false); err != nil {
		t.Fatal(err)
	}
	right := 0
	for i := range n {
		row := out[i*vocab : (i+1)*vocab]
		if int32(slices.Index(row, slices.Max(row))) == labels[i] {
			right++
		}
	}
	acc := float64(right) / n
	t.Logf("held-out accuracy %.3f (chance 0.25)", acc)
	if acc < 0.8 {
		t.Errorf("held-out accuracy %.3f after 300 steps, want ≥ 0.8", acc)
	}
}

// TestClassifierCheckpoint saves a classifier's parameters to safetensors
// and loads them into a fresh one, which must then give the same logits;
// a model of another shape must be refused naming the tensor.
func TestClassifierCheckpoint(t *testing.T) {
	a, err := NewClassifier(smallConfig(CLSPool), 6, 3, rand.New(rand.NewPCG(37, 38)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, Tensors(a.Params()), nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewClassifier(smallConfig(CLSPool), 6, 3, rand.New(rand.NewPCG(39, 40)))
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadParams(f, b.Params()); err != nil {
		t.Fatal(err)
	}
	ids, lens := []int32{1, 2, 3, 4, 5}, []int{2, 3}
	la, lb := make([]float32, 6), make([]float32, 6)
	if err := a.Forward(la, ids, lens, false); err != nil {
		t.Fatal(err)
	}
	if err := b.Forward(lb, ids, lens, false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(la, lb) {
		t.Errorf("loaded model gives %v, saved one %v", lb, la)
	}
	cfg := smallConfig(CLSPool)
	cfg.MaxLen++
	other, err := NewClassifier(cfg, 6, 3, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadParams(f, other.Params()); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "embed.pos.weight") {
		t.Errorf("checkpoint of another shape: got %v, want ErrMismatch naming embed.pos.weight", err)
	}
}
