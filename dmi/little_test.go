package dmi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/sel"
	"github.com/elasticml/elastic/spec"
)

// randomLittle returns a little module for a layer of the given shape with
// random W̃ (entries N(0, 1)/k, the h half times hScale) and k-row
// projections: enough for timing and for comparing run paths, no fit.
func randomLittle(t testing.TB, cell nn.Cell, in, hidden, k int, bits quant.Bits, hScale float64, seed uint64) *Little {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	n := littleRows(cell, hidden)
	half := func(d, which int, scale float64, b []float32) *spec.Speculator {
		p, err := rproj.New(min(k, d), d, rproj.DefaultSparsity, projSeed(seed, 0, which))
		if err != nil {
			t.Fatal(err)
		}
		w := make([]float32, n*p.K())
		for i := range w {
			w[i] = float32(scale * rng.NormFloat64() / float64(p.K()))
		}
		s, err := quantizeSpec(spec.NewSpeculator(p, w, b), bits)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b := make([]float32, n)
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	lt := &Little{X: half(in, 0, 1, b), H: half(hidden, 1, hScale, make([]float32, n))}
	lt.Delta = make([]float64, cell.Gates())
	for i := range lt.Delta {
		lt.Delta[i] = 0.5
	}
	return lt
}

// unfusedPredict is the little module run half by half, each half's
// projection quantized and multiplied on its own, as eq. 3.20 is written.
func unfusedPredict(lt *Little, y, x, h []float32) {
	half := func(s *spec.Speculator, out, in []float32) {
		sp := rproj.NewSigns(ternaryOf(s), ternaryOf(s).Scale)
		z, zq := make([]float32, s.K), make([]int8, s.K)
		sp.Apply(nil, z, in)
		zs := kernels.QuantizeInt8(zq, z)
		switch {
		case s.Q != nil && s.Q.Bits == quant.Int8:
			kernels.GemvInt8(out, s.Q.I8, s.Q.RowScales(), s.K, zq, zs, s.B)
		case s.Q != nil && s.Q.Bits == quant.Int4:
			kernels.GemvInt4(out, s.Q.Packed, s.Q.RowScales(), s.K, zq, zs, s.B)
		default:
			kernels.Gemv(out, s.W, s.K, z, s.B)
		}
	}
	half(lt.X, y, x)
	tmp := make([]float32, len(y))
	half(lt.H, tmp, h)
	for i := range y {
		y[i] += tmp[i]
	}
}

// projected returns P_x x_Q and P_h h_Q as the run computes them.
func projected(lt *Little, x, h []float32) (zx, zh []float32) {
	zx, zh = make([]float32, lt.X.K), make([]float32, lt.H.K)
	px, ph := rproj.NewSigns(ternaryOf(lt.X), ternaryOf(lt.X).Scale), rproj.NewSigns(ternaryOf(lt.H), ternaryOf(lt.H).Scale)
	px.Apply(nil, zx, x)
	ph.Apply(nil, zh, h)
	return zx, zh
}

// rowDot returns Σ w·z and Σ |w| in float64.
func rowDot(w, z []float32) (dot, l1 float64) {
	for j, v := range w {
		dot += float64(v) * float64(z[j])
		l1 += math.Abs(float64(v))
	}
	return dot, l1
}

func l1(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += math.Abs(float64(x))
	}
	return s
}

// TestFusedLittle checks the fused INT8 run against the module as stored,
// e = W̃_x·(P_x x_Q) + W̃_h·(P_h h_Q) + b̃ with the dequantized halves, and
// against the run half by half. Per row, the fused output is within the
// rounding its quantizations allow — half a step of the fused row's scale
// per weight times |z|, plus half a step of z's scale per |weight| — and
// the unfused one within that of its two input quantizations, so they
// differ by at most the sum. Overall the fold keeps the fused error within
// 3% of the output's size in every case (1–2% measured), including x
// twenty times larger than h, where requantizing without it (c = 1) is off
// by over a fifth. INT4 and
// float modules run their halves as stored, so they must match exactly.
func TestFusedLittle(t *testing.T) {
	type tc struct {
		name string
		lt   *Little
		x, h []float32 // samples, row after row
	}
	var cases []tc
	for _, hs := range []float64{0.1, 1, 10} {
		lt := randomLittle(t, nn.LSTMCell, 300, 200, 80, quant.Int8, hs, 3)
		cases = append(cases, tc{fmt.Sprintf("random/wh×%v", hs), lt, testInputs(300, 20, 4), testInputs(200, 20, 5)})
	}
	for _, xscale := range []float32{0.05, 1, 20} {
		const in, hidden = 64, 48
		l, xs, hs := testLayer(t, nn.LSTMCell, in, hidden, 1500, 7)
		for i := range xs {
			xs[i] *= xscale
		}
		lt, err := FitLayer(l.Weights(), xs, hs, Options{K: 40})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{fmt.Sprintf("fitted/x×%v", xscale), lt, xs[:100*in], hs[:100*hidden]})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lt := c.lt
			n, in, hid := lt.Rows(), lt.X.P.D(), lt.H.P.D()
			r := newLittleRun(lt)
			if len(r.parts) != 1 || r.parts[0].cols != lt.X.K+lt.H.K {
				t.Fatalf("INT8 module not fused: %d parts", len(r.parts))
			}
			fw := &r.parts[0]
			f, u := make([]float32, n), make([]float32, n)
			var errF, norm float64
			for s := range len(c.x) / in {
				x, h := c.x[s*in:(s+1)*in], c.h[s*hid:(s+1)*hid]
				r.predict(nil, f, x, h)
				unfusedPredict(lt, u, x, h)
				zx, zh := projected(lt, x, h)
				ax, ah := maxAbs(zx)/127, maxAbs(zh)/127
				zl1 := l1(fw.z)
				for i := range n {
					dx, lx := rowDot(lt.X.W[i*lt.X.K:(i+1)*lt.X.K], zx)
					dh, lh := rowDot(lt.H.W[i*lt.H.K:(i+1)*lt.H.K], zh)
					e := dx + dh + float64(lt.X.B[i])
					var ql1 float64
					for _, q := range fw.i8[i*fw.cols : (i+1)*fw.cols] {
						ql1 += math.Abs(float64(q))
					}
					bf := float64(fw.scales[i])/2*zl1 + float64(fw.zs)/2*ql1*float64(fw.scales[i])
					bu := float64(ax)/2*lx + float64(ah)/2*lh
					slack := 1e-5 * (1 + math.Abs(e) + lx*float64(maxAbs(zx)) + lh*float64(maxAbs(zh)))
					if d := math.Abs(float64(f[i]) - float64(u[i])); d > bf+bu+slack {
						t.Fatalf("sample %d row %d: fused %g, unfused %g, differ by %g > bound %g", s, i, f[i], u[i], d, bf+bu)
					}
					if d := math.Abs(float64(f[i]) - e); d > bf+slack {
						t.Fatalf("sample %d row %d: fused %g, stored module %g, differ by %g > bound %g", s, i, f[i], e, d, bf)
					}
					errF += (float64(f[i]) - e) * (float64(f[i]) - e)
					norm += (e - float64(lt.X.B[i])) * (e - float64(lt.X.B[i]))
				}
			}
			if rel := math.Sqrt(errF / norm); rel > 0.03 {
				t.Errorf("fused relative RMS error %.3g > 3%% (c = %g)", rel, r.c)
			}
		})
	}
	for _, bits := range []quant.Bits{quant.Int4, quant.Int16, FP32} {
		lt := randomLittle(t, nn.GRUCell, 300, 200, 80, bits, 3, 3)
		r := newLittleRun(lt)
		x, h := testInputs(300, 1, 4), testInputs(200, 1, 5)
		f, u := make([]float32, lt.Rows()), make([]float32, lt.Rows())
		r.predict(nil, f, x, h)
		unfusedPredict(lt, u, x, h)
		if !slices.Equal(f, u) {
			t.Errorf("%v: run differs from the halves run one by one", bits)
		}
	}
}

// TestSpeculateAllocatesNothing covers the pooled path, whose loop bodies
// are bound once, and every run layout.
func TestSpeculateAllocatesNothing(t *testing.T) {
	p := kernels.NewPool(2)
	defer p.Close()
	for _, cell := range cells {
		for _, bits := range []quant.Bits{quant.Int8, quant.Int4, FP32} {
			const in, hidden = 300, 200
			w := nn.NewLSTM(in, hidden, 0, rand.New(rand.NewPCG(1, 1))).Weights()
			if cell == nn.GRUCell {
				w = nn.NewGRU(in, hidden, 0, rand.New(rand.NewPCG(1, 1))).Weights()
			}
			l, err := NewLayer(w, randomLittle(t, cell, in, hidden, 80, bits, 1, 2), p)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.SetRatio(0.7); err != nil {
				t.Fatal(err)
			}
			x, h, c := testInputs(in, 1, 1), testInputs(hidden, 1, 2), make([]float32, hidden)
			if n := testing.AllocsPerRun(20, func() { l.Step(h, c, x) }); n != 0 {
				t.Errorf("%v %v: %v allocations per step", cell, bits, n)
			}
		}
	}
}

// TestSpeculateMatchesPredict: the gate-by-gate Speculate computes the
// same little-module outputs as predict and, per gate, the rows sel.TopK
// picks from them.
func TestSpeculateMatchesPredict(t *testing.T) {
	p := kernels.NewPool(2)
	defer p.Close()
	for _, cell := range cells {
		const in, hidden = 90, 70
		w := nn.NewLSTM(in, hidden, 0, rand.New(rand.NewPCG(1, 1))).Weights()
		if cell == nn.GRUCell {
			w = nn.NewGRU(in, hidden, 0, rand.New(rand.NewPCG(1, 1))).Weights()
		}
		lt := randomLittle(t, cell, in, hidden, 30, quant.Int8, 2, 4)
		for _, pool := range []*kernels.Pool{nil, p} {
			l, err := NewLayer(w, lt, pool)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.SetRatio(0.6); err != nil {
				t.Fatal(err)
			}
			x, h := testInputs(in, 1, 7), testInputs(hidden, 1, 8)
			l.Speculate(h, x)
			y := make([]float32, lt.Rows())
			newLittleRun(lt).predict(nil, y, x, h)
			if !slices.Equal(y, l.y) {
				t.Fatalf("%v: Speculate's outputs differ from predict's", cell)
			}
			var want []int32
			pre := make([]float32, hidden)
			for g, act := range gateActs(cell) {
				gatePre(pre, y, g, hidden, cell, true)
				tk, _ := sel.NewTopK(act, 0.6)
				for _, r := range tk.Select(nil, pre) {
					want = append(want, int32(g*hidden)+r)
				}
			}
			if !slices.Equal(l.Sensitive(), want) {
				t.Errorf("%v pool=%v: selected %v, want %v", cell, pool != nil, l.Sensitive(), want)
			}
		}
	}
}

// BenchmarkLittle times Speculate (little module and selection) of an
// LSTM-1500 layer at k = 417 with warm weights, on one and two threads.
func BenchmarkLittle(b *testing.B) {
	const in, hidden, k = 1500, 1500, 417
	rng := rand.New(rand.NewPCG(1, 1))
	w := nn.NewLSTM(in, hidden, 0, rng).Weights()
	x, h := testInputs(in, 1, 1), testInputs(hidden, 1, 2)
	for i := range h {
		h[i] *= 0.2
	}
	for _, bits := range []quant.Bits{quant.Int8, quant.Int4} {
		lt := randomLittle(b, nn.LSTMCell, in, hidden, k, bits, 3, 5)
		for _, threads := range []int{1, 2} {
			p := kernels.NewPool(threads)
			l, err := NewLayer(w, lt, p)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range []float64{0.5, 0.9} {
				if err := l.SetRatio(r); err != nil {
					b.Fatal(err)
				}
				b.Run(fmt.Sprintf("int%d/threads=%d/ratio=%.1f", bits, threads, r), func(b *testing.B) {
					for b.Loop() {
						l.Speculate(h, x)
					}
				})
			}
			p.Close()
		}
	}
}
