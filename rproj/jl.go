package rproj

import (
	"fmt"
	"math"
)

// jlDenominator returns ε²/2 − ε³/3 after checking 0 < ε < 1 and n >= 2.
func jlDenominator(eps float64, n int) (float64, error) {
	if !(eps > 0 && eps < 1) {
		return 0, fmt.Errorf("rproj: ε=%v must be in (0, 1): %w", eps, ErrParam)
	}
	if n < 2 {
		return 0, fmt.Errorf("rproj: n=%d points, need at least 2: %w", n, ErrParam)
	}
	return eps*eps/2 - eps*eps*eps/3, nil
}

// KForDMI returns the projected dimension that dual-module inference uses
// for a layer whose weight matrix W_HH has n rows (thesis equation 3.9):
//
//	k = 4 / (ε²/2 − ε³/3) · log(n)
//
// with the natural logarithm, rounded down. Equation 3.9 is equation 3.7
// with β = 0; rounding down reproduces the thesis's Table 3.4, where an LSTM
// with 1500 hidden units (n = 4·1500 = 6000 gate rows) gets k = 966, 417
// and 266 for ε = 0.3, 0.5 and 0.7. It returns an error wrapping ErrParam
// unless 0 < ε < 1 and n >= 2.
func KForDMI(eps float64, n int) (int, error) {
	den, err := jlDenominator(eps, n)
	if err != nil {
		return 0, err
	}
	return int(4 * math.Log(float64(n)) / den), nil
}

// KForDSG returns the projected dimension that dimension-reduction search
// uses for N points (thesis section 4.3 and Theorem 1 of Appendix A.1). The
// text states only k > O(log(N)/ε²); the constant is the one behind the
// thesis's Table A.1, whose k for VGG8 layers with N = nK = 128, 256 and
// 512 output channels at ε = 0.3, 0.5, 0.7, 0.9 are exactly
//
//	k = ⌊4·ln(N) / (ε²/2 − ε³/3)⌋,
//
// the same rule as KForDMI. It returns an error wrapping ErrParam unless
// 0 < ε < 1 and N >= 2.
func KForDSG(eps float64, N int) (int, error) {
	den, err := jlDenominator(eps, N)
	if err != nil {
		return 0, err
	}
	return int(4 * math.Log(float64(N)) / den), nil
}

// KForProb returns the smallest k satisfying thesis equation 3.7 (Theorem
// 1.1 of Achlioptas, "Database-friendly random projections", 2003):
//
//	k > k0 = (4 + 2β) / (ε²/2 − ε³/3) · log(n)
//
// For such k, a sparse random projection with s = 1 or s = 3 preserves
// every pairwise squared distance among n points within 1±ε (equation 3.8)
// with probability at least 1 − n^(−β). It returns an error wrapping
// ErrParam unless 0 < ε < 1, n >= 2 and β >= 0.
func KForProb(eps, beta float64, n int) (int, error) {
	den, err := jlDenominator(eps, n)
	if err != nil {
		return 0, err
	}
	if !(beta >= 0) || math.IsInf(beta, 1) {
		return 0, fmt.Errorf("rproj: β=%v must be finite and >= 0: %w", beta, ErrParam)
	}
	return int(math.Floor((4+2*beta)/den*math.Log(float64(n)))) + 1, nil
}
