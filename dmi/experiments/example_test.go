package experiments_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/elasticml/elastic/dmi/experiments"
	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
)

// Prune zeroes the smallest-magnitude 90 % of each recurrent weight
// matrix of a copy of the model.
func ExamplePrune() {
	m, _ := lm.New(lm.Config{Cell: nn.LSTMCell, Vocab: 30, Hidden: 10, Layers: 1}, 1)
	p, err := experiments.Prune(m, 0.9)
	if err != nil {
		panic(err)
	}
	w := p.Layers()[0]
	zeros := 0
	for _, v := range w.WHH {
		if v == 0 {
			zeros++
		}
	}
	fmt.Printf("W_hh: %d of %d weights zero\n", zeros, len(w.WHH))
	// Output:
	// W_hh: 360 of 400 weights zero
}

// A Runner builds a thesis table on a model; here Table 3.5 on a tiny
// untrained LSTM, without timing.
func ExampleRunner_Run() {
	m, _ := lm.New(lm.Config{Cell: nn.LSTMCell, Vocab: 30, Hidden: 8, Layers: 1}, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	stream := make([]int32, 500)
	for i := range stream {
		stream[i] = int32(rng.IntN(30))
	}
	r, err := experiments.New(experiments.Config{
		Main:   experiments.Model{Path: "tiny.safetensors", LM: m},
		Eval:   stream[:100],
		Calib:  stream[100:],
		Timing: experiments.Timing{Off: true},
	})
	if err != nil {
		panic(err)
	}
	res, err := r.Run("3.5")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Join(res.Table.Header, " | "))
	fmt.Println(res.Table.Rows[2][0])
	// Output:
	// Precision | Base | FP32 | INT16 | INT8 | INT4 | INT2
	// Params. (MiB)
}
