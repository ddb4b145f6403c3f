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

// func predictInt8AVX2(k *byte, groups, c4 int, q *int8, qcorr *int32, qscale, kscale, y *float32, ldy int)
//
// predictInt8VNNI on AVX2, which has no VPDPBUSD: each 8 keys × 4 columns
// go back to signed bytes (k = stored ^ 0x80, so qcorr is not needed),
// VPMADDUBSW multiplies |k| (unsigned) by q with k's sign (VPSIGNB) — pair
// sums of at most 2·127·127, so its int16 saturation never triggers — and
// VPMADDWD by ones adds the pairs into one int32 per key and quad. The
// sums are exact, so the scores equal predictGeneric's. Keys are taken 8
// at a time (half a group), eight query rows per half in Y0..Y7.
TEXT ·predictInt8AVX2(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), SI
	MOVQ groups+8(FP), CX
	MOVQ qscale+40(FP), R10
	MOVQ kscale+48(FP), R11
	MOVQ y+56(FP), DX
	MOVQ ldy+64(FP), BX
	SHLQ $2, BX
	MOVQ c4+16(FP), R12
	SHLQ $6, R12
	MOVL $0x00010001, R8
	VMOVD R8, X11
	VPBROADCASTD X11, Y11
	MOVL $0x80808080, R8
	VMOVD R8, X13
	VPBROADCASTD X13, Y13
	TESTQ CX, CX
	JZ    pa2done

pa2group:
	XORQ R9, R9

pa2half:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	LEAQ (SI)(R9*1), DI
	MOVQ q+24(FP), AX
	MOVQ c4+16(FP), R13

pa2quad:
	VPXOR  (DI), Y13, Y8
	VPABSB Y8, Y9
	VPBROADCASTD 0(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y0, Y0
	VPBROADCASTD 4(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y1, Y1
	VPBROADCASTD 8(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y2, Y2
	VPBROADCASTD 12(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y3, Y3
	VPBROADCASTD 16(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y4, Y4
	VPBROADCASTD 20(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y5, Y5
	VPBROADCASTD 24(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y6, Y6
	VPBROADCASTD 28(AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y11, Y10, Y10
	VPADDD Y10, Y7, Y7
	ADDQ $64, DI
	ADDQ $32, AX
	DECQ R13
	JNZ  pa2quad
	VMOVUPS (R11)(R9*1), Y9
	LEAQ    (DX)(R9*1), R8
	VCVTDQ2PS Y0, Y0
	VBROADCASTSS 0(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y0, Y0
	VMOVUPS Y0, (R8)
	ADDQ BX, R8
	VCVTDQ2PS Y1, Y1
	VBROADCASTSS 4(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y1, Y1
	VMOVUPS Y1, (R8)
	ADDQ BX, R8
	VCVTDQ2PS Y2, Y2
	VBROADCASTSS 8(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y2, Y2
	VMOVUPS Y2, (R8)
	ADDQ BX, R8
	VCVTDQ2PS Y3, Y3
	VBROADCASTSS 12(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y3, Y3
	VMOVUPS Y3, (R8)
	ADDQ BX, R8
	VCVTDQ2PS Y4, Y4
	VBROADCASTSS 16(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y4, Y4
	VMOVUPS Y4, (R8)
	ADDQ BX, R8
	VCVTDQ2PS Y5, Y5
	VBROADCASTSS 20(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y5, Y5
	VMOVUPS Y5, (R8)
	ADDQ BX, R8
	VCVTDQ2PS Y6, Y6
	VBROADCASTSS 24(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y6, Y6
	VMOVUPS Y6, (R8)
	ADDQ BX, R8
	VCVTDQ2PS Y7, Y7
	VBROADCASTSS 28(R10), Y10
	VMULPS Y10, Y9, Y10
	VMULPS Y10, Y7, Y7
	VMOVUPS Y7, (R8)
	ADDQ $32, R9
	CMPQ R9, $64
	JB   pa2half
	ADDQ R12, SI
	ADDQ $64, R11
	ADDQ $64, DX
	DECQ CX
	JNZ  pa2group

pa2done:
	VZEROUPPER
	RET

// func predictInt8AVX2x1(k *byte, groups, c4 int, q *int8, qcorr int32, qscale float32, kscale, y *float32)
//
// predictInt8AVX2 for one query (q packed [c4][4]), both halves of a group
// at once.
TEXT ·predictInt8AVX2x1(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), SI
	MOVQ groups+8(FP), CX
	MOVQ q+24(FP), DI
	MOVL qscale+36(FP), R8
	VMOVD R8, X12
	VPBROADCASTD X12, Y12
	MOVQ kscale+40(FP), R11
	MOVQ y+48(FP), DX
	MOVL $0x00010001, R8
	VMOVD R8, X11
	VPBROADCASTD X11, Y11
	MOVL $0x80808080, R8
	VMOVD R8, X13
	VPBROADCASTD X13, Y13
	TESTQ CX, CX
	JZ    pa1done

pa1group:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ  DI, AX
	MOVQ  c4+16(FP), R13

pa1quad:
	VPBROADCASTD (AX), Y10
	VPXOR      (SI), Y13, Y8
	VPABSB     Y8, Y9
	VPSIGNB    Y8, Y10, Y14
	VPMADDUBSW Y14, Y9, Y14
	VPMADDWD   Y11, Y14, Y14
	VPADDD     Y14, Y0, Y0
	VPXOR      32(SI), Y13, Y8
	VPABSB     Y8, Y9
	VPSIGNB    Y8, Y10, Y15
	VPMADDUBSW Y15, Y9, Y15
	VPMADDWD   Y11, Y15, Y15
	VPADDD     Y15, Y1, Y1
	ADDQ $64, SI
	ADDQ $4, AX
	DECQ R13
	JNZ  pa1quad
	VCVTDQ2PS Y0, Y0
	VMULPS    (R11), Y12, Y10
	VMULPS    Y10, Y0, Y0
	VMOVUPS   Y0, (DX)
	VCVTDQ2PS Y1, Y1
	VMULPS    32(R11), Y12, Y10
	VMULPS    Y10, Y1, Y1
	VMOVUPS   Y1, 32(DX)
	ADDQ $64, R11
	ADDQ $64, DX
	DECQ CX
	JNZ  pa1group

pa1done:
	VZEROUPPER
	RET
