//go:build amd64 && !purego

#include "textflag.h"
#include "dot4_amd64.h"

// floatMask holds eight all-ones words then eight zero words; the 32 bytes
// at offset 4*(8-r) form a VMASKMOVPS mask selecting the first r lanes.
// It is global so the float16 AVX2 kernel (half_amd64.s) shares it.
DATA ·floatMask+0(SB)/4, $0xffffffff
DATA ·floatMask+4(SB)/4, $0xffffffff
DATA ·floatMask+8(SB)/4, $0xffffffff
DATA ·floatMask+12(SB)/4, $0xffffffff
DATA ·floatMask+16(SB)/4, $0xffffffff
DATA ·floatMask+20(SB)/4, $0xffffffff
DATA ·floatMask+24(SB)/4, $0xffffffff
DATA ·floatMask+28(SB)/4, $0xffffffff
DATA ·floatMask+32(SB)/4, $0
DATA ·floatMask+36(SB)/4, $0
DATA ·floatMask+40(SB)/4, $0
DATA ·floatMask+44(SB)/4, $0
DATA ·floatMask+48(SB)/4, $0
DATA ·floatMask+52(SB)/4, $0
DATA ·floatMask+56(SB)/4, $0
DATA ·floatMask+60(SB)/4, $0
GLOBL ·floatMask(SB), RODATA|NOPTR, $64

// func dotAVX512(x, y []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ y_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-64, DX
	JZ   d512tail16

d512loop64:
	VMOVUPS     (SI)(AX*4), Z4
	VMOVUPS     64(SI)(AX*4), Z5
	VMOVUPS     128(SI)(AX*4), Z6
	VMOVUPS     192(SI)(AX*4), Z7
	VFMADD231PS (DI)(AX*4), Z4, Z0
	VFMADD231PS 64(DI)(AX*4), Z5, Z1
	VFMADD231PS 128(DI)(AX*4), Z6, Z2
	VFMADD231PS 192(DI)(AX*4), Z7, Z3
	ADDQ        $64, AX
	CMPQ        AX, DX
	JB          d512loop64

d512tail16:
	MOVQ CX, DX
	ANDQ $-16, DX
	CMPQ AX, DX
	JAE  d512tailmask

d512loop16:
	VMOVUPS     (SI)(AX*4), Z4
	VFMADD231PS (DI)(AX*4), Z4, Z0
	ADDQ        $16, AX
	CMPQ        AX, DX
	JB          d512loop16

d512tailmask:
	SUBQ        AX, CX
	JZ          d512reduce
	MOVL        $1, BX
	SHLL        CX, BX
	DECL        BX
	KMOVW       BX, K1
	VMOVUPS.Z   (SI)(AX*4), K1, Z4
	VMOVUPS.Z   (DI)(AX*4), K1, Z5
	VFMADD231PS Z5, Z4, Z1

d512reduce:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VMOVHLPS      X0, X0, X1
	VADDPS        X1, X0, X0
	VMOVSHDUP     X0, X1
	VADDSS        X1, X0, X0
	VMOVSS        X0, ret+48(FP)
	VZEROUPPER
	RET

// D4BODY32 multiplies 32 columns of x (SI) by the four rows R8–R11 at
// column AX into the accumulators Z0–Z7.
#define D4BODY32 \
	VMOVUPS     (SI)(AX*4), Z8       \
	VMOVUPS     64(SI)(AX*4), Z9     \
	VFMADD231PS (R8)(AX*4), Z8, Z0   \
	VFMADD231PS (R9)(AX*4), Z8, Z1   \
	VFMADD231PS (R10)(AX*4), Z8, Z2  \
	VFMADD231PS (R11)(AX*4), Z8, Z3  \
	VFMADD231PS 64(R8)(AX*4), Z9, Z4 \
	VFMADD231PS 64(R9)(AX*4), Z9, Z5 \
	VFMADD231PS 64(R10)(AX*4), Z9, Z6 \
	VFMADD231PS 64(R11)(AX*4), Z9, Z7

// func dot4AVX512(x []float32, r0, r1, r2, r3 *float32, p *[4]uintptr, out *[4]float32)
//
// With p non-nil it prefetches into L2, two lines of each per 32 columns,
// the four rows starting at p[0..3] (a gather's next group), so they
// arrive as the current rows end.
TEXT ·dot4AVX512(SB), NOSPLIT, $0-72
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ r0+24(FP), R8
	MOVQ r1+32(FP), R9
	MOVQ r2+40(FP), R10
	MOVQ r3+48(FP), R11
	MOVQ p+56(FP), BX
	DOT4ZERO
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX
	JZ   d4x512tail16
	TESTQ BX, BX
	JZ    d4x512loop32
	MOVQ  0(BX), R12
	MOVQ  8(BX), R13
	MOVQ  16(BX), R14
	MOVQ  24(BX), DI

d4x512loop32pf:
	PREFETCHT1 (R12)(AX*4)
	PREFETCHT1 64(R12)(AX*4)
	PREFETCHT1 (R13)(AX*4)
	PREFETCHT1 64(R13)(AX*4)
	PREFETCHT1 (R14)(AX*4)
	PREFETCHT1 64(R14)(AX*4)
	PREFETCHT1 (DI)(AX*4)
	PREFETCHT1 64(DI)(AX*4)
	D4BODY32
	ADDQ       $32, AX
	CMPQ       AX, DX
	JB         d4x512loop32pf
	JMP        d4x512tail16

d4x512loop32:
	D4BODY32
	ADDQ        $32, AX
	CMPQ        AX, DX
	JB          d4x512loop32

d4x512tail16:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $16
	JB   d4x512tailmask
	VMOVUPS     (SI)(AX*4), Z8
	VFMADD231PS (R8)(AX*4), Z8, Z0
	VFMADD231PS (R9)(AX*4), Z8, Z1
	VFMADD231PS (R10)(AX*4), Z8, Z2
	VFMADD231PS (R11)(AX*4), Z8, Z3
	ADDQ        $16, AX

d4x512tailmask:
	SUBQ        AX, CX
	JZ          d4x512reduce
	MOVL        $1, BX
	SHLL        CX, BX
	DECL        BX
	KMOVW       BX, K1
	VMOVUPS.Z   (SI)(AX*4), K1, Z8
	VMOVUPS.Z   (R8)(AX*4), K1, Z9
	VFMADD231PS Z9, Z8, Z4
	VMOVUPS.Z   (R9)(AX*4), K1, Z9
	VFMADD231PS Z9, Z8, Z5
	VMOVUPS.Z   (R10)(AX*4), K1, Z9
	VFMADD231PS Z9, Z8, Z6
	VMOVUPS.Z   (R11)(AX*4), K1, Z9
	VFMADD231PS Z9, Z8, Z7

d4x512reduce:
	DOT4REDUCE
	MOVQ    out+64(FP), DI
	VMOVUPS X0, (DI)
	VZEROUPPER
	RET

// func axpyAVX512(alpha float32, x, y []float32)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Z15
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX
	JZ           a512tail16

a512loop64:
	VMOVUPS     (DI)(AX*4), Z0
	VMOVUPS     64(DI)(AX*4), Z1
	VMOVUPS     128(DI)(AX*4), Z2
	VMOVUPS     192(DI)(AX*4), Z3
	VFMADD231PS (SI)(AX*4), Z15, Z0
	VFMADD231PS 64(SI)(AX*4), Z15, Z1
	VFMADD231PS 128(SI)(AX*4), Z15, Z2
	VFMADD231PS 192(SI)(AX*4), Z15, Z3
	VMOVUPS     Z0, (DI)(AX*4)
	VMOVUPS     Z1, 64(DI)(AX*4)
	VMOVUPS     Z2, 128(DI)(AX*4)
	VMOVUPS     Z3, 192(DI)(AX*4)
	ADDQ        $64, AX
	CMPQ        AX, DX
	JB          a512loop64

a512tail16:
	MOVQ CX, DX
	ANDQ $-16, DX
	CMPQ AX, DX
	JAE  a512tailmask

a512loop16:
	VMOVUPS     (DI)(AX*4), Z0
	VFMADD231PS (SI)(AX*4), Z15, Z0
	VMOVUPS     Z0, (DI)(AX*4)
	ADDQ        $16, AX
	CMPQ        AX, DX
	JB          a512loop16

a512tailmask:
	SUBQ        AX, CX
	JZ          a512done
	MOVL        $1, BX
	SHLL        CX, BX
	DECL        BX
	KMOVW       BX, K1
	VMOVUPS.Z   (SI)(AX*4), K1, Z1
	VMOVUPS.Z   (DI)(AX*4), K1, Z0
	VFMADD231PS Z1, Z15, Z0
	VMOVUPS     Z0, K1, (DI)(AX*4)

a512done:
	VZEROUPPER
	RET

// func dotAVX2(x, y []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JZ     d2tail8

d2loop32:
	VMOVUPS     (SI)(AX*4), Y4
	VMOVUPS     32(SI)(AX*4), Y5
	VMOVUPS     64(SI)(AX*4), Y6
	VMOVUPS     96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ        $32, AX
	CMPQ        AX, DX
	JB          d2loop32

d2tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  d2tailmask

d2loop8:
	VMOVUPS     (SI)(AX*4), Y4
	VFMADD231PS (DI)(AX*4), Y4, Y0
	ADDQ        $8, AX
	CMPQ        AX, DX
	JB          d2loop8

d2tailmask:
	SUBQ        AX, CX
	JZ          d2reduce
	LEAQ        ·floatMask(SB), BX
	NEGQ        CX
	VMOVDQU     32(BX)(CX*4), Y8
	VMASKMOVPS  (SI)(AX*4), Y8, Y4
	VMASKMOVPS  (DI)(AX*4), Y8, Y5
	VFMADD231PS Y5, Y4, Y1

d2reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, ret+48(FP)
	VZEROUPPER
	RET

// D4BODY16Y adds 16 columns at AX of the rows at R8-R11 to Y0-Y7, x from SI.
#define D4BODY16Y \
	VMOVUPS     (SI)(AX*4), Y8     \
	VMOVUPS     32(SI)(AX*4), Y9   \
	VFMADD231PS (R8)(AX*4), Y8, Y0 \
	VFMADD231PS (R9)(AX*4), Y8, Y1 \
	VFMADD231PS (R10)(AX*4), Y8, Y2 \
	VFMADD231PS (R11)(AX*4), Y8, Y3 \
	VFMADD231PS 32(R8)(AX*4), Y9, Y4 \
	VFMADD231PS 32(R9)(AX*4), Y9, Y5 \
	VFMADD231PS 32(R10)(AX*4), Y9, Y6 \
	VFMADD231PS 32(R11)(AX*4), Y9, Y7

// func dot4AVX2(x []float32, r0, r1, r2, r3 *float32, p *[4]uintptr, out *[4]float32)
//
// With p non-nil it prefetches into L2, one line of each per 16 columns,
// the four rows starting at p[0..3] (the next group), as dot4AVX512 does.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-72
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
	ANDQ   $-16, DX
	JZ     d4x2tail8
	TESTQ  BX, BX
	JZ     d4x2loop16
	MOVQ   0(BX), R12
	MOVQ   8(BX), R13
	MOVQ   16(BX), R14
	MOVQ   24(BX), DI

d4x2loop16pf:
	PREFETCHT1 (R12)(AX*4)
	PREFETCHT1 (R13)(AX*4)
	PREFETCHT1 (R14)(AX*4)
	PREFETCHT1 (DI)(AX*4)
	D4BODY16Y
	ADDQ       $16, AX
	CMPQ       AX, DX
	JB         d4x2loop16pf
	JMP        d4x2tail8

d4x2loop16:
	D4BODY16Y
	ADDQ        $16, AX
	CMPQ        AX, DX
	JB          d4x2loop16

d4x2tail8:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $8
	JB   d4x2tailmask
	VMOVUPS     (SI)(AX*4), Y8
	VFMADD231PS (R8)(AX*4), Y8, Y0
	VFMADD231PS (R9)(AX*4), Y8, Y1
	VFMADD231PS (R10)(AX*4), Y8, Y2
	VFMADD231PS (R11)(AX*4), Y8, Y3
	ADDQ        $8, AX

d4x2tailmask:
	SUBQ        AX, CX
	JZ          d4x2reduce
	LEAQ        ·floatMask(SB), BX
	NEGQ        CX
	VMOVDQU     32(BX)(CX*4), Y10
	VMASKMOVPS  (SI)(AX*4), Y10, Y8
	VMASKMOVPS  (R8)(AX*4), Y10, Y9
	VFMADD231PS Y9, Y8, Y4
	VMASKMOVPS  (R9)(AX*4), Y10, Y9
	VFMADD231PS Y9, Y8, Y5
	VMASKMOVPS  (R10)(AX*4), Y10, Y9
	VFMADD231PS Y9, Y8, Y6
	VMASKMOVPS  (R11)(AX*4), Y10, Y9
	VFMADD231PS Y9, Y8, Y7

d4x2reduce:
	DOT4REDUCEAVX2
	MOVQ         out+64(FP), DI
	VMOVUPS      X0, (DI)
	VZEROUPPER
	RET

// func axpyAVX2(alpha float32, x, y []float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JZ           a2tail8

a2loop32:
	VMOVUPS     (DI)(AX*4), Y0
	VMOVUPS     32(DI)(AX*4), Y1
	VMOVUPS     64(DI)(AX*4), Y2
	VMOVUPS     96(DI)(AX*4), Y3
	VFMADD231PS (SI)(AX*4), Y15, Y0
	VFMADD231PS 32(SI)(AX*4), Y15, Y1
	VFMADD231PS 64(SI)(AX*4), Y15, Y2
	VFMADD231PS 96(SI)(AX*4), Y15, Y3
	VMOVUPS     Y0, (DI)(AX*4)
	VMOVUPS     Y1, 32(DI)(AX*4)
	VMOVUPS     Y2, 64(DI)(AX*4)
	VMOVUPS     Y3, 96(DI)(AX*4)
	ADDQ        $32, AX
	CMPQ        AX, DX
	JB          a2loop32

a2tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JAE  a2tailmask

a2loop8:
	VMOVUPS     (DI)(AX*4), Y0
	VFMADD231PS (SI)(AX*4), Y15, Y0
	VMOVUPS     Y0, (DI)(AX*4)
	ADDQ        $8, AX
	CMPQ        AX, DX
	JB          a2loop8

a2tailmask:
	SUBQ        AX, CX
	JZ          a2done
	LEAQ        ·floatMask(SB), BX
	NEGQ        CX
	VMOVDQU     32(BX)(CX*4), Y8
	VMASKMOVPS  (SI)(AX*4), Y8, Y1
	VMASKMOVPS  (DI)(AX*4), Y8, Y0
	VFMADD231PS Y1, Y15, Y0
	VMASKMOVPS  Y0, Y8, (DI)(AX*4)

a2done:
	VZEROUPPER
	RET
