package nmp_test

import (
	"fmt"

	"github.com/elasticml/elastic/sim/enmc"
	"github.com/elasticml/elastic/sim/nmp"
)

// NDA screens a batch of 2 whose FP32 features (2 × 128) overflow its
// 512-byte feature buffer: k is cut in two and the partial sums of every
// row go to DRAM and back once: 300 rows × 2 × 4 bytes = 38 bursts, written
// and read, at each of 64 ranks.
func ExampleRun() {
	task, _ := enmc.SyntheticTask(64*300, 128, 128, 2, 10, 1)
	r, err := nmp.Run(task, nmp.NDA())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Design, r.Level, r.Units, "units")
	fmt.Println("feature chunks", r.FeatureChunks, "spill bytes", r.SpillBytes)
	fmt.Println("candidates", r.Candidates, "full-precision MACs", r.ExecMACs)
	fmt.Println("no faster than its bounds:", r.Cycles >= r.ComputeBound && r.Cycles >= r.BandwidthBound)
	// Output:
	// NDA rank 64 units
	// feature chunks 2 spill bytes 311296
	// candidates 20 full-precision MACs 2560
	// no faster than its bounds: true
}
