//go:build amd64 && !purego

#include "textflag.h"
#include "exp2_amd64.h"


// func gatherAxpyAVX512(out, p, v *float32, keys *int32, n, dv int)
//
// out[0:dv] = Σ_t p[t]·v[keys[t]·dv : keys[t]·dv+dv] for dv a positive
// multiple of 16: 64 columns at a time in Z0..Z3 (four independent
// chains), then 16 at a time, so the output row stays in registers
// while the listed value rows stream through.
TEXT ·gatherAxpyAVX512(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ dv+40(FP), R8
	MOVQ R8, R9
	SHLQ $2, R9          // row stride in bytes
	XORQ R10, R10        // column offset in bytes
	MOVQ R8, R11
	SHLQ $2, R11         // dv in bytes

ga64:
	MOVQ R11, AX
	SUBQ R10, AX
	CMPQ AX, $256
	JLT  ga16
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ p+8(FP), SI
	MOVQ keys+24(FP), BX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   ga64store

ga64loop:
	MOVLQSX (BX), AX
	IMULQ   R9, AX
	ADDQ    v+16(FP), AX
	ADDQ    R10, AX
	VBROADCASTSS (SI), Z8
	VFMADD231PS (AX), Z8, Z0
	VFMADD231PS 64(AX), Z8, Z1
	VFMADD231PS 128(AX), Z8, Z2
	VFMADD231PS 192(AX), Z8, Z3
	ADDQ $4, SI
	ADDQ $4, BX
	DECQ CX
	JNZ  ga64loop

ga64store:
	VMOVUPS Z0, (DI)(R10*1)
	VMOVUPS Z1, 64(DI)(R10*1)
	VMOVUPS Z2, 128(DI)(R10*1)
	VMOVUPS Z3, 192(DI)(R10*1)
	ADDQ $256, R10
	JMP  ga64

ga16:
	CMPQ R10, R11
	JGE  gadone
	VXORPS Z0, Z0, Z0
	MOVQ p+8(FP), SI
	MOVQ keys+24(FP), BX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   ga16store

ga16loop:
	MOVLQSX (BX), AX
	IMULQ   R9, AX
	ADDQ    v+16(FP), AX
	ADDQ    R10, AX
	VBROADCASTSS (SI), Z8
	VFMADD231PS (AX), Z8, Z0
	ADDQ $4, SI
	ADDQ $4, BX
	DECQ CX
	JNZ  ga16loop

ga16store:
	VMOVUPS Z0, (DI)(R10*1)
	ADDQ $64, R10
	JMP  ga16

gadone:
	VZEROUPPER
	RET

// func softmaxRowAVX512(s *float32, n int, tail uint16)
//
// s[0:n] = softmax(s[0:n]) in place, n = 16·⌊n/16⌋ + popcount(tail) with
// tail the lane mask of the last, partial vector (0 if none): a max pass,
// then x = 2^((s − max)·log2 e) with the dense kernel's exponential and
// its sum, then a scaling pass by 1/sum (0 when every score is −Inf, so
// such a row comes out all zero rather than NaN).
TEXT ·softmaxRowAVX512(SB), NOSPLIT, $0-18
	EXP2LOADZ
	VBROADCASTSS 36(AX), Z29
	VBROADCASTSS 40(AX), Z30
	MOVQ  s+0(FP), SI
	MOVQ  n+8(FP), CX
	SHRQ  $4, CX
	MOVWQZX tail+16(FP), DX
	KMOVW DX, K1
	VMOVAPS Z30, Z5
	MOVQ SI, DI
	MOVQ CX, R8
	TESTQ R8, R8
	JZ   smmaxtail

smmax:
	VMAXPS (DI), Z5, Z5
	ADDQ $64, DI
	DECQ R8
	JNZ  smmax

smmaxtail:
	VMOVAPS Z30, Z6
	VMOVUPS (DI), K1, Z6
	VMAXPS Z6, Z5, Z5
	VEXTRACTF64X4 $1, Z5, Y6
	VMAXPS Y6, Y5, Y5
	VEXTRACTF128 $1, Y5, X6
	VMAXPS X6, X5, X5
	VPERMILPS $0x4e, X5, X6
	VMAXPS X6, X5, X5
	VPERMILPS $0xb1, X5, X6
	VMAXPS X6, X5, X5
	VBROADCASTSS X5, Z5
	VMULPS Z29, Z5, Z5    // max·log2 e
	VXORPS Z7, Z7, Z7     // sum
	MOVQ SI, DI
	MOVQ CX, R8
	TESTQ R8, R8
	JZ   smexptail

smexp:
	VMULPS (DI), Z29, Z0
	VSUBPS Z5, Z0, Z0
	EXP2Z
	VMOVUPS Z3, (DI)
	VADDPS Z3, Z7, Z7
	ADDQ $64, DI
	DECQ R8
	JNZ  smexp

smexptail:
	VMOVAPS Z30, Z0
	VMOVUPS (DI), K1, Z0
	VMULPS Z29, Z0, Z0
	VSUBPS Z5, Z0, Z0
	EXP2Z
	VMOVUPS Z3, K1, (DI)
	VADDPS Z3, Z7, Z7
	VEXTRACTF64X4 $1, Z7, Y6
	VADDPS Y6, Y7, Y7
	VEXTRACTF128 $1, Y7, X6
	VADDPS X6, X7, X7
	VPERMILPS $0x4e, X7, X6
	VADDPS X6, X7, X7
	VPERMILPS $0xb1, X7, X6
	VADDPS X6, X7, X7
	VDIVSS X7, X21, X8    // 1/sum
	VXORPS X9, X9, X9
	VCMPSS $4, X9, X7, X10 // sum != 0
	VANDPS X10, X8, X8
	VBROADCASTSS X8, Z8
	MOVQ SI, DI
	MOVQ CX, R8
	TESTQ R8, R8
	JZ   smscaletail

smscale:
	VMULPS (DI), Z8, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	DECQ R8
	JNZ  smscale

smscaletail:
	VMOVUPS.Z (DI), K1, Z0
	VMULPS Z8, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	VZEROUPPER
	RET
