package nn

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/safetensors"
)

// convRef is the direct NHWC convolution in float64.
func convRef(l *Conv2d, x []float32, n int) []float64 {
	y := make([]float64, n*l.OutSize())
	for b := range n {
		for oh := range l.OutH {
			for ow := range l.OutW {
				for k := range l.OutC {
					s := float64(l.Bias.Data[k])
					for r := range l.Kernel {
						for q := range l.Kernel {
							ih, iw := oh*l.Stride-l.Pad+r, ow*l.Stride-l.Pad+q
							if ih < 0 || ih >= l.InH || iw < 0 || iw >= l.InW {
								continue
							}
							for c := range l.InC {
								w := l.Weight.Data[((k*l.Kernel+r)*l.Kernel+q)*l.InC+c]
								s += float64(w) * float64(x[((b*l.InH+ih)*l.InW+iw)*l.InC+c])
							}
						}
					}
					y[((b*l.OutH+oh)*l.OutW+ow)*l.OutC+k] = s
				}
			}
		}
	}
	return y
}

var convCases = []ConvConfig{
	{InC: 1, InH: 6, InW: 5, OutC: 3, Kernel: 3, Stride: 1, Pad: 1},
	{InC: 3, InH: 7, InW: 7, OutC: 4, Kernel: 3, Stride: 2, Pad: 1},
	{InC: 2, InH: 8, InW: 8, OutC: 5, Kernel: 5, Stride: 1, Pad: 0},
	{InC: 4, InH: 5, InW: 6, OutC: 2, Kernel: 1, Stride: 1, Pad: 0},
}

func TestConv2dForward(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for i, c := range append(convCases, ConvConfig{InC: 16, InH: 14, InW: 14, OutC: 24, Kernel: 3, Pad: 1}) {
		for _, p := range []*kernels.Pool{nil, pool} {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			l := NewConv2d(c, rng)
			l.Pool = p
			const n = 3
			x := randVec(rng, n*l.InSize(), 1)
			y := make([]float32, n*l.OutSize())
			l.Forward(y, x, n)
			want := convRef(l, x, n)
			// Each output sums Kernel²·InC products of values in ±1 in
			// float32; 1e-5 per term of magnitude bound is far above
			// rounding and far below any indexing mistake.
			tol := 1e-5 * float64(c.Kernel*c.Kernel*c.InC+1)
			for j := range y {
				if d := math.Abs(float64(y[j]) - want[j]); d > tol {
					t.Fatalf("%+v pool=%v: y[%d] = %v, want %v", c, p != nil, j, y[j], want[j])
				}
			}
		}
	}
}

func TestGradConv2d(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for i, c := range convCases {
		rng := rand.New(rand.NewPCG(uint64(i), 8))
		l := NewConv2d(c, rng)
		if i%2 == 1 {
			l.Pool = pool
		}
		const n = 2
		x := randVec(rng, n*l.InSize(), 1)
		dx := make([]float32, len(x))
		y := make([]float32, n*l.OutSize())
		r := randVec(rng, len(y), 1)
		loss := func() float64 { l.Forward(y, x, n); return dotLoss(r, y) }
		backward := func() { loss(); l.Backward(dx, r) }
		checkGradients(t, loss, backward, append(paramTargets(l.Params()), gradTarget{"x", x, dx}))
	}
}

// spaced returns n values in ±n·gap/2, distinct by at least gap, in random
// order, so that no max or sign changes under a finite-difference step
// smaller than gap/2.
func spaced(rng *rand.Rand, n int, gap float64) []float32 {
	v := make([]float32, n)
	for i, j := range rng.Perm(n) {
		v[i] = float32((float64(j) - float64(n)/2 + 0.5) * gap)
	}
	return v
}

func TestMaxPool2d(t *testing.T) {
	p := NewMaxPool2d(2, 5, 4, 2, 2) // 5 rows: the last is dropped
	if p.OutH != 2 || p.OutW != 2 {
		t.Fatalf("out %d×%d, want 2×2", p.OutH, p.OutW)
	}
	x := make([]float32, p.InSize())
	for i := range x {
		x[i] = float32(i % 7)
	}
	y := make([]float32, p.OutSize())
	p.Forward(y, x, 1)
	for c := range p.C {
		for oh := range p.OutH {
			for ow := range p.OutW {
				want := float32(math.Inf(-1))
				for r := range 2 {
					for s := range 2 {
						want = max(want, x[((2*oh+r)*p.W+2*ow+s)*p.C+c])
					}
				}
				if got := y[(oh*p.OutW+ow)*p.C+c]; got != want {
					t.Errorf("channel %d window (%d, %d): %v, want %v", c, oh, ow, got, want)
				}
			}
		}
	}
}

func TestGradMaxPool2d(t *testing.T) {
	for _, g := range [][3]int{{2, 2, 2}, {3, 3, 2}, {1, 2, 1}} { // channels, kernel, stride (overlapping windows last two)
		rng := rand.New(rand.NewPCG(uint64(g[1]), 9))
		p := NewMaxPool2d(g[0], 6, 5, g[1], g[2])
		const n = 2
		x := spaced(rng, n*p.InSize(), 0.05)
		dx := make([]float32, len(x))
		y := make([]float32, n*p.OutSize())
		r := randVec(rng, len(y), 1)
		loss := func() float64 { p.Forward(y, x, n); return dotLoss(r, y) }
		backward := func() { loss(); p.Backward(dx, r) }
		checkGradients(t, loss, backward, []gradTarget{{"x", x, dx}})
	}
}

func TestGradReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	var a ReLU
	x := spaced(rng, 40, 0.05)
	dx := make([]float32, len(x))
	y := make([]float32, len(x))
	r := randVec(rng, len(x), 1)
	loss := func() float64 { a.Forward(y, x); return dotLoss(r, y) }
	backward := func() { loss(); a.Backward(dx, r) }
	checkGradients(t, loss, backward, []gradTarget{{"x", x, dx}})
	for i, v := range x {
		if (v > 0) != (y[i] > 0) || y[i] < 0 {
			t.Fatalf("relu(%v) = %v", v, y[i])
		}
	}
}

func TestGradBatchNorm(t *testing.T) {
	for _, train := range []bool{true, false} {
		rng := rand.New(rand.NewPCG(12, 13))
		const rows, c = 6, 3
		b := NewBatchNorm(c)
		b.Weight.Uniform(rng, 2)
		b.Bias.Uniform(rng, 1)
		for i := range c {
			b.RunningMean.Data[i] = float32(rng.NormFloat64())
			b.RunningVar.Data[i] = float32(0.5 + rng.Float64())
		}
		// Offset and scale the features so the normalisation does work.
		x := randVec(rng, rows*c, 1)
		for i := range x {
			x[i] = 3*x[i] + float32(i%c)
		}
		dx := make([]float32, len(x))
		y := make([]float32, len(x))
		r := randVec(rng, len(x), 1)
		rm := slices.Clone(b.RunningMean.Data)
		rv := slices.Clone(b.RunningVar.Data)
		loss := func() float64 {
			// Each evaluation would move the running averages; hold
			// them so an evaluation-mode check sees fixed statistics.
			copy(b.RunningMean.Data, rm)
			copy(b.RunningVar.Data, rv)
			b.Forward(y, x, rows, train)
			return dotLoss(r, y)
		}
		backward := func() { loss(); b.Backward(dx, r) }
		checkGradients(t, loss, backward, append(paramTargets(b.Params()), gradTarget{"x", x, dx}))
	}
}

func TestBatchNormStatistics(t *testing.T) {
	const rows, c = 50, 4
	rng := rand.New(rand.NewPCG(14, 15))
	b := NewBatchNorm(c)
	x := randVec(rng, rows*c, 1)
	for i := range x {
		x[i] = x[i]*float32(1+i%c) + 100 // a large offset tests the centring
	}
	y := make([]float32, len(x))
	b.Forward(y, x, rows, true)
	for k := range c {
		var mean, ss, ym, yv float64
		for r := range rows {
			mean += float64(x[r*c+k])
			ym += float64(y[r*c+k])
		}
		mean /= rows
		ym /= rows
		for r := range rows {
			d := float64(x[r*c+k]) - mean
			ss += d * d
			e := float64(y[r*c+k]) - ym
			yv += e * e
		}
		// Output: zero mean, unit (biased) variance up to Eps.
		if math.Abs(ym) > 1e-4 || math.Abs(yv/rows-1) > 1e-3 {
			t.Errorf("feature %d: output mean %v variance %v, want 0 and 1", k, ym, yv/rows)
		}
		// Running averages: one step of momentum 0.1 from (0, 1), the
		// variance unbiased.
		if got, want := float64(b.RunningMean.Data[k]), 0.1*mean; math.Abs(got-want) > 1e-4*math.Abs(want) {
			t.Errorf("feature %d: running mean %v, want %v", k, got, want)
		}
		if got, want := float64(b.RunningVar.Data[k]), 0.9+0.1*ss/(rows-1); math.Abs(got-want) > 1e-5*want {
			t.Errorf("feature %d: running variance %v, want %v", k, got, want)
		}
	}
	// Evaluation uses the running averages: y = γ(x−μ)/√(σ²+ε) + β.
	b.Weight.Data[0], b.Bias.Data[0] = 2, 0.5
	b.Forward(y, x, rows, false)
	mu, v := float64(b.RunningMean.Data[0]), float64(b.RunningVar.Data[0])
	for r := range rows {
		want := 2*(float64(x[r*c])-mu)/math.Sqrt(v+1e-5) + 0.5
		if d := math.Abs(float64(y[r*c]) - want); d > 1e-4*max(1, math.Abs(want)) {
			t.Fatalf("eval row %d: %v, want %v", r, y[r*c], want)
		}
	}
}

func TestMomentum(t *testing.T) {
	p := NewParam("w", 2)
	p.Data[0], p.Data[1] = 1, -2
	o := NewMomentum([]*Param{p}, 0.9, 0.1)
	// Two steps by hand, with g = (0.5, 1) each time:
	// v1 = g + 0.1·w0, w1 = w0 − lr·v1; v2 = 0.9·v1 + g + 0.1·w1.
	w := []float64{1, -2}
	g := []float64{0.5, 1}
	v := []float64{0, 0}
	const lr = 0.1
	for range 2 {
		p.Grad[0], p.Grad[1] = float32(g[0]), float32(g[1])
		o.Step(lr)
		for j := range w {
			v[j] = 0.9*v[j] + g[j] + 0.1*w[j]
			w[j] -= lr * v[j]
		}
	}
	for j := range w {
		if math.Abs(float64(p.Data[j])-w[j]) > 1e-6 || math.Abs(float64(o.State()[0].Data[j])-v[j]) > 1e-6 {
			t.Errorf("w[%d] = %v (velocity %v), want %v (%v)", j, p.Data[j], o.State()[0].Data[j], w[j], v[j])
		}
	}
	if o.State()[0].Name != "w.momentum_buffer" {
		t.Errorf("state name %q", o.State()[0].Name)
	}
}

func TestAdam(t *testing.T) {
	p := NewParam("w", 2)
	p.Data[0], p.Data[1] = 1, -2
	o := NewAdam([]*Param{p}, 0)
	w := []float64{1, -2}
	m := []float64{0, 0}
	v := []float64{0, 0}
	const lr = 0.01
	for step := 1; step <= 3; step++ {
		g := []float64{0.5 * float64(step), -1e-3}
		p.Grad[0], p.Grad[1] = float32(g[0]), float32(g[1])
		o.Step(lr)
		for j := range w {
			m[j] = 0.9*m[j] + 0.1*g[j]
			v[j] = 0.999*v[j] + 0.001*g[j]*g[j]
			mh := m[j] / (1 - math.Pow(0.9, float64(step)))
			vh := v[j] / (1 - math.Pow(0.999, float64(step)))
			w[j] -= lr * mh / (math.Sqrt(vh) + 1e-8)
		}
	}
	for j := range w {
		// Adam's first steps move each weight by about lr whatever the
		// gradient's scale, so a 1e-6 bound catches a wrong correction.
		if math.Abs(float64(p.Data[j])-w[j]) > 1e-6 {
			t.Errorf("w[%d] = %v, want %v", j, p.Data[j], w[j])
		}
	}
	if o.Steps != 3 || len(o.State()) != 2 {
		t.Errorf("steps %d, %d state vectors", o.Steps, len(o.State()))
	}
}

// Every optimizer minimises a badly scaled quadratic.
func TestOptimizersConverge(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   func([]*Param) Optimizer
		lr   float64
	}{
		{"momentum", func(ps []*Param) Optimizer { return NewMomentum(ps, 0.9, 0) }, 0.01},
		{"adam", func(ps []*Param) Optimizer { return NewAdam(ps, 0) }, 0.05},
		{"adagrad", func(ps []*Param) Optimizer { return NewAdagrad(ps, 0) }, 1},
	} {
		p := NewParam("w", 2)
		p.Data[0], p.Data[1] = 3, -4
		o := tc.mk([]*Param{p})
		scale := []float32{1, 20} // f = ½Σ s·w²
		for range 2000 {
			for j := range p.Data {
				p.Grad[j] = scale[j] * p.Data[j]
			}
			o.Step(tc.lr)
		}
		if math.Abs(float64(p.Data[0]))+math.Abs(float64(p.Data[1])) > 1e-2 {
			t.Errorf("%s: w = %v after 2000 steps, want ≈ 0", tc.name, p.Data)
		}
	}
}

// Reapply repeats the last Forward's choices on new input, and Backward
// then follows the held choices.
func TestReapply(t *testing.T) {
	var r ReLU
	y := make([]float32, 4)
	r.Forward(y, []float32{1, -1, 2, -2})
	r.Reapply(y, []float32{-3, 3, 4, 5}) // the mask (1, 0, 1, 0) holds
	if !slices.Equal(y, []float32{-3, 0, 4, 0}) {
		t.Errorf("ReLU.Reapply: %v", y)
	}
	r.Reapply(y, []float32{1, 1, 1, 1}) // still, though y went negative
	dx := make([]float32, 4)
	r.Backward(dx, []float32{1, 1, 1, 1})
	if !slices.Equal(y, []float32{1, 0, 1, 0}) || !slices.Equal(dx, []float32{1, 0, 1, 0}) {
		t.Errorf("ReLU after two Reapply: y %v dx %v", y, dx)
	}

	p := NewMaxPool2d(1, 2, 2, 2, 2)
	out := make([]float32, 1)
	p.Forward(out, []float32{1, 5, 2, 3}, 1)
	p.Reapply(out, []float32{9, 0, 8, 7}) // winner stays index 1
	if out[0] != 0 {
		t.Errorf("MaxPool2d.Reapply: %v, want the held winner's 0", out[0])
	}
}

func TestLoadParams(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	a := NewLinear(3, 2, rng)
	b := NewLinear(3, 2, rng)
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, Tensors(a.Params()), nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadParams(f, b.Params()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Weight.Data, b.Weight.Data) || !slices.Equal(a.Bias.Data, b.Bias.Data) {
		t.Error("LoadParams did not copy the weights")
	}
	wide := NewLinear(4, 2, rng)
	if err := LoadParams(f, wide.Params()); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "weight") {
		t.Errorf("shape mismatch: %v", err)
	}
	extra := NewParam("missing", 1)
	if err := LoadParams(f, []*Param{extra}); !errors.Is(err, ErrMismatch) || !errors.Is(err, safetensors.ErrNotFound) {
		t.Errorf("missing tensor: %v", err)
	}
}
