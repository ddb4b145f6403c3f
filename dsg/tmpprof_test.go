package dsg

import (
	"testing"

	"github.com/elasticml/elastic/fmnist"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

func TestTmpProf(t *testing.T) {
	m, _, _, err := Load("../docs/results/raw/dsg/vgg8-dense.safetensors", VGG8)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.EnableDSG(Sparse{Gamma: 0.8, Granularity: GranChannel, Select: SelectBatch, SearchFraction: 0.0625, ZVC: true}, 1); err != nil {
		t.Fatal(err)
	}
	p := kernels.NewPool(2)
	m.SetPool(p)
	set, _ := fmnist.Load("", fmnist.Train)
	x := make([]float32, 64*fmnist.Pixels)
	lab := make([]int32, 64)
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	gather(x, lab, set, idx)
	ps := m.Params()
	opt := nn.NewMomentum(ps, 0.9, 5e-4)
	for range 40 {
		nn.ZeroGrad(ps)
		m.Loss(x, lab, true, true)
		m.LossBackward()
		opt.Step(0.01)
	}
}
