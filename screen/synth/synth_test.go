package synth

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/elasticml/elastic/kernels"
)

func TestDeterministic(t *testing.T) {
	cfg := Default(3000, 32)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(1)
	b, err := New(cfg)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.W, b.W) || !slices.Equal(a.B, b.B) {
		t.Error("same config, different classifier (worker count must not matter)")
	}
	h1, l1 := a.Sample(50, 3)
	h2, l2 := b.Sample(50, 3)
	if !slices.Equal(h1, h2) || !slices.Equal(l1, l2) {
		t.Error("same seed, different sample")
	}
	cfg.Seed++
	c, _ := New(cfg)
	if slices.Equal(a.W, c.W) {
		t.Error("another seed, same classifier")
	}
}

// The documented structure: bias is the centred log Zipf prior, rows have
// the drawn norms, and without noise every row lies in the latent space.
func TestStructure(t *testing.T) {
	cfg := Default(500, 32)
	cfg.Rank, cfg.Noise = 6, 0
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 500; i++ {
		want := -math.Log(float64(i+1)) + math.Log(float64(i)) // s = 1
		if got := float64(m.B[i] - m.B[i-1]); math.Abs(got-want) > 1e-5 {
			t.Fatalf("b[%d]−b[%d] = %v, want log prior step %v", i, i-1, got, want)
		}
	}
	d, r := cfg.Dim, cfg.Rank
	coef := make([]float32, r)
	for i := range 500 {
		row := m.W[i*d : (i+1)*d]
		if n := math.Sqrt(float64(kernels.Dot(row, row))); math.Abs(n-float64(m.Norm[i])) > 1e-4*n {
			t.Fatalf("row %d norm %v, want %v", i, n, m.Norm[i])
		}
		kernels.Gemv(coef, m.q, d, row, nil)
		in := float64(kernels.Dot(coef, coef))
		if tot := float64(kernels.Dot(row, row)); math.Abs(in-tot) > 1e-4*tot {
			t.Fatalf("row %d: %v of %v energy in the rank-%d latent space", i, in, tot, r)
		}
	}
}

// With the defaults the full softmax is peaked on the class a vector was
// drawn for, like a trained model's (the figures the package comment
// refers to are logged).
func TestPeaked(t *testing.T) {
	const l, d, n = 5000, 128, 300
	m, err := New(Default(l, d))
	if err != nil {
		t.Fatal(err)
	}
	hs, labels := m.Sample(n, 9)
	z := make([]float32, l)
	var p1, hit float64
	for i := range n {
		kernels.Gemv(z, m.W, d, hs[i*d:(i+1)*d], m.B)
		top := float32(math.Inf(-1))
		arg := 0
		for j, v := range z {
			if v > top {
				top, arg = v, j
			}
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v - top))
		}
		p1 += 1 / s
		if arg == int(labels[i]) {
			hit++
		}
	}
	p1, hit = p1/n, hit/n
	t.Logf("mean top-1 probability %.3f, top-1 = drawn class %.3f", p1, hit)
	if p1 < 0.3 || p1 > 0.99 || hit < 0.5 {
		t.Errorf("mean top-1 probability %.3f, accuracy %.3f: not a peaked, mostly right softmax", p1, hit)
	}
}

func TestBadConfig(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Classes = 1 },
		func(c *Config) { c.Dim = 0 },
		func(c *Config) { c.Rank = 33 },
		func(c *Config) { c.Noise = math.NaN() },
		func(c *Config) { c.Peak = -1 },
	} {
		cfg := Default(100, 32)
		mod(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Default(20000, 256)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHalf checks float16 storage: W16 is the float32 model's W rounded
// once, row by row, with the same bias, and samples are drawn from the
// stored rows.
func TestHalf(t *testing.T) {
	cfg := Default(2100, 48) // a partial last block
	full, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Half = true
	half, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if half.W != nil || len(half.W16) != 2100*48 || half.Bytes() != 2*2100*48+4*2100 {
		t.Fatalf("half model: W %d, W16 %d, %d bytes", len(half.W), len(half.W16), half.Bytes())
	}
	want := make([]uint16, len(full.W))
	kernels.ToHalf(want, full.W)
	if !slices.Equal(half.W16, want) || !slices.Equal(half.B, full.B) {
		t.Fatal("float16 rows are not the float32 rows rounded")
	}
	buf := make([]float32, 48)
	row := half.Row(buf, 2099)
	wide := make([]float32, 48)
	kernels.FromHalf(wide, want[2099*48:])
	if !slices.Equal(row, wide) || !slices.Equal(full.Row(nil, 5), full.W[5*48:6*48]) {
		t.Fatal("Row")
	}
	hh, lh := half.Sample(20, 9)
	hf, lf := full.Sample(20, 9)
	if !slices.Equal(lh, lf) {
		t.Fatal("the same seed drew different classes")
	}
	for i, v := range hh { // the rows differ by float16 rounding only
		if math.Abs(float64(v-hf[i])) > 1e-2*(1+math.Abs(float64(v))) {
			t.Fatalf("sample %d: %v vs %v", i, v, hf[i])
		}
	}
}
