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

// func gatherAxpyAVX2(out, p, v *float32, keys *int32, n, dv int)
//
// gatherAxpyAVX512 with 8 lanes, for dv a positive multiple of 8: 32
// columns at a time in Y0..Y3, then 8 at a time.
TEXT ·gatherAxpyAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ dv+40(FP), R8
	MOVQ R8, R9
	SHLQ $2, R9
	XORQ R10, R10
	MOVQ R8, R11
	SHLQ $2, R11

gy32:
	MOVQ R11, AX
	SUBQ R10, AX
	CMPQ AX, $128
	JLT  gy8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ p+8(FP), SI
	MOVQ keys+24(FP), BX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   gy32store

gy32loop:
	MOVLQSX (BX), AX
	IMULQ   R9, AX
	ADDQ    v+16(FP), AX
	ADDQ    R10, AX
	VBROADCASTSS (SI), Y8
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y8, Y1
	VFMADD231PS 64(AX), Y8, Y2
	VFMADD231PS 96(AX), Y8, Y3
	ADDQ $4, SI
	ADDQ $4, BX
	DECQ CX
	JNZ  gy32loop

gy32store:
	VMOVUPS Y0, (DI)(R10*1)
	VMOVUPS Y1, 32(DI)(R10*1)
	VMOVUPS Y2, 64(DI)(R10*1)
	VMOVUPS Y3, 96(DI)(R10*1)
	ADDQ $128, R10
	JMP  gy32

gy8:
	CMPQ R10, R11
	JGE  gydone
	VXORPS Y0, Y0, Y0
	MOVQ p+8(FP), SI
	MOVQ keys+24(FP), BX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   gy8store

gy8loop:
	MOVLQSX (BX), AX
	IMULQ   R9, AX
	ADDQ    v+16(FP), AX
	ADDQ    R10, AX
	VBROADCASTSS (SI), Y8
	VFMADD231PS (AX), Y8, Y0
	ADDQ $4, SI
	ADDQ $4, BX
	DECQ CX
	JNZ  gy8loop

gy8store:
	VMOVUPS Y0, (DI)(R10*1)
	ADDQ $32, R10
	JMP  gy8

gydone:
	VZEROUPPER
	RET

// Eight −1 then eight 0: the 8 int32 at byte 4·(8−t) are the lane mask of
// a last vector of t entries.
DATA smTailMask<>+0(SB)/8, $-1
DATA smTailMask<>+8(SB)/8, $-1
DATA smTailMask<>+16(SB)/8, $-1
DATA smTailMask<>+24(SB)/8, $-1
DATA smTailMask<>+32(SB)/8, $0
DATA smTailMask<>+40(SB)/8, $0
DATA smTailMask<>+48(SB)/8, $0
DATA smTailMask<>+56(SB)/8, $0
GLOBL smTailMask<>(SB), RODATA|NOPTR, $64

// func softmaxRowAVX2(s *float32, n int)
//
// softmaxRowAVX512 with 8 lanes: the last n%8 entries are loaded and
// stored with VMASKMOVPS (masked lanes read as −Inf, so they weigh
// nothing). The max pass runs before the exp2 constants take Y7–Y15.
TEXT ·softmaxRowAVX2(SB), NOSPLIT, $0-16
	MOVQ s+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ CX, DX
	ANDQ $7, DX
	SHRQ $3, CX
	LEAQ smTailMask<>(SB), R9
	MOVQ $8, R10
	SUBQ DX, R10
	LEAQ (R9)(R10*4), R9 // tail mask, all zero when n%8 == 0
	LEAQ exp2Consts<>(SB), AX
	VBROADCASTSS 40(AX), Y5
	MOVQ SI, DI
	MOVQ CX, R8
	TESTQ R8, R8
	JZ   sy2maxtail

sy2max:
	VMAXPS (DI), Y5, Y5
	ADDQ $32, DI
	DECQ R8
	JNZ  sy2max

sy2maxtail:
	VMOVDQU    (R9), Y1
	VMASKMOVPS (DI), Y1, Y2
	VBROADCASTSS 40(AX), Y3
	VBLENDVPS  Y1, Y2, Y3, Y2
	VMAXPS     Y2, Y5, Y5
	VEXTRACTF128 $1, Y5, X6
	VMAXPS X6, X5, X5
	VPERMILPS $0x4e, X5, X6
	VMAXPS X6, X5, X5
	VPERMILPS $0xb1, X5, X6
	VMAXPS X6, X5, X5
	VBROADCASTSS X5, Y5
	VBROADCASTSS 36(AX), Y1
	VMULPS Y1, Y5, Y5 // max·log2 e
	EXP2LOADY
	VXORPS Y6, Y6, Y6 // sum
	MOVQ SI, DI
	MOVQ CX, R8
	TESTQ R8, R8
	JZ   sy2exptail

sy2exp:
	VBROADCASTSS 36(AX), Y1
	VMULPS (DI), Y1, Y0
	VSUBPS Y5, Y0, Y0
	EXP2Y
	VMOVUPS Y3, (DI)
	VADDPS Y3, Y6, Y6
	ADDQ $32, DI
	DECQ R8
	JNZ  sy2exp

sy2exptail:
	VMOVDQU    (R9), Y1
	VMASKMOVPS (DI), Y1, Y0
	VBROADCASTSS 40(AX), Y2
	VBLENDVPS  Y1, Y0, Y2, Y0
	VBROADCASTSS 36(AX), Y1
	VMULPS Y1, Y0, Y0
	VSUBPS Y5, Y0, Y0
	EXP2Y
	VMOVDQU    (R9), Y1
	VMASKMOVPS Y3, Y1, (DI)
	VANDPS     Y1, Y3, Y3
	VADDPS     Y3, Y6, Y6
	VEXTRACTF128 $1, Y6, X2
	VADDPS X2, X6, X6
	VPERMILPS $0x4e, X6, X2
	VADDPS X2, X6, X6
	VPERMILPS $0xb1, X6, X2
	VADDPS X2, X6, X6
	VDIVSS X6, X8, X0 // 1/sum
	VXORPS X1, X1, X1
	VCMPSS $4, X1, X6, X2 // sum != 0
	VANDPS X2, X0, X0
	VBROADCASTSS X0, Y0
	MOVQ SI, DI
	MOVQ CX, R8
	TESTQ R8, R8
	JZ   sy2scaletail

sy2scale:
	VMULPS (DI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	DECQ R8
	JNZ  sy2scale

sy2scaletail:
	VMOVDQU    (R9), Y2
	VMASKMOVPS (DI), Y2, Y1
	VMULPS     Y0, Y1, Y1
	VMASKMOVPS Y1, Y2, (DI)
	VZEROUPPER
	RET

// PFROW(off) prefetches into L1 the first 256 bytes of the key row
// keys[off/4] (R9 clobbered; R10 is the row length in bytes, R8 the base
// of k): a whole row at dim 64; a prefetch past a shorter row only warms
// its neighbour, and never faults.
#define PFROW(off) \
	MOVLQSX off(BX), R9 \
	IMULQ   R10, R9 \
	ADDQ    R8, R9 \
	PREFETCHT0 (R9) \
	PREFETCHT0 64(R9) \
	PREFETCHT0 128(R9) \
	PREFETCHT0 192(R9)

// func gatherDotsAVX512(out, q, k *float32, keys *int32, n, dim int, scale float32)
//
// out[t] = scale·(q · k[keys[t]·dim : +dim]) for t < n, dim a positive
// multiple of 16: SDDMM's row with the keys in registers four at a time
// (one load of each 16 values of q serving four rows), the four sums
// reduced together (VHADDPS), and the key rows eight on prefetched into
// L1 — they sit in L2, where the dense GEMV's PREFETCHT1 would not help.
TEXT ·gatherDotsAVX512(SB), NOSPLIT, $0-52
	MOVQ out+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), R8
	MOVQ keys+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ dim+40(FP), R10
	SHLQ $2, R10
	VBROADCASTSS scale+48(FP), X15

gd4:
	CMPQ CX, $4
	JB   gd1
	CMPQ CX, $12
	JB   gd4nopf
	PFROW(32)
	PFROW(36)
	PFROW(40)
	PFROW(44)

gd4nopf:
	MOVLQSX 0(BX), AX
	IMULQ   R10, AX
	ADDQ    R8, AX
	MOVLQSX 4(BX), DX
	IMULQ   R10, DX
	ADDQ    R8, DX
	MOVLQSX 8(BX), R11
	IMULQ   R10, R11
	ADDQ    R8, R11
	MOVLQSX 12(BX), R12
	IMULQ   R10, R12
	ADDQ    R8, R12
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	XORQ   R13, R13

gd4col:
	VMOVUPS     (SI)(R13*1), Z8
	VFMADD231PS (AX)(R13*1), Z8, Z4
	VFMADD231PS (DX)(R13*1), Z8, Z5
	VFMADD231PS (R11)(R13*1), Z8, Z6
	VFMADD231PS (R12)(R13*1), Z8, Z7
	ADDQ        $64, R13
	CMPQ        R13, R10
	JB          gd4col
	VEXTRACTF64X4 $1, Z4, Y8
	VADDPS        Y8, Y4, Y4
	VEXTRACTF64X4 $1, Z5, Y8
	VADDPS        Y8, Y5, Y5
	VEXTRACTF64X4 $1, Z6, Y8
	VADDPS        Y8, Y6, Y6
	VEXTRACTF64X4 $1, Z7, Y8
	VADDPS        Y8, Y7, Y7
	VHADDPS       Y5, Y4, Y8
	VHADDPS       Y7, Y6, Y9
	VHADDPS       Y9, Y8, Y8
	VEXTRACTF128  $1, Y8, X9
	VADDPS        X9, X8, X8
	VMULPS        X15, X8, X8
	VMOVUPS       X8, (DI)
	ADDQ $16, DI
	ADDQ $16, BX
	SUBQ $4, CX
	JMP  gd4

gd1:
	TESTQ CX, CX
	JZ    gddone
	MOVLQSX 0(BX), AX
	IMULQ   R10, AX
	ADDQ    R8, AX
	VXORPS  Z4, Z4, Z4
	XORQ    R13, R13

gd1col:
	VMOVUPS     (SI)(R13*1), Z8
	VFMADD231PS (AX)(R13*1), Z8, Z4
	ADDQ        $64, R13
	CMPQ        R13, R10
	JB          gd1col
	VEXTRACTF64X4 $1, Z4, Y8
	VADDPS        Y8, Y4, Y4
	VEXTRACTF128  $1, Y4, X8
	VADDPS        X8, X4, X4
	VHADDPS       X4, X4, X4
	VHADDPS       X4, X4, X4
	VMULSS        X15, X4, X4
	VMOVSS        X4, (DI)
	ADDQ $4, DI
	ADDQ $4, BX
	DECQ CX
	JMP  gd1

gddone:
	VZEROUPPER
	RET

// func gatherDotsAVX2(out, q, k *float32, keys *int32, n, dim int, scale float32)
//
// gatherDotsAVX512 with 8 lanes, dim a positive multiple of 8.
TEXT ·gatherDotsAVX2(SB), NOSPLIT, $0-52
	MOVQ out+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), R8
	MOVQ keys+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ dim+40(FP), R10
	SHLQ $2, R10
	VBROADCASTSS scale+48(FP), X15

gy4:
	CMPQ CX, $4
	JB   gy1
	CMPQ CX, $12
	JB   gy4nopf
	PFROW(32)
	PFROW(36)
	PFROW(40)
	PFROW(44)

gy4nopf:
	MOVLQSX 0(BX), AX
	IMULQ   R10, AX
	ADDQ    R8, AX
	MOVLQSX 4(BX), DX
	IMULQ   R10, DX
	ADDQ    R8, DX
	MOVLQSX 8(BX), R11
	IMULQ   R10, R11
	ADDQ    R8, R11
	MOVLQSX 12(BX), R12
	IMULQ   R10, R12
	ADDQ    R8, R12
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   R13, R13

gy4col:
	VMOVUPS     (SI)(R13*1), Y8
	VFMADD231PS (AX)(R13*1), Y8, Y4
	VFMADD231PS (DX)(R13*1), Y8, Y5
	VFMADD231PS (R11)(R13*1), Y8, Y6
	VFMADD231PS (R12)(R13*1), Y8, Y7
	ADDQ        $32, R13
	CMPQ        R13, R10
	JB          gy4col
	VHADDPS      Y5, Y4, Y8
	VHADDPS      Y7, Y6, Y9
	VHADDPS      Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS       X9, X8, X8
	VMULPS       X15, X8, X8
	VMOVUPS      X8, (DI)
	ADDQ $16, DI
	ADDQ $16, BX
	SUBQ $4, CX
	JMP  gy4

gy1:
	TESTQ CX, CX
	JZ    gydone1
	MOVLQSX 0(BX), AX
	IMULQ   R10, AX
	ADDQ    R8, AX
	VXORPS  Y4, Y4, Y4
	XORQ    R13, R13

gy1col:
	VMOVUPS     (SI)(R13*1), Y8
	VFMADD231PS (AX)(R13*1), Y8, Y4
	ADDQ        $32, R13
	CMPQ        R13, R10
	JB          gy1col
	VEXTRACTF128 $1, Y4, X8
	VADDPS       X8, X4, X4
	VHADDPS      X4, X4, X4
	VHADDPS      X4, X4, X4
	VMULSS       X15, X4, X4
	VMOVSS       X4, (DI)
	ADDQ $4, DI
	ADDQ $4, BX
	DECQ CX
	JMP  gy1

gydone1:
	VZEROUPPER
	RET
