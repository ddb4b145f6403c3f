package enmc

import (
	"fmt"

	"github.com/elasticml/elastic/sim/dram"
)

// CPUModel is a host CPU reduced to its memory system: classification on
// it takes at least its bytes over the sustained stream bandwidth of its
// channels (measured on the DDR4 model). That is the fastest such a CPU
// can be when the classifier is not cache-resident, so a speed-up over it
// is a lower bound on the speed-up over the real CPU. It is not a
// measurement of any CPU.
type CPUModel struct {
	Name     string
	L3Bytes  int64   // a classifier this small may be served from cache: the bound does not apply
	GBps     float64 // sustained stream bandwidth of all channels (DDR4 model)
	Channels int
	Preset   string
}

// Xeon8280 models the thesis's CPU baseline (§6.5.2): Xeon Platinum 8280,
// 6 channels of DDR4-2666 (128 GB/s peak; 2 ranks per channel assumed),
// 38.5 MB L3 (Intel's published figure). The bandwidth is our DDR4
// model's sequential stream on that memory.
func Xeon8280() (*CPUModel, error) {
	o := dram.Table63()
	o.Channels, o.Ranks = 6, 2
	r, err := dram.Run(dram.Options{Preset: "DDR4-2666V", Org: o, Pattern: "stream", Requests: 1 << 15})
	if err != nil {
		return nil, fmt.Errorf("enmc: CPU model: %w", err)
	}
	return &CPUModel{Name: "Xeon 8280, 6×DDR4-2666 (bandwidth bound, modelled)", L3Bytes: 38_500_000,
		GBps: r.GBps, Channels: o.Channels, Preset: r.Preset}, nil
}

// CPUFullBytes is what full classification reads: W (FP32) and b, once per
// batch (the batch's GEMM streams W once).
func CPUFullBytes(t *Task) int64 { return int64(t.Classes) * (int64(t.Dim)*4 + 4) }

// CPUScreenBytes is what screening reads on a CPU: the INT4 screener and its
// bias, then the candidate rows of W, each distinct row once per batch.
func CPUScreenBytes(t *Task) int64 {
	union := map[int32]struct{}{}
	for _, c := range t.Candidates {
		for _, j := range c {
			union[j] = struct{}{}
		}
	}
	return int64(t.Classes)*(int64(t.K+1)/2+4) + int64(len(union))*int64(t.Dim)*4
}

// Seconds returns the bound for reading n bytes.
func (c *CPUModel) Seconds(n int64) float64 { return float64(n) / (c.GBps * 1e9) }
