// DOT4ZERO clears the accumulators Z0–Z7 of a four-row dot product.
#define DOT4ZERO \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

// DOT4ZEROAVX2 and DOT4REDUCEAVX2 are DOT4ZERO and DOT4REDUCE for the AVX2
// kernels, whose accumulators are Y0–Y7 (Y0–Y3 and Y4–Y7 partial sums of
// rows 0–3); the reduction clobbers Y1–Y7.
#define DOT4ZEROAVX2 \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7

#define DOT4REDUCEAVX2 \
	VADDPS       Y4, Y0, Y0 \
	VADDPS       Y5, Y1, Y1 \
	VADDPS       Y6, Y2, Y2 \
	VADDPS       Y7, Y3, Y3 \
	VEXTRACTF128 $1, Y0, X4 \
	VEXTRACTF128 $1, Y1, X5 \
	VEXTRACTF128 $1, Y2, X6 \
	VEXTRACTF128 $1, Y3, X7 \
	VADDPS       X4, X0, X0 \
	VADDPS       X5, X1, X1 \
	VADDPS       X6, X2, X2 \
	VADDPS       X7, X3, X3 \
	VHADDPS      X1, X0, X0 \
	VHADDPS      X3, X2, X2 \
	VHADDPS      X2, X0, X0

// DOT4REDUCE sums the AVX-512 accumulators of a four-row dot product —
// Z0–Z3 and Z4–Z7 hold partial sums of rows 0–3 — into X0 = the four
// sums, clobbering Z1–Z7: the upper halves go to Y4–Y7, leaving the AVX2
// reduction. The float32 and float16 GEMVs share it.
#define DOT4REDUCE \
	VADDPS        Z4, Z0, Z0 \
	VADDPS        Z5, Z1, Z1 \
	VADDPS        Z6, Z2, Z2 \
	VADDPS        Z7, Z3, Z3 \
	VEXTRACTF64X4 $1, Z0, Y4 \
	VEXTRACTF64X4 $1, Z1, Y5 \
	VEXTRACTF64X4 $1, Z2, Y6 \
	VEXTRACTF64X4 $1, Z3, Y7 \
	DOT4REDUCEAVX2
