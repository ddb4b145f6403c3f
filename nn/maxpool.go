package nn

import "fmt"

// MaxPool2d takes the maximum over Kernel×Kernel windows, Stride apart,
// of each channel of NHWC images, without padding (PyTorch's
// nn.MaxPool2d with its default floor rounding): the output is
// ⌊(H − Kernel)/Stride⌋ + 1 high and likewise wide. Backward routes each
// output gradient to the input element that won its window; the first
// maximum wins a tie, so a window of equal values sends it to one place.
type MaxPool2d struct {
	C, H, W        int
	Kernel, Stride int
	OutH, OutW     int

	arg []int32 // per output element: the flat index within its sample of the winner
	n   int
}

// NewMaxPool2d returns a pool over c-channel h×w images; stride 0 means
// the kernel size. It panics if a size is not positive or the kernel is
// larger than the image.
func NewMaxPool2d(c, h, w, kernel, stride int) *MaxPool2d {
	if stride == 0 {
		stride = kernel
	}
	if c <= 0 || h <= 0 || w <= 0 || kernel <= 0 || stride <= 0 || kernel > h || kernel > w {
		panic(fmt.Sprintf("nn: NewMaxPool2d(%d, %d, %d, %d, %d): bad geometry", c, h, w, kernel, stride))
	}
	return &MaxPool2d{C: c, H: h, W: w, Kernel: kernel, Stride: stride,
		OutH: (h-kernel)/stride + 1, OutW: (w-kernel)/stride + 1}
}

// InSize and OutSize are the values per sample of the input and output.
func (p *MaxPool2d) InSize() int  { return p.H * p.W * p.C }
func (p *MaxPool2d) OutSize() int { return p.OutH * p.OutW * p.C }

// Forward sets y (n×OutH×OutW×C) to the window maxima of x (n×H×W×C).
func (p *MaxPool2d) Forward(y, x []float32, n int) {
	checkLen("MaxPool2d.Forward", "x", len(x), n*p.InSize())
	checkLen("MaxPool2d.Forward", "y", len(y), n*p.OutSize())
	p.n = n
	if cap(p.arg) < len(y) {
		p.arg = make([]int32, len(y))
	}
	p.arg = p.arg[:len(y)]
	C := p.C
	for b := range n {
		img := x[b*p.InSize() : (b+1)*p.InSize()]
		out := y[b*p.OutSize() : (b+1)*p.OutSize()]
		arg := p.arg[b*p.OutSize() : (b+1)*p.OutSize()]
		for oh := range p.OutH {
			for ow := range p.OutW {
				o := (oh*p.OutW + ow) * C
				first := (oh*p.Stride*p.W + ow*p.Stride) * C
				copy(out[o:o+C], img[first:first+C])
				for c := range C {
					arg[o+c] = int32(first + c)
				}
				for r := range p.Kernel {
					for s := range p.Kernel {
						i := ((oh*p.Stride+r)*p.W + ow*p.Stride + s) * C
						for c, v := range img[i : i+C] {
							// v > max, not ≥, keeps the first maximum;
							// a NaN never wins, so it stays only where it
							// came first.
							if v > out[o+c] {
								out[o+c], arg[o+c] = v, int32(i+c)
							}
						}
					}
				}
			}
		}
	}
}

// Reapply sets y to the elements of x at the winners of the last
// Forward's windows, holding the choice fixed: gradient checks use it to
// differentiate the piece the last Forward chose.
func (p *MaxPool2d) Reapply(y, x []float32) {
	checkLen("MaxPool2d.Reapply", "x", len(x), p.n*p.InSize())
	checkLen("MaxPool2d.Reapply", "y", len(y), p.n*p.OutSize())
	for b := range p.n {
		img := x[b*p.InSize() : (b+1)*p.InSize()]
		arg := p.arg[b*p.OutSize() : (b+1)*p.OutSize()]
		for i, a := range arg {
			y[b*p.OutSize()+i] = img[a]
		}
	}
}

// Backward sets dx to the input gradient for output gradient dy of the
// last Forward.
func (p *MaxPool2d) Backward(dx, dy []float32) {
	checkLen("MaxPool2d.Backward", "dy", len(dy), p.n*p.OutSize())
	checkLen("MaxPool2d.Backward", "dx", len(dx), p.n*p.InSize())
	clear(dx)
	for b := range p.n {
		img := dx[b*p.InSize() : (b+1)*p.InSize()]
		arg := p.arg[b*p.OutSize() : (b+1)*p.OutSize()]
		for i, g := range dy[b*p.OutSize() : (b+1)*p.OutSize()] {
			img[arg[i]] += g // overlapping windows may share a winner
		}
	}
}

// ReLU is the rectifier max(x, 0). Its gradient at 0 is taken as 0, as
// PyTorch does.
type ReLU struct {
	y    []float32 // output of the last Forward
	held []bool    // the last Forward's mask, once Reapply has used it
}

// Forward sets y to max(x, 0) and keeps y for Backward, so y must not
// change in between. y may alias x.
func (r *ReLU) Forward(y, x []float32) {
	checkLen("ReLU.Forward", "y", len(y), len(x))
	for i, v := range x {
		y[i] = max(v, 0)
	}
	r.y, r.held = y, nil
}

// Reapply sets y to x where the last Forward's output was positive and to
// 0 elsewhere, holding that mask fixed for later Reapply and Backward
// calls until the next Forward: gradient checks use it to differentiate
// the piece the last Forward chose. y may be the last Forward's output.
func (r *ReLU) Reapply(y, x []float32) {
	checkLen("ReLU.Reapply", "x", len(x), len(r.y))
	checkLen("ReLU.Reapply", "y", len(y), len(r.y))
	if r.held == nil {
		r.held = make([]bool, len(r.y))
		for i, v := range r.y {
			r.held[i] = v > 0
		}
	}
	for i, v := range x {
		if r.held[i] {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

// Backward sets dx to dy where the last output was positive (where the
// held mask is set, after Reapply) and to 0 elsewhere. dx may alias dy.
func (r *ReLU) Backward(dx, dy []float32) {
	checkLen("ReLU.Backward", "dy", len(dy), len(r.y))
	checkLen("ReLU.Backward", "dx", len(dx), len(r.y))
	if r.held != nil {
		for i, on := range r.held {
			if on {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
		return
	}
	for i, v := range r.y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}
