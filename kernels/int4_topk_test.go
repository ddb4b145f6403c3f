package kernels

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestGemvInt4TopK checks the fused GEMV and selection against GemvInt4
// followed by TopK: the same y bit for bit, the same selection and
// threshold, on random rows, on rows with equal outputs (zero scales),
// with the largest outputs on block edges and with NaN biases, for k on
// the streaming path and beyond it.
func TestGemvInt4TopK(t *testing.T) {
	const rows = 30000
	for _, cols := range []int{128, 61} {
		stride := int4RowBytes(cols)
		q := make([]byte, rows*stride)
		randBytes(q, 21)
		xq, xs := intBenchInput(cols)
		fill := randFill(22)
		cases := map[string]func(scales, b []float32){
			"random": func(scales, b []float32) {},
			"ties": func(scales, b []float32) {
				for i := range scales {
					if i%3 != 0 {
						scales[i], b[i] = 0, float32(i%5)
					}
				}
			},
			// The largest outputs last, so the top k are the final rows.
			"ascending": func(scales, b []float32) {
				for i := range scales {
					scales[i], b[i] = 0, float32(i)
				}
			},
			// Peaks on the first and last rows of every block of 1024.
			"edges": func(scales, b []float32) {
				for i := range b {
					if i%1024 == 0 || i%1024 == 1023 || i == len(b)-1 {
						b[i] = 1000 + float32(i%7)
					}
				}
			},
			"nans": func(scales, b []float32) {
				for i := range b {
					if i%7 != 0 {
						b[i] = float32(math.NaN())
					}
				}
			},
		}
		for name, edit := range cases {
			scales, b := make([]float32, rows), make([]float32, rows)
			for i := range scales {
				scales[i], b[i] = 0.01+0.001*float32(i%13), fill(i)
			}
			edit(scales, b)
			want := make([]float32, rows)
			GemvInt4(want, q, scales, cols, xq, xs, b)
			for _, workers := range []int{0, 1, 2, 3} { // 0: the package-level form
				var p *Pool
				if workers > 0 {
					p = NewPool(workers)
				}
				for _, k := range []int{0, 1, 35, 64, rows / 512, rows / 100} {
					label := fmt.Sprintf("cols=%d %s workers=%d k=%d", cols, name, workers, k)
					wantSel, wantTh := TopK(make([]int32, rows), want, k, false)
					y := make([]float32, rows)
					idx, check := guardedInt32(rows, 1)
					var sel []int32
					var th float32
					if p == nil {
						sel, th = GemvInt4TopK(y, q, scales, cols, xq, xs, b, k, idx)
					} else {
						sel, th = p.GemvInt4TopK(y, q, scales, cols, xq, xs, b, k, idx)
					}
					check(t, label)
					if !slices.Equal(math32bits(y), math32bits(want)) {
						t.Fatalf("%s: y differs from GemvInt4's", label)
					}
					if !slices.Equal(sel, wantSel) || !sameValue(th, wantTh) {
						t.Fatalf("%s: selected %v, %v; want %v, %v", label, head(sel), th, head(wantSel), wantTh)
					}
				}
				if p != nil {
					p.Close()
				}
			}
		}
	}
}

func math32bits(v []float32) []uint32 {
	u := make([]uint32, len(v))
	for i, x := range v {
		u[i] = math.Float32bits(x)
	}
	return u
}

// BenchmarkScreenCold is approximate screening's screen and select phases
// at batch 1 on a large vocabulary (k = 128 of d = 512, INT4, m = 40),
// with the screener's weights cycled through copies spanning about twice
// the 260 MiB L3 so every call reads them from memory, on two workers.
// "split" projects on the pool, then runs GemvInt4 and Pool.TopK; "fused"
// projects on the caller and runs GemvInt4TopK.
func BenchmarkScreenCold(b *testing.B) {
	const d, k, m = 512, 128, 40
	tr := NewTernary(k, d, 0.1, randSigns(k, d, 3, 1))
	h := make([]float32, d)
	fill := randFill(2)
	for i := range h {
		h[i] = fill(i)
	}
	z := make([]float32, k)
	zq := make([]int8, k)
	p := NewPool(2)
	defer p.Close()
	for _, rows := range []int{267744, 1000000} {
		stride := int4RowBytes(k)
		type screener struct {
			q         []byte
			scales, b []float32
		}
		per := rows * (stride + 8)
		cs := make([]screener, max(2, intColdBytes/per))
		for i := range cs {
			cs[i] = screener{make([]byte, rows*stride), make([]float32, rows), make([]float32, rows)}
			if i == 0 {
				randBytes(cs[0].q, 3)
				for j := range rows {
					cs[0].scales[j], cs[0].b[j] = 1.0/256, fill(j)
				}
				continue
			}
			copy(cs[i].q, cs[0].q)
			copy(cs[i].scales, cs[0].scales)
			copy(cs[i].b, cs[0].b)
		}
		y := make([]float32, rows)
		idx := make([]int32, rows)
		b.Run(fmt.Sprintf("l=%d/split", rows), func(b *testing.B) {
			b.SetBytes(int64(per))
			for i := 0; b.Loop(); i++ {
				c := cs[i%len(cs)]
				p.TernaryApplyBatch(tr, z, h, 1)
				xs := QuantizeInt8(zq, z)
				p.GemvInt4(y, c.q, c.scales, k, zq, xs, c.b)
				p.TopK(idx, y, m, false)
			}
		})
		b.Run(fmt.Sprintf("l=%d/fused", rows), func(b *testing.B) {
			b.SetBytes(int64(per))
			for i := 0; b.Loop(); i++ {
				c := cs[i%len(cs)]
				tr.Apply(z, h)
				xs := QuantizeInt8(zq, z)
				p.GemvInt4TopK(y, c.q, c.scales, k, zq, xs, c.b, m, idx)
			}
		})
	}
}
