package nn_test

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/elasticml/elastic/nn"
)

// Example trains a one-layer LSTM and a linear readout for a few SGD steps
// to predict the next symbol of a repeating sequence, the loop of a
// language-model trainer in miniature.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	const vocab, hidden, steps, batch = 4, 8, 8, 1
	emb := nn.NewEmbedding(vocab, hidden, 0.1, rng)
	rnn := nn.NewRNN(nn.LSTMCell, hidden, hidden, 1, 0, rng)
	dec := nn.NewLinear(hidden, vocab, rng)
	params := append(append(emb.Params(), rnn.Params()...), dec.Params()...)

	seq := []int32{0, 1, 2, 3, 0, 1, 2, 3, 0}
	x := make([]float32, steps*hidden)
	logits := make([]float32, steps*vocab)
	dh := make([]float32, steps*hidden)
	dx := make([]float32, steps*hidden)
	for epoch := range 200 {
		st := rnn.NewState(batch)
		nn.ZeroGrad(params)
		emb.Forward(x, seq[:steps])
		h := rnn.Forward(x, steps, batch, st, true)
		dec.Forward(logits, h, steps)
		loss := nn.CrossEntropy(nil, logits, logits, seq[1:], vocab) // gradient in place
		dec.Backward(dh, logits)
		rnn.Backward(dx, dh)
		emb.Backward(dx)
		nn.ClipGradNorm(params, 5)
		nn.SGD(params, 1)
		if epoch == 0 || epoch == 199 {
			fmt.Printf("epoch %d: loss < 0.1 %v\n", epoch, loss < 0.1)
		}
	}
	// Output:
	// epoch 0: loss < 0.1 false
	// epoch 199: loss < 0.1 true
}

// ExampleLSTM_Step runs a layer one token at a time, as inference does.
func ExampleLSTM_Step() {
	rng := rand.New(rand.NewPCG(3, 4))
	l := nn.NewLSTM(3, 2, 0, rng)
	h, c := make([]float32, 2), make([]float32, 2)
	for _, x := range [][]float32{{1, 0, 0}, {0, 1, 0}} {
		l.Step(h, c, x)
	}
	w := l.Weights()
	fmt.Println(w.Cell, len(w.WIH), len(w.WHH), len(h))
	// Output: lstm 24 16 2
}

// ExampleLSTMUpdateUnits splits an LSTM's pointwise update between two
// goroutines, each taking half of the units, as a decoder step does on a
// worker pool; the result is the whole-vector update's, bit for bit.
// Unit 0 by hand: c' = σ(0.5)·0.1 + σ(1)·tanh(−2) = −0.6425 and
// h = σ(0)·tanh(c') = −0.2833.
func ExampleLSTMUpdateUnits() {
	const H = 4
	pre := []float32{ // gate pre-activations [i f g o], H each
		1, 0, -1, 2,
		0.5, 0.5, 0.5, 0.5,
		-2, 1, 0, 3,
		0, 1, -1, 0,
	}
	h, c := make([]float32, H), []float32{0.1, -0.2, 0.3, 0}
	done := make(chan struct{})
	go func() {
		nn.LSTMUpdateUnits(h, c, pre, 0, H/2)
		close(done)
	}()
	nn.LSTMUpdateUnits(h, c, pre, H/2, H)
	<-done
	fmt.Printf("h = %.4f\nc = %.4f\n", h, c)
	// Output:
	// h = [-0.2833 0.1834 0.0496 0.3523]
	// c = [-0.6425 0.2563 0.1867 0.8764]
}

// A 3×3 convolution with padding 1 keeps a 28×28 image's size; its
// output is NHWC, ready for BatchNorm over rows of channels.
func ExampleConv2d() {
	rng := rand.New(rand.NewPCG(1, 2))
	c := nn.NewConv2d(nn.ConvConfig{InC: 1, InH: 28, InW: 28, OutC: 8, Kernel: 3, Pad: 1}, rng)
	x := make([]float32, 2*c.InSize()) // two images
	y := make([]float32, 2*c.OutSize())
	c.Forward(y, x, 2)
	bn := nn.NewBatchNorm(c.OutC)
	bn.Forward(y, y, 2*c.OutH*c.OutW, true)
	fmt.Println(c.OutH, c.OutW, c.OutC, len(y))
	// Output: 28 28 8 12544
}

// A byte-level classifier over two sequences of different lengths in one
// batch (no padding), trained for a few AdamW steps under a warm-up.
func ExampleClassifier() {
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := nn.EncoderConfig{Vocab: 256, MaxLen: 64, Dim: 16, Heads: 2, FFN: 32, Layers: 2, Pool: nn.MeanPool, Dropout: 0.1}
	c, err := nn.NewClassifier(cfg, 16, 3, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	var ids []int32
	for _, b := range []byte("In the beginningJesus wept.") {
		ids = append(ids, int32(b))
	}
	lens := []int{16, 11}
	targets := []int32{0, 2}
	logits := make([]float32, 2*3)
	grad := make([]float32, len(logits))
	opt := nn.NewAdamW(c.Params(), 0.01)
	sched := nn.Warmup{Base: 1e-2, Warmup: 5}
	var first, last float64
	for step := 1; step <= 20; step++ {
		if err := c.Forward(logits, ids, lens, true); err != nil {
			fmt.Println(err)
			return
		}
		last = nn.CrossEntropy(nil, grad, logits, targets, 3)
		if step == 1 {
			first = last
		}
		nn.ZeroGrad(c.Params())
		c.Backward(grad)
		opt.Step(sched.Rate(step))
	}
	fmt.Println("loss fell:", last < first/2)
	err = c.Forward(logits, make([]int32, 65), []int{65}, false)
	fmt.Println(errors.Is(err, nn.ErrSequence))
	// Output:
	// loss fell: true
	// true
}

// ExampleSampler draws the candidates of a sampled-softmax batch.
func ExampleSampler() {
	s := nn.NewSampler(1000, 1)
	cand, logQ, pos := s.Candidates([]int32{7, 42, 7}, 4)
	fmt.Println(len(cand), cand[:2], pos)
	fmt.Printf("%.3f %.3f\n", logQ[0], logQ[2]) // targets are certain; draws have q = 4/998
	// Output:
	// 6 [7 42] [0 1 0]
	// 0.000 -5.519
}
