// The base-2 exponential of the softmax kernels (attention_amd64.s,
// sparse_attn_amd64.s): x = n + f with n the nearest integer, 2^f by its
// degree-6 Taylor polynomial (coefficients ln2^k/k!, truncation error
// below 1e-7 relative on [−½, ½]), 2^n added into the exponent; inputs
// below −126 (and NaN) give an exact 0, so that a masked −Inf score
// weighs nothing. exp2Poly in attention.go is the pure-Go twin.

// exp2Consts: the clamp −126, 1, c1…c6, the exponent bias 127, then
// log2(e) and −Inf for the row softmax.
DATA exp2Consts<>+0(SB)/4, $0xc2fc0000
DATA exp2Consts<>+4(SB)/4, $0x3f800000
DATA exp2Consts<>+8(SB)/4, $0x3f317218
DATA exp2Consts<>+12(SB)/4, $0x3e75fdf0
DATA exp2Consts<>+16(SB)/4, $0x3d635847
DATA exp2Consts<>+20(SB)/4, $0x3c1d955b
DATA exp2Consts<>+24(SB)/4, $0x3aaec3ff
DATA exp2Consts<>+28(SB)/4, $0x39218489
DATA exp2Consts<>+32(SB)/4, $0x0000007f
DATA exp2Consts<>+36(SB)/4, $0x3fb8aa3b
DATA exp2Consts<>+40(SB)/4, $0xff800000
GLOBL exp2Consts<>(SB), RODATA|NOPTR, $44

// EXP2LOADZ broadcasts the first nine constants into Z20–Z28 (AX is
// clobbered).
#define EXP2LOADZ \
	LEAQ exp2Consts<>(SB), AX \
	VBROADCASTSS 0(AX), Z20 \
	VBROADCASTSS 4(AX), Z21 \
	VBROADCASTSS 8(AX), Z22 \
	VBROADCASTSS 12(AX), Z23 \
	VBROADCASTSS 16(AX), Z24 \
	VBROADCASTSS 20(AX), Z25 \
	VBROADCASTSS 24(AX), Z26 \
	VBROADCASTSS 28(AX), Z27 \
	VBROADCASTSS 32(AX), Z28

// EXP2Z sets Z3 = 2^Z0, clobbering Z1, Z2 and K2.
#define EXP2Z \
	VMAXPS Z20, Z0, Z1 \
	VRNDSCALEPS $0, Z1, Z2 \
	VSUBPS Z2, Z1, Z1 \
	VMOVAPS Z27, Z3 \
	VFMADD213PS Z26, Z1, Z3 \
	VFMADD213PS Z25, Z1, Z3 \
	VFMADD213PS Z24, Z1, Z3 \
	VFMADD213PS Z23, Z1, Z3 \
	VFMADD213PS Z22, Z1, Z3 \
	VFMADD213PS Z21, Z1, Z3 \
	VCVTPS2DQ Z2, Z2 \
	VPADDD Z28, Z2, Z2 \
	VPSLLD $23, Z2, Z2 \
	VMULPS Z2, Z3, Z3 \
	VCMPPS $13, Z20, Z0, K2 \
	VMOVAPS.Z Z3, K2, Z3

// EXP2LOADY broadcasts the first nine constants into Y7–Y15 (AX is
// clobbered).
#define EXP2LOADY \
	LEAQ exp2Consts<>(SB), AX \
	VBROADCASTSS 0(AX), Y7 \
	VBROADCASTSS 4(AX), Y8 \
	VBROADCASTSS 8(AX), Y9 \
	VBROADCASTSS 12(AX), Y10 \
	VBROADCASTSS 16(AX), Y11 \
	VBROADCASTSS 20(AX), Y12 \
	VBROADCASTSS 24(AX), Y13 \
	VBROADCASTSS 28(AX), Y14 \
	VBROADCASTSS 32(AX), Y15

// EXP2Y sets Y3 = 2^Y0, clobbering Y1, Y2 and Y4.
#define EXP2Y \
	VMAXPS Y7, Y0, Y1 \
	VROUNDPS $0, Y1, Y2 \
	VSUBPS Y2, Y1, Y1 \
	VMOVAPS Y14, Y3 \
	VFMADD213PS Y13, Y1, Y3 \
	VFMADD213PS Y12, Y1, Y3 \
	VFMADD213PS Y11, Y1, Y3 \
	VFMADD213PS Y10, Y1, Y3 \
	VFMADD213PS Y9, Y1, Y3 \
	VFMADD213PS Y8, Y1, Y3 \
	VCVTPS2DQ Y2, Y2 \
	VPADDD Y15, Y2, Y2 \
	VPSLLD $23, Y2, Y2 \
	VMULPS Y2, Y3, Y3 \
	VCMPPS $13, Y7, Y0, Y4 \
	VANDPS Y4, Y3, Y3
