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

// HPF prefetches into L2 the 256 bytes at R12 + 8·AX: when the four rows
// are consecutive (R12 != 0), the loop walks their 4·cols·2 contiguous
// bytes 256 per 32 columns, so R12 = r0 + distance keeps the whole block
// that far ahead.
#define HPF \
	PREFETCHT1 (R12)(AX*8)    \
	PREFETCHT1 64(R12)(AX*8)  \
	PREFETCHT1 128(R12)(AX*8) \
	PREFETCHT1 192(R12)(AX*8)

// func dot4HalfAVX512(x []float32, r0, r1, r2, r3 *uint16, pf uintptr, out *[4]float32)
TEXT ·dot4HalfAVX512(SB), NOSPLIT, $0-72
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   r0+24(FP), R8
	MOVQ   r1+32(FP), R9
	MOVQ   r2+40(FP), R10
	MOVQ   r3+48(FP), R11
	MOVQ   pf+56(FP), R12
	DOT4ZERO
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JZ     h4tail16
	TESTQ  R12, R12
	JZ     h4loop32

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
