package screen

import (
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/spec"
)

// runner evaluates a screener at batch 1 with preallocated buffers:
// project, quantize P·h to INT8 (the thesis's run-time input
// quantization) and multiply by the INT4 or INT8 kernel; INT2 and INT16,
// which have no kernels, and FP32 run the float GEMV on the dequantized
// W̃, as package spec does. The integer paths project h_Q, h quantized to
// INT8, by an integer GEMV over P's packed signs (rproj.Signs, as little
// modules do): a 256×512 P takes 3 µs instead of the index-list gather's
// 22 µs (rproj's BenchmarkSigns, one thread, AVX-512), and the input quantization it adds is
// far below the INT4 screener's own error. The float paths keep the exact
// gather.
type runner struct {
	s      *Screener
	t      *kernels.Ternary
	signs  *rproj.Signs // integer paths
	scales []float32
	z      []float32
	zq     []int8
	xscale float32 // scale of the last quantized projection (0 for float paths)
}

// xerr bounds |P·h − x̂|_∞ for the last screen: x̂, the INT8 projection
// the integer kernels multiply, is within half its scale of the projection
// computed, which is within Signs.Err of the exact P·h (see Bound). It is
// 0 on the float paths.
func (r *runner) xerr() float32 {
	if r.xscale == 0 {
		return 0
	}
	e := r.xscale / 2
	if r.signs != nil {
		e += r.signs.Err()
	}
	return e
}

func newRunner(s *Screener) *runner {
	r := &runner{s: s, t: s.ternary(), z: make([]float32, s.K), zq: make([]int8, s.K)}
	if s.Spec.Q != nil {
		r.scales = s.Spec.Q.RowScales()
	}
	if s.intKernel() {
		r.signs = rproj.NewSigns(r.t, r.t.Scale)
	}
	return r
}

// screen sets zt = W̃·(P·h) + b̃.
func (r *runner) screen(p *kernels.Pool, zt, h []float32) {
	r.project(p, h)
	sp := r.s.Spec
	if !r.s.intKernel() {
		r.xscale = 0
		p.Gemv(zt, sp.W, sp.K, r.z, sp.B)
		return
	}
	r.xscale = kernels.QuantizeInt8(r.zq, r.z)
	switch {
	case r.s.Bits == quant.Int8:
		p.GemvInt8(zt, sp.Q.I8, r.scales, sp.K, r.zq, r.xscale, sp.B)
	default:
		p.GemvInt4(zt, sp.Q.Packed, r.scales, sp.K, r.zq, r.xscale, sp.B)
	}
}

// screenTop is screen followed by the top-m selection of zt, which it
// returns ascending in idx (len(idx) >= len(zt)). With an INT4 screener
// the selection runs inside the GEMV, on the logits each block of rows
// has just written (kernels.GemvInt4TopK and Pool.GemvInt4TopK): no
// second pass over the l logits and no second dispatch to the workers.
// The candidates are the same either way.
func (r *runner) screenTop(p *kernels.Pool, zt, h []float32, m int, idx []int32) []int32 {
	if !r.fuses() {
		r.screen(p, zt, h)
		sel, _ := p.TopK(idx, zt, m, false)
		return sel
	}
	r.project(p, h)
	r.xscale = kernels.QuantizeInt8(r.zq, r.z)
	sp := r.s.Spec
	sel, _ := p.GemvInt4TopK(zt, sp.Q.Packed, r.scales, sp.K, r.zq, r.xscale, sp.B, m, idx)
	return sel
}

// project sets r.z = P·h (P·h_Q on the integer paths). A small P (k×d = 128×512 has some 22,000
// nonzeros, ten-odd microseconds of work) runs on the calling goroutine,
// as handing it to the pool costs about as much as it saves.
func (r *runner) project(p *kernels.Pool, h []float32) {
	if r.signs != nil {
		r.signs.Apply(p, r.z, h)
		return
	}
	if len(r.t.Plus)+len(r.t.Minus) < poolProjectMin {
		r.t.Apply(r.z, h)
		return
	}
	p.TernaryApplyBatch(r.t, r.z, h, 1)
}

// poolProjectMin is the number of nonzeros of P from which the projection
// is split across the pool.
const poolProjectMin = 1 << 17

// fuses reports whether screenTop selects inside the GEMV.
func (r *runner) fuses() bool {
	return r.s.Bits == quant.Int4 && r.s.intKernel()
}

// fullGemv sets z = Wh + b over the classifier's float32 or float16 W.
func fullGemv(p *kernels.Pool, z []float32, lin *spec.Linear, h []float32) {
	switch {
	case lin.Half():
		p.GemvHalf(z, lin.W16, lin.D, h, lin.B)
	default:
		p.Gemv(z, lin.W, lin.D, h, lin.B)
	}
}

// exactGemv sets z_j = W_j·h + b_j for the rows listed in idx.
func exactGemv(p *kernels.Pool, z []float32, lin *spec.Linear, h []float32, idx []int32) {
	switch {
	case lin.Half():
		p.GemvHalfGather(z, lin.W16, lin.D, h, lin.B, idx)
	default:
		p.GemvGather(z, lin.W, lin.D, h, lin.B, idx)
	}
}

// flush evicts the screener's weights as this runner reads them.
func (r *runner) flush() bool {
	sp := r.s.Spec
	ok := kernels.Flush(sp.B) && kernels.Flush(r.scales)
	if sp.Q != nil {
		ok = kernels.Flush(sp.Q.I8) && kernels.Flush(sp.Q.Packed) && ok
	}
	if r.signs != nil {
		return r.signs.Flush() && ok
	}
	t := r.t
	return kernels.Flush(sp.W) && kernels.Flush(t.Plus) && kernels.Flush(t.Minus) &&
		kernels.Flush(t.PlusPtr) && kernels.Flush(t.MinusPtr) && ok
}
