//go:build amd64 && !purego

#include "textflag.h"

// 0, 1, …, 15: the first indices of filterGEAVX512.
DATA attnIota<>+0(SB)/4, $0
DATA attnIota<>+4(SB)/4, $1
DATA attnIota<>+8(SB)/4, $2
DATA attnIota<>+12(SB)/4, $3
DATA attnIota<>+16(SB)/4, $4
DATA attnIota<>+20(SB)/4, $5
DATA attnIota<>+24(SB)/4, $6
DATA attnIota<>+28(SB)/4, $7
DATA attnIota<>+32(SB)/4, $8
DATA attnIota<>+36(SB)/4, $9
DATA attnIota<>+40(SB)/4, $10
DATA attnIota<>+44(SB)/4, $11
DATA attnIota<>+48(SB)/4, $12
DATA attnIota<>+52(SB)/4, $13
DATA attnIota<>+56(SB)/4, $14
DATA attnIota<>+60(SB)/4, $15
GLOBL attnIota<>(SB), RODATA|NOPTR, $64

// func predictInt8VNNI(k *byte, groups, c4 int, q *int8, qcorr *int32, qscale, kscale, y *float32, ldy int)
//
// Predicted scores of 8 queries against groups·16 packed keys (see
// PackedInt8): for each group of 16 keys, Z0..Z7 start at the queries'
// corrections −128·Σq and take one VPDPBUSD per 4-byte column quad, the 16
// keys' flipped bytes (k+128, unsigned) times the query's broadcast quad
// (signed); then y[r][16g+j] = float32(acc) · (kscale[j]·qscale[r]), the
// integer GEMVs' epilogue in the same order. q is packed [c4][8][4].
TEXT ·predictInt8VNNI(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), SI
	MOVQ groups+8(FP), CX
	MOVQ qcorr+32(FP), R9
	MOVQ qscale+40(FP), R10
	MOVQ kscale+48(FP), R11
	MOVQ y+56(FP), DX
	MOVQ ldy+64(FP), BX
	SHLQ $2, BX
	VPBROADCASTD 0(R9), Z16
	VPBROADCASTD 4(R9), Z17
	VPBROADCASTD 8(R9), Z18
	VPBROADCASTD 12(R9), Z19
	VPBROADCASTD 16(R9), Z20
	VPBROADCASTD 20(R9), Z21
	VPBROADCASTD 24(R9), Z22
	VPBROADCASTD 28(R9), Z23
	VBROADCASTSS 0(R10), Z24
	VBROADCASTSS 4(R10), Z25
	VBROADCASTSS 8(R10), Z26
	VBROADCASTSS 12(R10), Z27
	VBROADCASTSS 16(R10), Z28
	VBROADCASTSS 20(R10), Z29
	VBROADCASTSS 24(R10), Z30
	VBROADCASTSS 28(R10), Z31
	TESTQ CX, CX
	JZ    pvdone

pvgroup:
	VMOVDQA32 Z16, Z0
	VMOVDQA32 Z17, Z1
	VMOVDQA32 Z18, Z2
	VMOVDQA32 Z19, Z3
	VMOVDQA32 Z20, Z4
	VMOVDQA32 Z21, Z5
	VMOVDQA32 Z22, Z6
	VMOVDQA32 Z23, Z7
	MOVQ q+24(FP), AX
	MOVQ c4+16(FP), R13
	TESTQ R13, R13
	JZ    pvepi

pvquad:
	VMOVDQU32 (SI), Z8
	VPDPBUSD.BCST 0(AX), Z8, Z0
	VPDPBUSD.BCST 4(AX), Z8, Z1
	VPDPBUSD.BCST 8(AX), Z8, Z2
	VPDPBUSD.BCST 12(AX), Z8, Z3
	VPDPBUSD.BCST 16(AX), Z8, Z4
	VPDPBUSD.BCST 20(AX), Z8, Z5
	VPDPBUSD.BCST 24(AX), Z8, Z6
	VPDPBUSD.BCST 28(AX), Z8, Z7
	ADDQ $64, SI
	ADDQ $32, AX
	DECQ R13
	JNZ  pvquad

pvepi:
	VMOVUPS (R11), Z9
	MOVQ    DX, R14
	VCVTDQ2PS Z0, Z0
	VMULPS Z24, Z9, Z10
	VMULPS Z10, Z0, Z0
	VMOVUPS Z0, (R14)
	ADDQ BX, R14
	VCVTDQ2PS Z1, Z1
	VMULPS Z25, Z9, Z10
	VMULPS Z10, Z1, Z1
	VMOVUPS Z1, (R14)
	ADDQ BX, R14
	VCVTDQ2PS Z2, Z2
	VMULPS Z26, Z9, Z10
	VMULPS Z10, Z2, Z2
	VMOVUPS Z2, (R14)
	ADDQ BX, R14
	VCVTDQ2PS Z3, Z3
	VMULPS Z27, Z9, Z10
	VMULPS Z10, Z3, Z3
	VMOVUPS Z3, (R14)
	ADDQ BX, R14
	VCVTDQ2PS Z4, Z4
	VMULPS Z28, Z9, Z10
	VMULPS Z10, Z4, Z4
	VMOVUPS Z4, (R14)
	ADDQ BX, R14
	VCVTDQ2PS Z5, Z5
	VMULPS Z29, Z9, Z10
	VMULPS Z10, Z5, Z5
	VMOVUPS Z5, (R14)
	ADDQ BX, R14
	VCVTDQ2PS Z6, Z6
	VMULPS Z30, Z9, Z10
	VMULPS Z10, Z6, Z6
	VMOVUPS Z6, (R14)
	ADDQ BX, R14
	VCVTDQ2PS Z7, Z7
	VMULPS Z31, Z9, Z10
	VMULPS Z10, Z7, Z7
	VMOVUPS Z7, (R14)
	ADDQ $64, R11
	ADDQ $64, DX
	DECQ CX
	JNZ  pvgroup

pvdone:
	VZEROUPPER
	RET
// func predictInt8VNNI1(k *byte, groups, c4 int, q *int8, qcorr int32, qscale float32, kscale, y *float32)
//
// predictInt8VNNI for one query (q packed [c4][4]), as decoding needs: one
// accumulator per group of 16 keys, the groups independent so that the
// out-of-order core overlaps them.
TEXT ·predictInt8VNNI1(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), SI
	MOVQ groups+8(FP), CX
	MOVQ q+24(FP), DI
	MOVL qcorr+32(FP), R8
	VPBROADCASTD R8, Z16
	MOVL qscale+36(FP), R8
	VPBROADCASTD R8, Z17
	MOVQ kscale+40(FP), R11
	MOVQ y+48(FP), DX
	TESTQ CX, CX
	JZ    p1done

p1group:
	VMOVDQA32 Z16, Z0
	MOVQ DI, AX
	MOVQ c4+16(FP), R13

p1quad:
	VMOVDQU32 (SI), Z8
	VPDPBUSD.BCST (AX), Z8, Z0
	ADDQ $64, SI
	ADDQ $4, AX
	DECQ R13
	JNZ  p1quad
	VCVTDQ2PS Z0, Z0
	VMULPS (R11), Z17, Z10
	VMULPS Z10, Z0, Z0
	VMOVUPS Z0, (DX)
	ADDQ $64, R11
	ADDQ $64, DX
	DECQ CX
	JNZ  p1group

p1done:
	VZEROUPPER
	RET

// func filterGEAVX512(y *float32, n int, t float32, out *int32) int
//
// Writes the indices j < n (a multiple of 16) with y[j] >= t to out, in
// order, and returns how many. Each 16 are compressed in a register and
// stored whole (out needs n+16 slots): a VPCOMPRESSD to memory is
// microcoded on Zen 4.
TEXT ·filterGEAVX512(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL t+16(FP), R8
	VPBROADCASTD R8, Z0
	MOVQ out+24(FP), DI
	LEAQ attnIota<>(SB), AX
	VMOVDQU32 (AX), Z1
	MOVL $16, R8
	VPBROADCASTD R8, Z3
	XORQ DX, DX
	SHRQ $4, CX
	JZ   fgdone

fgloop:
	VCMPPS      $2, (SI), Z0, K1
	VPCOMPRESSD Z1, K1, Z2
	VMOVDQU32   Z2, (DI)(DX*4)
	KMOVW       K1, AX
	POPCNTL     AX, AX
	ADDQ        AX, DX
	VPADDD      Z3, Z1, Z1
	ADDQ        $64, SI
	DECQ        CX
	JNZ         fgloop

fgdone:
	MOVQ DX, ret+32(FP)
	VZEROUPPER
	RET
