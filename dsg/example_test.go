package dsg_test

import (
	"fmt"

	"github.com/elasticml/elastic/dsg"
)

func ExampleNew() {
	for _, a := range dsg.Archs {
		m, err := dsg.New(a, 1)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-5s %7d parameters, %5.2f M MACs per image\n", a, m.NumParams(), float64(m.MACs())/1e6)
	}
	// Output:
	// mlp    266610 parameters,  0.27 M MACs per image
	// lenet   62158 parameters,  0.42 M MACs per image
	// vgg8   585578 parameters, 29.42 M MACs per image
}
