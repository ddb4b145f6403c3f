package dram_test

import (
	"fmt"

	"github.com/elasticml/elastic/sim/dram"
)

func ExampleChannel_Earliest() {
	ch, _ := dram.NewChannel(dram.DDR4_2400R(), dram.Table63())
	a := dram.Addr{Rank: 0, BankGroup: 1, Bank: 2, Row: 9}
	_ = ch.Issue(dram.ACT, a, 100)
	rd, _ := ch.Earliest(dram.RD, a)
	pre, _ := ch.Earliest(dram.PRE, a)
	fmt.Println(rd, pre) // tRCD 16 and tRAS 39 after the ACT
	// Output: 116 139
}
