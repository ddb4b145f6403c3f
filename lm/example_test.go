package lm_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/elasticml/elastic/lm"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/train"
)

// Example trains a small LSTM on a repetitive token stream, saves it and
// loads it back for evaluation.
func Example() {
	var stream []int32
	for len(stream) < 3000 {
		stream = append(stream, 0, 1, 2, 3, 4, 2)
	}
	m, err := lm.New(lm.Config{Cell: nn.LSTMCell, Vocab: 5, Hidden: 16, Layers: 1}, 1)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "lm")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	tr, err := lm.NewTrainer(m, lm.TrainConfig{Epochs: 4, LR: 1, BPTT: 10, Batch: 8, Control: train.Control{Out: path}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), stream, stream[:300]); err != nil {
		log.Fatal(err)
	}

	loaded, state, err := lm.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	loss, err := loaded.Evaluate(stream[:300], 10, 35)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.Config(), "next epoch:", state.Epoch)
	fmt.Println("perplexity below 1.5:", lm.Perplexity(loss) < 1.5)
	// Output:
	// lstm 1×16 emb 16 vocab 5 next epoch: 5
	// perplexity below 1.5: true
}
