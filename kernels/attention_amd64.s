//go:build amd64 && !purego

#include "textflag.h"
#include "exp2_amd64.h"

// func softmaxTileAVX512(s []float32, rows, cols int, m, corr, sum *float32)
//
// One online-softmax step on a rows×cols tile (rows >= 1, cols a multiple
// of 16) whose columns are queries: m[c] = max(m[c], max_r s[r][c]),
// corr[c] = 2^(old m[c] − m[c]), s[r][c] = 2^(s[r][c] − m[c]) and
// sum[c] = Σ_r s[r][c]. Z0..Z6 are working registers, the exp2
// constants Z20–Z28 (exp2_amd64.h).
TEXT ·softmaxTileAVX512(SB), NOSPLIT, $0-64
	EXP2LOADZ
	MOVQ cols+32(FP), R9
	SHLQ $2, R9
	MOVQ m+40(FP), AX
	MOVQ corr+48(FP), BX
	MOVQ sum+56(FP), DX
	XORQ R10, R10

stAVX512chunk:
	CMPQ R10, R9
	JGE  stAVX512done
	VMOVUPS (AX)(R10*1), Z5
	VMOVAPS Z5, Z6
	MOVQ s_base+0(FP), SI
	ADDQ R10, SI
	MOVQ rows+24(FP), CX

stAVX512max:
	VMAXPS (SI), Z6, Z6
	ADDQ R9, SI
	DECQ CX
	JNZ  stAVX512max
	VMOVUPS Z6, (AX)(R10*1)
	VSUBPS Z6, Z5, Z0

	EXP2Z
	VMOVUPS Z3, (BX)(R10*1)
	VXORPS Z5, Z5, Z5
	MOVQ s_base+0(FP), SI
	ADDQ R10, SI
	MOVQ rows+24(FP), CX

stAVX512exp:
	VMOVUPS (SI), Z0
	VSUBPS Z6, Z0, Z0
	EXP2Z
	VMOVUPS Z3, (SI)
	VADDPS Z3, Z5, Z5
	ADDQ R9, SI
	DECQ CX
	JNZ  stAVX512exp
	VMOVUPS Z5, (DX)(R10*1)
	ADDQ $64, R10
	JMP  stAVX512chunk

stAVX512done:
	VZEROUPPER
	RET

// func softmaxTileAVX2(s []float32, rows, cols int, m, corr, sum *float32)
//
// One online-softmax step on a rows×cols tile (rows >= 1, cols a multiple
// of 8) whose columns are queries: m[c] = max(m[c], max_r s[r][c]),
// corr[c] = 2^(old m[c] − m[c]), s[r][c] = 2^(s[r][c] − m[c]) and
// sum[c] = Σ_r s[r][c]. Y0..Y6 are working registers, the exp2
// constants Y7–Y15 (exp2_amd64.h).
TEXT ·softmaxTileAVX2(SB), NOSPLIT, $0-64
	EXP2LOADY
	MOVQ cols+32(FP), R9
	SHLQ $2, R9
	MOVQ m+40(FP), AX
	MOVQ corr+48(FP), BX
	MOVQ sum+56(FP), DX
	XORQ R10, R10

stAVX2chunk:
	CMPQ R10, R9
	JGE  stAVX2done
	VMOVUPS (AX)(R10*1), Y5
	VMOVAPS Y5, Y6
	MOVQ s_base+0(FP), SI
	ADDQ R10, SI
	MOVQ rows+24(FP), CX

stAVX2max:
	VMAXPS (SI), Y6, Y6
	ADDQ R9, SI
	DECQ CX
	JNZ  stAVX2max
	VMOVUPS Y6, (AX)(R10*1)
	VSUBPS Y6, Y5, Y0

	EXP2Y
	VMOVUPS Y3, (BX)(R10*1)
	VXORPS Y5, Y5, Y5
	MOVQ s_base+0(FP), SI
	ADDQ R10, SI
	MOVQ rows+24(FP), CX

stAVX2exp:
	VMOVUPS (SI), Y0
	VSUBPS Y6, Y0, Y0
	EXP2Y
	VMOVUPS Y3, (SI)
	VADDPS Y3, Y5, Y5
	ADDQ R9, SI
	DECQ CX
	JNZ  stAVX2exp
	VMOVUPS Y5, (DX)(R10*1)
	ADDQ $32, R10
	JMP  stAVX2chunk

stAVX2done:
	VZEROUPPER
	RET

// func peakFMAAVX512(iters int)
//
// 16 independent VFMADD231PS chains, iters times: enough in flight
// to cover the FMA latency on every pipe. The values stay finite (x·1 + 0).
TEXT ·peakFMAAVX512(SB), NOSPLIT, $0-8
	MOVQ iters+0(FP), CX
	LEAQ exp2Consts<>(SB), AX
	VBROADCASTSS 4(AX), Z16
	VXORPS Z17, Z17, Z17
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	TESTQ CX, CX
	JZ pkAVX512done

pkAVX512loop:
	VFMADD231PS Z17, Z16, Z0
	VFMADD231PS Z17, Z16, Z1
	VFMADD231PS Z17, Z16, Z2
	VFMADD231PS Z17, Z16, Z3
	VFMADD231PS Z17, Z16, Z4
	VFMADD231PS Z17, Z16, Z5
	VFMADD231PS Z17, Z16, Z6
	VFMADD231PS Z17, Z16, Z7
	VFMADD231PS Z17, Z16, Z8
	VFMADD231PS Z17, Z16, Z9
	VFMADD231PS Z17, Z16, Z10
	VFMADD231PS Z17, Z16, Z11
	VFMADD231PS Z17, Z16, Z12
	VFMADD231PS Z17, Z16, Z13
	VFMADD231PS Z17, Z16, Z14
	VFMADD231PS Z17, Z16, Z15
	DECQ CX
	JNZ pkAVX512loop

pkAVX512done:
	VZEROUPPER
	RET

// func peakFMAAVX2(iters int)
//
// 12 independent VFMADD231PS chains, iters times: enough in flight
// to cover the FMA latency on every pipe. The values stay finite (x·1 + 0).
TEXT ·peakFMAAVX2(SB), NOSPLIT, $0-8
	MOVQ iters+0(FP), CX
	LEAQ exp2Consts<>(SB), AX
	VBROADCASTSS 4(AX), Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JZ pkAVX2done

pkAVX2loop:
	VFMADD231PS Y13, Y12, Y0
	VFMADD231PS Y13, Y12, Y1
	VFMADD231PS Y13, Y12, Y2
	VFMADD231PS Y13, Y12, Y3
	VFMADD231PS Y13, Y12, Y4
	VFMADD231PS Y13, Y12, Y5
	VFMADD231PS Y13, Y12, Y6
	VFMADD231PS Y13, Y12, Y7
	VFMADD231PS Y13, Y12, Y8
	VFMADD231PS Y13, Y12, Y9
	VFMADD231PS Y13, Y12, Y10
	VFMADD231PS Y13, Y12, Y11
	DECQ CX
	JNZ pkAVX2loop

pkAVX2done:
	VZEROUPPER
	RET
