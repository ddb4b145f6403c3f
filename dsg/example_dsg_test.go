package dsg_test

import (
	"fmt"

	"github.com/elasticml/elastic/dsg"
)

// The first row of the thesis's Table A.1: a VGG8 layer with 1024
// windows of 1152 inputs and 128 output channels.
func ExampleSearchMACs() {
	for _, eps := range []float64{0.3, 0.5, 0.7, 0.9} {
		k, macs, err := dsg.SearchMACs(1024, 1152, 128, eps)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("ε=%.1f: k=%d, %.3f MMACs\n", eps, k, float64(macs)/(1<<20))
	}
	// Output:
	// ε=0.3: k=539, 67.375 MMACs
	// ε=0.5: k=232, 29.000 MMACs
	// ε=0.7: k=148, 18.500 MMACs
	// ε=0.9: k=119, 14.875 MMACs
}

// DSG on LeNet-5 at 80% sparsity: four sparse layers, the output layer
// dense, and the search's cost per image at ε = 0.5. The first image
// keeps exactly 20% of each layer's outputs; the second keeps those above
// the first one's threshold. LeNet's layers are so small that k reaches
// the input size in conv1 and fc2 (k is capped there), so the search
// costs nearly as much as the dense forward pass: DRS pays off on wide
// layers (Table A.1), not on LeNet.
func ExampleNet_EnableDSG() {
	m, err := dsg.New(dsg.LeNet, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.EnableDSG(dsg.Sparse{Gamma: 0.8, Eps: 0.5}, 1); err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float32, 2*784)
	for i := range x {
		x[i] = float32(i%29) / 29
	}
	m.Forward(x, 2, true)
	names, masks := m.Masks()
	for i, p := range masks {
		fmt.Printf("%s: %d rows × %d outputs, %.2f kept\n", names[i], p.Rows, p.Cols, p.Density())
	}
	fmt.Printf("search: %d MACs per image, dense forward %d\n", m.SearchMACs(), m.MACs())
	// Output:
	// conv1: 1568 rows × 6 outputs, 0.20 kept
	// conv2: 200 rows × 16 outputs, 0.21 kept
	// fc1: 2 rows × 120 outputs, 0.25 kept
	// fc2: 2 rows × 84 outputs, 0.18 kept
	// search: 367960 MACs per image, dense forward 416520
}
