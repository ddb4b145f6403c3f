package core_test

import (
	"fmt"

	"github.com/elasticml/elastic/sim/core"
)

func ExampleConvert() {
	dram := core.Clock{Name: "dram", Hz: 1_200_000_000}
	logic := core.Clock{Name: "enmc", Hz: 400_000_000}
	n, _ := core.Convert(10, dram, logic) // 10 DRAM cycles end inside logic cycle 4
	fmt.Println(n)
	// Output: 4
}

func ExampleEnergyTable_Scaled() {
	t, _ := core.Horowitz45().Scaled("t28", 28, 28.0/45, "energy ∝ feature size (assumed)")
	e, _ := t.Lookup("fp32_mul")
	fmt.Printf("%.2f pJ at %d nm, published=%v\n", e.PJ, e.NodeNM, e.Published)
	// Output: 2.30 pJ at 28 nm, published=false
}
