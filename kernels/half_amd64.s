//go:build amd64 && !purego

#include "textflag.h"
#include "dot4_amd64.h"

// H4BODY32 multiplies 32 columns of x (SI) by the four binary16 rows
// R8–R11 at column AX, widened by VCVTPH2PS, into Z0–Z7.
#define H4BODY32 \
	VMOVUPS     (SI)(AX*4), Z8        \
	VMOVUPS     64(SI)(AX*4), Z9      \
	VCVTPH2PS   (R8)(AX*2), Z10       \
	VCVTPH2PS   (R9)(AX*2), Z11       \
	VCVTPH2PS   (R10)(AX*2), Z12      \
	VCVTPH2PS   (R11)(AX*2), Z13      \
	VFMADD231PS Z10, Z8, Z0           \
	VFMADD231PS Z11, Z8, Z1           \
	VFMADD231PS Z12, Z8, Z2           \
	VFMADD231PS Z13, Z8, Z3           \
	VCVTPH2PS   32(R8)(AX*2), Z10     \
	VCVTPH2PS   32(R9)(AX*2), Z11     \
	VCVTPH2PS   32(R10)(AX*2), Z12    \
	VCVTPH2PS   32(R11)(AX*2), Z13    \
	VFMADD231PS Z10, Z9, Z4           \
	VFMADD231PS Z11, Z9, Z5           \
	VFMADD231PS Z12, Z9, Z6           \
	VFMADD231PS Z13, Z9, Z7

// HPF prefetches into L2 one line of each of the four rows at R12, R13,
// R14 and BX, two bytes per column of AX: per 32 columns the rows being
// multiplied advance one line each, and so do the prefetched ones. The
// dense GEMV points them a fixed distance ahead of the current rows, the
// gather at the next four listed rows.
#define HPF \
	PREFETCHT1 (R12)(AX*2) \
	PREFETCHT1 (R13)(AX*2) \
	PREFETCHT1 (R14)(AX*2) \
	PREFETCHT1 (BX)(AX*2)

// HPFLOAD loads the four prefetch addresses from the array at BX, if BX is
// not nil, and jumps to nopf if it is.
#define HPFLOAD(nopf) \
	TESTQ BX, BX     \
	JZ    nopf       \
	MOVQ  0(BX), R12 \
	MOVQ  8(BX), R13 \
	MOVQ  16(BX), R14 \
	MOVQ  24(BX), BX

// func dot4HalfAVX512(x []float32, r0, r1, r2, r3 *uint16, p *[4]uintptr, out *[4]float32)
TEXT ·dot4HalfAVX512(SB), NOSPLIT, $0-72
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   r0+24(FP), R8
	MOVQ   r1+32(FP), R9
	MOVQ   r2+40(FP), R10
	MOVQ   r3+48(FP), R11
	MOVQ   p+56(FP), BX
	DOT4ZERO
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JZ     h4tail16
	HPFLOAD(h4loop32)

h4loop32pf:
	HPF
	H4BODY32
	ADDQ        $32, AX
	CMPQ        AX, DX
	JB          h4loop32pf
	JMP         h4tail16

h4loop32:
	H4BODY32
	ADDQ        $32, AX
	CMPQ        AX, DX
	JB          h4loop32

h4tail16:
	CMPQ        AX, CX
	JAE         h4reduce
	VMOVUPS     (SI)(AX*4), Z8
	VCVTPH2PS   (R8)(AX*2), Z10
	VCVTPH2PS   (R9)(AX*2), Z11
	VCVTPH2PS   (R10)(AX*2), Z12
	VCVTPH2PS   (R11)(AX*2), Z13
	VFMADD231PS Z10, Z8, Z0
	VFMADD231PS Z11, Z8, Z1
	VFMADD231PS Z12, Z8, Z2
	VFMADD231PS Z13, Z8, Z3

h4reduce:
	DOT4REDUCE
	MOVQ    out+64(FP), DI
	VMOVUPS X0, (DI)
	VZEROUPPER
	RET

// func toHalfAVX512(dst *uint16, src *float32, n int)
TEXT ·toHalfAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

thloop:
	VMOVUPS   (SI)(AX*4), Z0
	VCVTPS2PH $0, Z0, (DI)(AX*2)
	ADDQ      $16, AX
	CMPQ      AX, CX
	JB        thloop
	VZEROUPPER
	RET

// func fromHalfAVX512(dst *float32, src *uint16, n int)
TEXT ·fromHalfAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

fhloop:
	VCVTPH2PS (SI)(AX*2), Z0
	VMOVUPS   Z0, (DI)(AX*4)
	ADDQ      $16, AX
	CMPQ      AX, CX
	JB        fhloop
	VZEROUPPER
	RET

// H8STEP multiplies the eight columns of x at byte offset xo from SI·AX
// by the four binary16 rows R8–R11 at byte offset wo, widened by
// VCVTPH2PS ymm, into the AVX2 accumulators A0–A3 (Y8, Y12–Y15 scratch).
#define H8STEP(xo, wo, A0, A1, A2, A3) \
	VMOVUPS     xo(SI)(AX*4), Y8    \
	VCVTPH2PS   wo(R8)(AX*2), Y12   \
	VCVTPH2PS   wo(R9)(AX*2), Y13   \
	VCVTPH2PS   wo(R10)(AX*2), Y14  \
	VCVTPH2PS   wo(R11)(AX*2), Y15  \
	VFMADD231PS Y12, Y8, A0         \
	VFMADD231PS Y13, Y8, A1         \
	VFMADD231PS Y14, Y8, A2         \
	VFMADD231PS Y15, Y8, A3

#define H4BODY32AVX2 \
	H8STEP(0, 0, Y0, Y1, Y2, Y3)    \
	H8STEP(32, 16, Y4, Y5, Y6, Y7)  \
	H8STEP(64, 32, Y0, Y1, Y2, Y3)  \
	H8STEP(96, 48, Y4, Y5, Y6, Y7)

// func dot4HalfAVX2(x []float32, r0, r1, r2, r3 *uint16, p *[4]uintptr, out *[4]float32)
//
// len(x) >= 8. A ragged tail of r < 8 columns is done as the last eight
// columns of the row with the first 8-r lanes (already summed) cleared, so
// no byte outside the rows or x is read.
TEXT ·dot4HalfAVX2(SB), NOSPLIT, $0-72
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   r0+24(FP), R8
	MOVQ   r1+32(FP), R9
	MOVQ   r2+40(FP), R10
	MOVQ   r3+48(FP), R11
	MOVQ   p+56(FP), BX
	DOT4ZEROAVX2
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JZ     h2tail8
	HPFLOAD(h2loop32)

h2loop32pf:
	HPF
	H4BODY32AVX2
	ADDQ $32, AX
	CMPQ AX, DX
	JB   h2loop32pf
	JMP  h2tail8

h2loop32:
	H4BODY32AVX2
	ADDQ $32, AX
	CMPQ AX, DX
	JB   h2loop32

h2tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  h2tailmask

h2loop8:
	H8STEP(0, 0, Y0, Y1, Y2, Y3)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   h2loop8

h2tailmask:
	SUBQ        AX, CX
	JZ          h2reduce
	LEAQ        ·floatMask(SB), BX
	VMOVDQU     (BX)(CX*4), Y9      // ones in the first 8-r lanes
	LEAQ        -8(AX)(CX*1), AX    // the row's last eight columns
	VANDNPS     (SI)(AX*4), Y9, Y8
	VCVTPH2PS   (R8)(AX*2), Y12
	VCVTPH2PS   (R9)(AX*2), Y13
	VCVTPH2PS   (R10)(AX*2), Y14
	VCVTPH2PS   (R11)(AX*2), Y15
	VANDNPS     Y12, Y9, Y12
	VANDNPS     Y13, Y9, Y13
	VANDNPS     Y14, Y9, Y14
	VANDNPS     Y15, Y9, Y15
	VFMADD231PS Y12, Y8, Y4
	VFMADD231PS Y13, Y8, Y5
	VFMADD231PS Y14, Y8, Y6
	VFMADD231PS Y15, Y8, Y7

h2reduce:
	DOT4REDUCEAVX2
	MOVQ         out+64(FP), DI
	VMOVUPS      X0, (DI)
	VZEROUPPER
	RET

// func toHalfAVX2(dst *uint16, src *float32, n int)
TEXT ·toHalfAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

th2loop:
	VMOVUPS   (SI)(AX*4), Y0
	VCVTPS2PH $0, Y0, (DI)(AX*2)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        th2loop
	VZEROUPPER
	RET

// func fromHalfAVX2(dst *float32, src *uint16, n int)
TEXT ·fromHalfAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

fh2loop:
	VCVTPH2PS (SI)(AX*2), Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        fh2loop
	VZEROUPPER
	RET
