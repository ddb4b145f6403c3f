package nn

import "math"

// expNeg returns e^x for x <= 0 in float32, within a few ulps. The
// softmax of an 8k-word vocabulary takes millions of exponentials per
// batch, and math.Exp's float64 path costs several times more.
func expNeg(x float32) float32 {
	const (
		log2e = 1.4426950408889634
		ln2Hi = 0.693145751953125 // ln 2 with its low bits cleared, so k·ln2Hi is exact
		ln2Lo = 1.428606765330187e-06
	)
	if x < -87 {
		return 0 // below the smallest normal float32
	}
	k := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - k*ln2Hi - k*ln2Lo // |r| <= ln2/2
	// Taylor series of e^r to r⁶; the next term is below 1.3e-7.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}
