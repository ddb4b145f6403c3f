package dsg

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/elasticml/elastic/fmnist"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

// Arch names a model.
type Arch string

// The models of the thesis's Fashion-MNIST and CIFAR-10 experiments, sized
// for 28×28 grey images.
const (
	MLP   Arch = "mlp"   // 784-300-100-10 with ReLU
	LeNet Arch = "lenet" // LeNet-5
	VGG8  Arch = "vgg8"  // six 3×3 convolutions and two FC layers
)

// Archs lists the models.
var Archs = []Arch{MLP, LeNet, VGG8}

// ParseArch returns the model named s.
func ParseArch(s string) (Arch, error) {
	a := Arch(strings.ToLower(s))
	if !slices.Contains(Archs, a) {
		return "", fmt.Errorf("dsg: unknown model %q (want mlp, lenet or vgg8)", s)
	}
	return a, nil
}

// layer is one stage of a Net: a per-sample input and output size, a
// forward and backward pass over a batch, and its parameters and buffers
// under their checkpoint names.
type layer interface {
	name() string
	sizes() (in, out int)
	forward(y, x []float32, n int, train bool)
	backward(dx, dy []float32) // dx nil: the network input needs no gradient
	params() []*nn.Param
	buffers() []*nn.Param
}

// reapplier is a layer with a data-dependent choice (a ReLU mask, a
// pooling winner) that it can repeat on new input.
type reapplier interface{ Reapply(y, x []float32) }

type linear struct {
	nm string
	*nn.Linear
}

func (l linear) name() string                              { return l.nm }
func (l linear) sizes() (int, int)                         { return l.In, l.Out }
func (l linear) forward(y, x []float32, n int, train bool) { l.Forward(y, x, n) }
func (l linear) backward(dx, dy []float32)                 { l.Backward(dx, dy) }
func (l linear) params() []*nn.Param                       { return l.Params() }
func (l linear) buffers() []*nn.Param                      { return nil }

type conv struct {
	nm string
	*nn.Conv2d
}

func (l conv) name() string                              { return l.nm }
func (l conv) sizes() (int, int)                         { return l.InSize(), l.OutSize() }
func (l conv) forward(y, x []float32, n int, train bool) { l.Forward(y, x, n) }
func (l conv) backward(dx, dy []float32)                 { l.Backward(dx, dy) }
func (l conv) params() []*nn.Param                       { return l.Params() }
func (l conv) buffers() []*nn.Param                      { return nil }

// bn normalises the C channels of size/C positions per sample.
type bn struct {
	nm   string
	size int
	*nn.BatchNorm
	// src, set for a BN after a channel-mask sparse layer, holds the
	// channels that layer dropped for the whole batch: they carry no
	// data, so a training pass leaves their running statistics as they
	// were instead of pulling them towards mean 0, variance 0.
	src  *sparseLayer
	save *[]float32
}

func (l bn) name() string      { return l.nm }
func (l bn) sizes() (int, int) { return l.size, l.size }
func (l bn) forward(y, x []float32, n int, train bool) {
	if !train || l.src == nil || !l.src.channel {
		l.Forward(y, x, n*l.size/l.C, train)
		return
	}
	mean, vr := l.RunningMean.Data, l.RunningVar.Data
	*l.save = append(append((*l.save)[:0], mean...), vr...)
	l.Forward(y, x, n*l.size/l.C, train)
	kept := l.src.keptAnywhere()
	for c := range l.C {
		if !kept[c] {
			mean[c], vr[c] = (*l.save)[c], (*l.save)[l.C+c]
		}
	}
}
func (l bn) backward(dx, dy []float32) { l.Backward(dx, dy) }
func (l bn) params() []*nn.Param       { return l.Params() }
func (l bn) buffers() []*nn.Param      { return l.Buffers() }

type relu struct {
	size int
	*nn.ReLU
}

func (l relu) name() string                              { return "relu" }
func (l relu) sizes() (int, int)                         { return l.size, l.size }
func (l relu) forward(y, x []float32, n int, train bool) { l.Forward(y, x) }
func (l relu) backward(dx, dy []float32)                 { l.Backward(dx, dy) }
func (l relu) params() []*nn.Param                       { return nil }
func (l relu) buffers() []*nn.Param                      { return nil }

type maxpool struct{ *nn.MaxPool2d }

func (l maxpool) name() string                              { return "maxpool" }
func (l maxpool) sizes() (int, int)                         { return l.InSize(), l.OutSize() }
func (l maxpool) forward(y, x []float32, n int, train bool) { l.Forward(y, x, n) }
func (l maxpool) backward(dx, dy []float32)                 { l.Backward(dx, dy) }
func (l maxpool) params() []*nn.Param                       { return nil }
func (l maxpool) buffers() []*nn.Param                      { return nil }

// Net is a feed-forward classifier of 28×28 grey images into
// fmnist.Classes classes: a chain of layers, each with its own output and
// gradient buffers, which grow with the largest batch seen.
type Net struct {
	arch   Arch
	layers []layer
	acts   [][]float32 // acts[i] is the output of layers[i]
	grads  [][]float32 // grads[i] is the gradient of acts[i]
	pool   *kernels.Pool
	n      int
	// dsg is the DSG configuration after EnableDSG (nil: dense); the
	// sparse layers share gamma, the live sparsity.
	dsg   *Sparse
	gamma *float64
	// frozen makes Forward reuse the ReLU masks and pooling winners of
	// the last Forward, so a gradient check differentiates one smooth
	// piece of the network.
	frozen bool
	// prof, when not nil, receives each layer's forward and backward wall
	// time of the last step (bench only).
	prof *profile
}

// profile is the per-layer wall time of one training step.
type profile struct{ fwd, bwd []time.Duration }

// builder assembles a Net, naming layers by kind and position (conv1,
// bn1, fc1, ...) as a checkpoint stores them.
type builder struct {
	rng             *rand.Rand
	layers          []layer
	c, h, w         int // current NHWC shape per sample (h = w = 1 after flattening)
	nConv, nFC, nBN int
	noBN            bool // leave BatchNorm out (DSG's BN variant "none")
}

func (b *builder) size() int { return b.c * b.h * b.w }

func (b *builder) conv(out, kernel, pad int) {
	b.nConv++
	l := nn.NewConv2d(nn.ConvConfig{InC: b.c, InH: b.h, InW: b.w, OutC: out, Kernel: kernel, Stride: 1, Pad: pad}, b.rng)
	nm := fmt.Sprintf("conv%d", b.nConv)
	rename(nm, l.Params())
	b.layers = append(b.layers, conv{nm, l})
	b.c, b.h, b.w = out, l.OutH, l.OutW
}

func (b *builder) fc(out int) {
	b.nFC++
	l := nn.NewLinear(b.size(), out, b.rng)
	nm := fmt.Sprintf("fc%d", b.nFC)
	rename(nm, l.Params())
	b.layers = append(b.layers, linear{nm, l})
	b.c, b.h, b.w = out, 1, 1
}

func (b *builder) relu() { b.layers = append(b.layers, relu{b.size(), new(nn.ReLU)}) }

func (b *builder) bn() {
	if b.noBN {
		return
	}
	b.nBN++
	l := nn.NewBatchNorm(b.c)
	nm := fmt.Sprintf("bn%d", b.nBN)
	rename(nm, append(l.Params(), l.Buffers()...))
	b.layers = append(b.layers, bn{nm: nm, size: b.size(), BatchNorm: l})
}

func (b *builder) pool() {
	l := nn.NewMaxPool2d(b.c, b.h, b.w, 2, 2)
	b.layers = append(b.layers, maxpool{l})
	b.h, b.w = l.OutH, l.OutW
}

func rename(prefix string, ps []*nn.Param) {
	for _, p := range ps {
		p.Name = prefix + "." + p.Name
	}
}

// New returns an untrained model whose initial weights are drawn from a
// generator seeded with seed. The hidden layers follow the order of the
// thesis's DSG (Algorithm 5): CONV/FC → ReLU → BN.
//
//   - mlp: FC 300, FC 100, FC 10, ReLU after the hidden two; no
//     normalisation, as LeCun's LeNet-300-100.
//   - lenet: LeNet-5 for 28×28 input, conv 6@5×5 (pad 2) → pool →
//     conv 16@5×5 → pool → FC 120 → FC 84 → FC 10.
//   - vgg8: conv 32, 32 → pool → conv 64, 64 → pool → conv 128, 128 →
//     pool → FC 256 → FC 10, all convolutions 3×3 with pad 1. The
//     thesis's VGG8 (from Wu et al.'s WAGE) ran on 32×32 colour CIFAR-10
//     with 128–512 channels and a 1024 FC layer; no Debian package ships
//     CIFAR-10, so this is a quarter-width model of the same shape for
//     Fashion-MNIST, trainable on two cores.
func New(arch Arch, seed uint64) (*Net, error) { return build(arch, seed, true) }

// build is New, leaving out every BatchNorm unless withBN.
func build(arch Arch, seed uint64, withBN bool) (*Net, error) {
	b := &builder{rng: rand.New(rand.NewPCG(seed, 0x64736701)), c: 1, h: fmnist.Rows, w: fmnist.Cols, noBN: !withBN}
	switch arch {
	case MLP:
		b.c, b.h, b.w = fmnist.Pixels, 1, 1
		b.fc(300)
		b.relu()
		b.fc(100)
		b.relu()
	case LeNet:
		b.conv(6, 5, 2)
		b.relu()
		b.bn()
		b.pool()
		b.conv(16, 5, 0)
		b.relu()
		b.bn()
		b.pool()
		b.fc(120)
		b.relu()
		b.bn()
		b.fc(84)
		b.relu()
		b.bn()
	case VGG8:
		for _, c := range []int{32, 64, 128} {
			for range 2 {
				b.conv(c, 3, 1)
				b.relu()
				b.bn()
			}
			b.pool()
		}
		b.fc(256)
		b.relu()
		b.bn()
	default:
		return nil, fmt.Errorf("dsg: unknown model %q", arch)
	}
	b.fc(fmnist.Classes)
	return &Net{arch: arch, layers: b.layers, acts: make([][]float32, len(b.layers)), grads: make([][]float32, len(b.layers))}, nil
}

// Arch returns the model's name.
func (m *Net) Arch() Arch { return m.arch }

// SetPool makes the convolutions and FC layers run their GEMMs on p (nil
// for the caller's thread).
func (m *Net) SetPool(p *kernels.Pool) {
	m.pool = p
	for _, l := range m.layers {
		switch l := l.(type) {
		case linear:
			l.Pool = p
		case conv:
			l.Pool = p
		case *sparseLayer:
			l.pool = p
		}
	}
}

// Params returns the trainable parameters in layer order.
func (m *Net) Params() []*nn.Param {
	var ps []*nn.Param
	for _, l := range m.layers {
		ps = append(ps, l.params()...)
	}
	return ps
}

// Buffers returns the BatchNorm running statistics in layer order.
func (m *Net) Buffers() []*nn.Param {
	var ps []*nn.Param
	for _, l := range m.layers {
		ps = append(ps, l.buffers()...)
	}
	return ps
}

// NumParams returns the number of trainable values.
func (m *Net) NumParams() int {
	n := 0
	for _, p := range m.Params() {
		n += len(p.Data)
	}
	return n
}

// Forward runs n images (n×784 values, row-major NHWC) through the model
// and returns the n×Classes logits, valid until the next Forward. train
// selects batch statistics in BatchNorm and keeps what Backward needs.
func (m *Net) Forward(x []float32, n int, train bool) []float32 {
	if len(x) != n*fmnist.Pixels {
		panic(fmt.Sprintf("dsg: Forward: %d values for %d images", len(x), n))
	}
	m.n = n
	in := x
	for i, l := range m.layers {
		_, out := l.sizes()
		m.acts[i] = grow(m.acts[i], n*out)
		var t0 time.Time
		if m.prof != nil {
			t0 = time.Now()
		}
		if r, ok := l.(reapplier); ok && m.frozen {
			r.Reapply(m.acts[i], in)
		} else {
			l.forward(m.acts[i], in, n, train)
		}
		if m.prof != nil {
			m.prof.fwd[i] = time.Since(t0)
		}
		in = m.acts[i]
	}
	return in
}

// Backward accumulates the parameter gradients for the gradient dlogits of
// the loss with respect to the logits of the last training Forward.
func (m *Net) Backward(dlogits []float32) {
	dy := dlogits
	for i := len(m.layers) - 1; i >= 0; i-- {
		var dx []float32
		if i > 0 {
			m.grads[i-1] = grow(m.grads[i-1], len(m.acts[i-1]))
			dx = m.grads[i-1]
		}
		var t0 time.Time
		if m.prof != nil {
			t0 = time.Now()
		}
		m.layers[i].backward(dx, dy)
		if m.prof != nil {
			m.prof.bwd[i] = time.Since(t0)
		}
		dy = dx
	}
}

// Loss runs a training or evaluation Forward and returns the mean
// cross-entropy of the labels and the number of correct top-1 guesses;
// when grad is set the loss gradient is left for Backward.
func (m *Net) Loss(x []float32, labels []int32, train, grad bool) (loss float64, correct int) {
	n := len(labels)
	logits := m.Forward(x, n, train)
	correct = countCorrect(logits, labels)
	var g []float32
	if grad {
		m.grads[len(m.layers)-1] = grow(m.grads[len(m.layers)-1], len(logits))
		g = m.grads[len(m.layers)-1]
	}
	loss = nn.CrossEntropy(m.pool, g, logits, labels, fmnist.Classes)
	return loss, correct
}

// LossBackward is Backward from the gradient the last Loss left.
func (m *Net) LossBackward() { m.Backward(m.grads[len(m.layers)-1]) }

func countCorrect(logits []float32, labels []int32) int {
	c := 0
	for i, t := range labels {
		row := logits[i*fmnist.Classes : (i+1)*fmnist.Classes]
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if best == int(t) {
			c++
		}
	}
	return c
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// MACs returns the multiply-accumulates of one image's forward pass in
// the convolutions and FC layers.
func (m *Net) MACs() int {
	s := 0
	for _, l := range m.layers {
		switch l := l.(type) {
		case linear:
			s += l.In * l.Out
		case conv:
			s += l.OutH * l.OutW * l.OutC * l.Kernel * l.Kernel * l.InC
		case *sparseLayer:
			s += l.denseMACs()
		}
	}
	return s
}
