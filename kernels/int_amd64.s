//go:build amd64 && !purego

#include "textflag.h"

// Integer dot-product kernels for GemvInt8 and GemvInt4. The VNNI kernels
// take the rows eight at a time and write the outputs of a whole list of
// rows; the AVX2 kernels take four rows a call, store their raw int32 sums,
// and leave the bias their sign trick adds, the scaling and the columns
// past the last whole vector to the Go wrappers in int_amd64.go.
//
// All sums are int32. The wrappers limit cols to MaxIntCols, so no sum,
// biased or not, can overflow.
//
// Only Z0-Z15 are used, which VZEROUPPER cleans, and no legacy-SSE
// instruction appears: a single SSE MOVD at the entry of the AVX2 kernels
// made them about ten times slower on the target machine (SSE/AVX state
// transitions), so constants are moved with VMOVD.

// LOWMASK sets dst to a mask of the low n bits of a quadword, for n in
// [0, 64] held in src. A single shift cannot do it (SHLQ by 64 shifts by 0),
// so the shift is split in two halves of at most 32. Clobbers CX.
#define LOWMASK(src, dst) \
	MOVQ src, CX     \
	SHRQ $1, CX      \
	MOVQ $-1, dst    \
	SHLQ CX, dst     \
	NEGQ CX          \
	ADDQ src, CX     \
	SHLQ CX, dst     \
	NOTQ dst

// REDUCE4Y sums each of the four int32 vectors Y0..Y3 across its lanes and
// stores the four sums at (DI). Clobbers Y4..Y7.
#define REDUCE4Y \
	VEXTRACTI128 $1, Y0, X4 \
	VEXTRACTI128 $1, Y1, X5 \
	VEXTRACTI128 $1, Y2, X6 \
	VEXTRACTI128 $1, Y3, X7 \
	VPADDD       X4, X0, X0 \
	VPADDD       X5, X1, X1 \
	VPADDD       X6, X2, X2 \
	VPADDD       X7, X3, X3 \
	VPHADDD      X1, X0, X0 \
	VPHADDD      X3, X2, X2 \
	VPHADDD      X2, X0, X0 \
	VMOVDQU      X0, (DI)

// SPLITX splits the 128 columns of x in Z8 (first 64) and Z9 (last 64)
// into the even columns, in Z6, and the odd ones, in Z7: VPMOVWB keeps the
// low byte of each word. Clobbers Z8, Z9, Z10.
#define SPLITX \
	VPMOVWB      Z8, Y6          \
	VPMOVWB      Z9, Y7          \
	VINSERTI64X4 $1, Y7, Z6, Z6  \
	VPSRLW       $8, Z8, Z8      \
	VPSRLW       $8, Z9, Z9      \
	VPMOVWB      Z8, Y7          \
	VPMOVWB      Z9, Y10         \
	VINSERTI64X4 $1, Y10, Z7, Z7

// func splitInt4X(dst, x []int8)
//
// splitInt4X lays x out for gemv8Int4VNNI: for each block of 128
// columns, the 64 even columns and then the 64 odd ones, zero-padded to
// whole blocks. len(dst) must be at least len(x) rounded up to 128.
TEXT ·splitInt4X(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), BX
	XORQ DX, DX

splitloop:
	MOVQ     BX, R13
	SUBQ     DX, R13 // columns left
	JLE      splitdone
	CMPQ     R13, $128
	JLT      splittail
	VMOVDQU8 (SI)(DX*1), Z8
	VMOVDQU8 64(SI)(DX*1), Z9
	SPLITX
	VMOVDQU8 Z6, (DI)(DX*1)
	VMOVDQU8 Z7, 64(DI)(DX*1)
	ADDQ     $128, DX
	JMP      splitloop

splittail:
	// K1, K2: the columns left in the first and second halves of the block.
	MOVQ       R13, AX
	MOVQ       $64, R12
	CMPQ       AX, R12
	CMOVQGT    R12, AX
	LOWMASK(AX, R12)
	KMOVQ      R12, K1
	MOVQ       R13, AX
	SUBQ       $64, AX
	XORQ       R12, R12
	CMPQ       AX, R12
	CMOVQLT    R12, AX
	LOWMASK(AX, R12)
	KMOVQ      R12, K2
	VMOVDQU8.Z (SI)(DX*1), K1, Z8
	VMOVDQU8.Z 64(SI)(DX*1), K2, Z9
	SPLITX
	VMOVDQU8   Z6, (DI)(DX*1)
	VMOVDQU8   Z7, 64(DI)(DX*1)

splitdone:
	VZEROUPPER
	RET

// func dot4Int8AVX2(x []int8, r0, r1, r2, r3 *int8, out *[4]int32)
//
// len(x) must be a positive multiple of 32; the caller does the rest.
//
// VPMADDUBSW multiplies unsigned by signed bytes and adds adjacent pairs into
// int16 with saturation. The sign trick: feed it |w| as the unsigned operand
// (VPABSB; |-128| = 128 is still right as a uint8) and x·sign(w) as the
// signed one (VPSIGNB), whose product is w·x. A pair is then at most
// 2·128·127 = 32512 in magnitude and cannot saturate. This needs x != -128,
// since VPSIGNB cannot negate it; QuantizeInt8 never produces -128 and the
// wrapper falls back to pure Go when an input does. (Taking |x| and w·sign(x)
// instead, as for weights known to avoid -128, would break on w = -128.)
// VPMADDWD by ones then widens the pairs to int32.
TEXT ·dot4Int8AVX2(SB), NOSPLIT, $0-64
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), BX
	MOVQ r0+24(FP), R8
	MOVQ r1+32(FP), R9
	MOVQ r2+40(FP), R10
	MOVQ r3+48(FP), R11
	MOVQ out+56(FP), DI

	VPXOR        Y0, Y0, Y0
	VPXOR        Y1, Y1, Y1
	VPXOR        Y2, Y2, Y2
	VPXOR        Y3, Y3, Y3
	MOVL         $0x00010001, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	XORQ         DX, DX

i8aloop:
	VMOVDQU    (SI)(DX*1), Y4
	VMOVDQU    (R8)(DX*1), Y5
	VMOVDQU    (R9)(DX*1), Y8
	VPABSB     Y5, Y6
	VPSIGNB    Y5, Y4, Y7
	VPABSB     Y8, Y9
	VPSIGNB    Y8, Y4, Y10
	VPMADDUBSW Y7, Y6, Y6
	VPMADDUBSW Y10, Y9, Y9
	VPMADDWD   Y15, Y6, Y6
	VPMADDWD   Y15, Y9, Y9
	VPADDD     Y6, Y0, Y0
	VPADDD     Y9, Y1, Y1
	VMOVDQU    (R10)(DX*1), Y5
	VMOVDQU    (R11)(DX*1), Y8
	VPABSB     Y5, Y6
	VPSIGNB    Y5, Y4, Y7
	VPABSB     Y8, Y9
	VPSIGNB    Y8, Y4, Y10
	VPMADDUBSW Y7, Y6, Y6
	VPMADDUBSW Y10, Y9, Y9
	VPMADDWD   Y15, Y6, Y6
	VPMADDWD   Y15, Y9, Y9
	VPADDD     Y6, Y2, Y2
	VPADDD     Y9, Y3, Y3
	ADDQ       $32, DX
	CMPQ       DX, BX
	JB         i8aloop

	REDUCE4Y
	VZEROUPPER
	RET

// func dot4Int4AVX2(x []int8, r0, r1, r2, r3 *byte, out *[4]int32)
//
// len(x) must be a positive multiple of 64; the caller does the rest. Rows
// are packed as for gemv8Int4VNNI and out[i] is again Σw·x + 8·Σx. The
// unsigned nibbles (at most 15) go straight into VPMADDUBSW against signed x,
// so no sign trick is needed: a pair is at most 2·15·128 = 3840, and the sum
// of the low- and high-nibble pairs, at most 7680, still fits int16 before
// VPMADDWD widens it. x is split into even and odd columns per 64-column
// block; VPACKUSWB packs within 128-bit lanes, and VPERMQ $0xd8 puts the
// quadwords back in column order.
TEXT ·dot4Int4AVX2(SB), NOSPLIT, $0-64
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), BX
	MOVQ r0+24(FP), R8
	MOVQ r1+32(FP), R9
	MOVQ r2+40(FP), R10
	MOVQ r3+48(FP), R11
	MOVQ out+56(FP), DI

	VPXOR        Y0, Y0, Y0
	VPXOR        Y1, Y1, Y1
	VPXOR        Y2, Y2, Y2
	VPXOR        Y3, Y3, Y3
	MOVL         $0x00010001, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x00ff00ff, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	SHRQ         $1, BX // packed bytes
	XORQ         DX, DX

i4aloop:
	VMOVDQU    (SI)(DX*2), Y4
	VMOVDQU    32(SI)(DX*2), Y5
	VPAND      Y13, Y4, Y6
	VPAND      Y13, Y5, Y7
	VPACKUSWB  Y7, Y6, Y6
	VPERMQ     $0xd8, Y6, Y6 // even columns
	VPSRLW     $8, Y4, Y4
	VPSRLW     $8, Y5, Y5
	VPACKUSWB  Y5, Y4, Y7
	VPERMQ     $0xd8, Y7, Y7 // odd columns

	VMOVDQU    (R8)(DX*1), Y8
	VPSRLW     $4, Y8, Y9
	VPAND      Y14, Y8, Y8
	VPAND      Y14, Y9, Y9
	VPMADDUBSW Y6, Y8, Y8
	VPMADDUBSW Y7, Y9, Y9
	VPADDW     Y9, Y8, Y8
	VPMADDWD   Y15, Y8, Y8
	VPADDD     Y8, Y0, Y0

	VMOVDQU    (R9)(DX*1), Y10
	VPSRLW     $4, Y10, Y11
	VPAND      Y14, Y10, Y10
	VPAND      Y14, Y11, Y11
	VPMADDUBSW Y6, Y10, Y10
	VPMADDUBSW Y7, Y11, Y11
	VPADDW     Y11, Y10, Y10
	VPMADDWD   Y15, Y10, Y10
	VPADDD     Y10, Y1, Y1

	VMOVDQU    (R10)(DX*1), Y8
	VPSRLW     $4, Y8, Y9
	VPAND      Y14, Y8, Y8
	VPAND      Y14, Y9, Y9
	VPMADDUBSW Y6, Y8, Y8
	VPMADDUBSW Y7, Y9, Y9
	VPADDW     Y9, Y8, Y8
	VPMADDWD   Y15, Y8, Y8
	VPADDD     Y8, Y2, Y2

	VMOVDQU    (R11)(DX*1), Y10
	VPSRLW     $4, Y10, Y11
	VPAND      Y14, Y10, Y10
	VPAND      Y14, Y11, Y11
	VPMADDUBSW Y6, Y10, Y10
	VPMADDUBSW Y7, Y11, Y11
	VPADDW     Y11, Y10, Y10
	VPMADDWD   Y15, Y10, Y10
	VPADDD     Y10, Y3, Y3

	ADDQ       $32, DX
	CMPQ       DX, BX
	JB         i4aloop

	REDUCE4Y
	VZEROUPPER
	RET

// The VNNI kernels. gemv8Int8VNNI and gemv8Int4VNNI walk all n
// rows of a call eight at a time and write the outputs themselves, so a
// short row costs little beyond its bytes: per group of eight rows, the
// row addresses take a few LEAs (consecutive rows) or eight index loads, the
// eight accumulators are reduced together by a transposing add tree (24
// instructions for eight rows), and the epilogue
//
//	y[r] = float32(s[r] - bias) * (scales[r] * xscale) + b[r]
//
// runs once on a vector of eight rows, with the same float32 operations in
// the same order as intEpilogue, so results match the pure-Go twin bit for
// bit. For a gather, scales and b are read with VGATHERDPS and y is written
// with VSCATTERDPS; a repeated row index writes the same value twice.
//
// n must be at least eight. When it is not a multiple of eight, the last
// group is moved back to end at row n-1 and stores only the rows the
// previous group did not, so no row is read outside the call's rows and no
// output is written twice (b may alias y).
//
// The row tail past the last whole 64 bytes is read with a masked load
// (mask K1, set once per call). For consecutive rows the kernels prefetch
// the group max(8·stride, 4096) bytes ahead into L2 (PF8): a group's eight
// short rows are eight streams of a few cache lines, too short for the
// hardware prefetchers, and cold single-threaded GEMVs of the little
// module's shapes (1500×834 INT8, 1500×532 and 417×1500 INT4) and the
// 268K×128 INT4 screener ran 1.2-1.5 times faster with it (9.6-10.8
// against 7-10 GB/s; BenchmarkGemvIntCold has these shapes). PREFETCHT1 rather than T0 leaves the L1 fill buffers
// to the loads: on two threads the 268K screener's screen phase took 6%
// less time with it (bench screen, alternating binaries), and farther
// distances did no better. Gathers do not prefetch: prefetching the next
// group of a gather row by row cost more than it saved.
//
// Only Z0-Z15 are used, so VZEROUPPER leaves a clean state.
//
// Arguments (both kernels): x, the input (for INT4 split by splitInt4X);
// q, the matrix; stride, its row length in bytes; idx, the rows to compute
// (nil for rows 0..n-1); n; y, scales, b (nil for no bias) at row 0; xscale;
// and bias, the c·Σx the sign trick adds to every raw sum.

// The macros below read the arguments from frame locals, which each kernel
// fills on entry (the assembler's vet check cannot follow FP names into
// macros): k-8(SP), the position of the current group; q-16(SP); s-24(SP),
// the stride; i-32(SP), idx; n-40(SP); y-48(SP); c-56(SP), scales;
// b-64(SP); f-72(SP), xscale; and z-76(SP), bias.

// G8START sets K1 to the tail mask of a row of s-24(SP) bytes and clears
// the group position k-8(SP).
#define G8START \
	MOVQ  s-24(SP), AX \
	ANDQ  $63, AX           \
	LOWMASK(AX, BX)         \
	KMOVQ BX, K1            \
	MOVQ  $0, k-8(SP)       \
	MOVQ  s-24(SP), AX      \
	SHLQ  $3, AX            \
	MOVQ  $4096, BX         \
	CMPQ  AX, BX            \
	CMOVQLT BX, AX          \
	MOVQ  AX, d-88(SP)

// G8GROUP sets AX to the position of the group to compute and K2 to the
// rows of it to store: all eight, or for a short last group, moved back to
// n-8, only those not stored yet.
#define G8GROUP(full) \
	MOVQ k-8(SP), AX  \
	MOVQ n-40(SP), DX \
	SUBQ AX, DX       \
	MOVL $0xff, BX    \
	CMPQ DX, $8       \
	JGE  full         \
	MOVQ $8, CX       \
	SUBQ DX, CX       \
	SHLL CX, BX       \
	SUBQ CX, AX       \
	MOVQ AX, k-8(SP)  \
full:                 \
	KMOVW BX, K2

// G8ROWS sets R8-R13, DI, CX to the addresses of the eight rows of the
// group at position k-8(SP). Clobbers AX, BX, SI.
#define G8ROWS(gather, done) \
	MOVQ    k-8(SP), AX        \
	MOVQ    s-24(SP), BX  \
	MOVQ    i-32(SP), SI     \
	TESTQ   SI, SI             \
	JNZ     gather             \
	MOVQ    AX, R8             \
	IMULQ   BX, R8             \
	ADDQ    q-16(SP), R8       \
	LEAQ    (R8)(BX*1), R9     \
	LEAQ    (R8)(BX*2), R10    \
	LEAQ    (R9)(BX*2), R11    \
	LEAQ    (R8)(BX*4), R12    \
	LEAQ    (R9)(BX*4), R13    \
	LEAQ    (R10)(BX*4), DI    \
	LEAQ    (R11)(BX*4), CX    \
	MOVQ    d-88(SP), R14      \
	ADDQ    R8, R14            \
	JMP     done               \
gather:                        \
	XORQ    R14, R14           \
	LEAQ    (SI)(AX*4), SI     \
	MOVLQSX (SI), R8           \
	MOVLQSX 4(SI), R9          \
	MOVLQSX 8(SI), R10         \
	MOVLQSX 12(SI), R11        \
	MOVLQSX 16(SI), R12        \
	MOVLQSX 20(SI), R13        \
	MOVLQSX 24(SI), DI         \
	MOVLQSX 28(SI), CX         \
	IMULQ   BX, R8             \
	IMULQ   BX, R9             \
	IMULQ   BX, R10            \
	IMULQ   BX, R11            \
	IMULQ   BX, R12            \
	IMULQ   BX, R13            \
	IMULQ   BX, DI             \
	IMULQ   BX, CX             \
	MOVQ    q-16(SP), SI       \
	ADDQ    SI, R8             \
	ADDQ    SI, R9             \
	ADDQ    SI, R10            \
	ADDQ    SI, R11            \
	ADDQ    SI, R12            \
	ADDQ    SI, R13            \
	ADDQ    SI, DI             \
	ADDQ    SI, CX             \
done:

#define G8ZERO \
	VPXORD Z8, Z8, Z8    \
	VPXORD Z9, Z9, Z9    \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

// REDUCE8 sums each of the accumulators Z8..Z15 (rows 0..7) across its
// lanes and leaves the eight sums, in row order, in Y8. Each level halves
// the number of vectors by interleaving two of them and adding: dwords,
// then quadwords, then 128-bit lanes. Clobbers Z0-Z7.
#define REDUCE8 \
	VPUNPCKLDQ  Z9, Z8, Z0       \
	VPUNPCKHDQ  Z9, Z8, Z1       \
	VPADDD      Z1, Z0, Z0       \
	VPUNPCKLDQ  Z11, Z10, Z1     \
	VPUNPCKHDQ  Z11, Z10, Z2     \
	VPADDD      Z2, Z1, Z1       \
	VPUNPCKLDQ  Z13, Z12, Z2     \
	VPUNPCKHDQ  Z13, Z12, Z3     \
	VPADDD      Z3, Z2, Z2       \
	VPUNPCKLDQ  Z15, Z14, Z3     \
	VPUNPCKHDQ  Z15, Z14, Z4     \
	VPADDD      Z4, Z3, Z3       \
	VPUNPCKLQDQ Z1, Z0, Z4       \
	VPUNPCKHQDQ Z1, Z0, Z5       \
	VPADDD      Z5, Z4, Z4       \
	VPUNPCKLQDQ Z3, Z2, Z5       \
	VPUNPCKHQDQ Z3, Z2, Z6       \
	VPADDD      Z6, Z5, Z5       \
	VSHUFI32X4  $0x88, Z5, Z4, Z6 \
	VSHUFI32X4  $0xdd, Z5, Z4, Z7 \
	VPADDD      Z7, Z6, Z6       \
	VSHUFI32X4  $0x88, Z6, Z6, Z7 \
	VSHUFI32X4  $0xdd, Z6, Z6, Z6 \
	VPADDD      Y7, Y6, Y8

// G8STORE reduces the accumulators, writes the outputs of the group at
// k-8(SP) under mask K2, advances k by eight and loops to group while
// k < n. Clobbers Z0-Z7, K3.
#define G8STORE(gather, nob, gnob, next, group) \
	REDUCE8                             \
	VPBROADCASTD z-76(SP), Y0        \
	VPSUBD       Y0, Y8, Y8             \
	VCVTDQ2PS    Y8, Y8                 \
	VBROADCASTSS f-72(SP), Y3      \
	MOVQ         k-8(SP), AX            \
	MOVQ         i-32(SP), SI         \
	TESTQ        SI, SI                 \
	JNZ          gather                 \
	MOVQ         c-56(SP), DX      \
	VMULPS       (DX)(AX*4), Y3, Y3     \
	VMULPS       Y3, Y8, Y8             \
	MOVQ         b-64(SP), DX           \
	TESTQ        DX, DX                 \
	JZ           nob                    \
	VADDPS       (DX)(AX*4), Y8, Y8     \
nob:                                    \
	MOVQ         y-48(SP), DX           \
	VMOVUPS      Y8, K2, (DX)(AX*4)     \
	JMP          next                   \
gather:                                 \
	VMOVDQU      (SI)(AX*4), Y4         \
	MOVL         $0xff, CX              \
	KMOVW        CX, K3                 \
	MOVQ         c-56(SP), DX      \
	VGATHERDPS   (DX)(Y4*4), K3, Y5     \
	VMULPS       Y3, Y5, Y3             \
	VMULPS       Y3, Y8, Y8             \
	MOVQ         b-64(SP), DX           \
	TESTQ        DX, DX                 \
	JZ           gnob                   \
	KMOVW        CX, K3                 \
	VGATHERDPS   (DX)(Y4*4), K3, Y6     \
	VADDPS       Y6, Y8, Y8             \
gnob:                                   \
	MOVQ         y-48(SP), DX           \
	VSCATTERDPS  Y8, K2, (DX)(Y4*4)     \
next:                                   \
	ADDQ         $8, AX                 \
	MOVQ         AX, k-8(SP)            \
	CMPQ         AX, n-40(SP)           \
	JLT          group

// PF8 prefetches into L2, for contiguous rows (R14 != 0), the 512 bytes at
// R14+8·DX: over the ⌈stride/64⌉ steps of a group, the group d-88(SP)
// bytes ahead.
#define PF8(skip) \
	TESTQ      R14, R14          \
	JZ         skip              \
	PREFETCHT1 (R14)(DX*8)       \
	PREFETCHT1 64(R14)(DX*8)     \
	PREFETCHT1 128(R14)(DX*8)    \
	PREFETCHT1 192(R14)(DX*8)    \
	PREFETCHT1 256(R14)(DX*8)    \
	PREFETCHT1 320(R14)(DX*8)    \
	PREFETCHT1 384(R14)(DX*8)    \
	PREFETCHT1 448(R14)(DX*8)    \
skip:

// I8ROW8 adds 64 columns at DX of the row at r to accumulator acc, x in Z0,
// 0x80 bytes in Z1.
#define I8ROW8(r, t, acc) \
	VPXORD   (r)(DX*1), Z1, t \
	VPDPBUSD Z0, t, acc

// I8TAIL8 is I8ROW8 for the masked tail.
#define I8TAIL8(r, t, acc) \
	VMOVDQU8.Z (r)(DX*1), K1, t \
	VPXORD     t, Z1, t         \
	VPDPBUSD   Z0, t, acc

// func gemv8Int8VNNI(x []int8, q *int8, stride int, idx *int32, n int, y, scales, b *float32, xscale float32, bias int32)
//
// stride is len(x) and bias must be 128·Σx. VPDPBUSD multiplies unsigned
// bytes by signed bytes, and both our operands are signed. The sign trick:
// XOR each weight byte with 0x80, which turns the int8 w into the uint8
// w+128, and multiply that by the signed x. Each sum is then
// Σ(w+128)·x = Σw·x + 128·Σx, less the bias 128·Σx the caller computes once
// per call. VPDPBUSD does not saturate, so any int8 input is exact. The
// masked tail loads zero x past len(x), and a zero x contributes nothing
// whatever the weight.
TEXT ·gemv8Int8VNNI(SB), NOSPLIT, $96-88
	MOVQ q+24(FP), AX
	MOVQ AX, q-16(SP)
	MOVQ stride+32(FP), AX
	MOVQ AX, s-24(SP)
	MOVQ idx+40(FP), AX
	MOVQ AX, i-32(SP)
	MOVQ n+48(FP), AX
	MOVQ AX, n-40(SP)
	MOVQ y+56(FP), AX
	MOVQ AX, y-48(SP)
	MOVQ scales+64(FP), AX
	MOVQ AX, c-56(SP)
	MOVQ b+72(FP), AX
	MOVQ AX, b-64(SP)
	MOVL xscale+80(FP), AX
	MOVL AX, f-72(SP)
	MOVL bias+84(FP), AX
	MOVL AX, z-76(SP)
	G8START
	MOVL         $0x80808080, AX
	VPBROADCASTD AX, Z1

i8g8group:
	G8GROUP(i8g8full)
	G8ROWS(i8g8gather, i8g8rows)
	G8ZERO
	MOVQ x_base+0(FP), SI
	MOVQ s-24(SP), BX
	ANDQ $-64, BX
	XORQ DX, DX

i8g8loop:
	CMPQ     DX, BX
	JAE      i8g8tail
	VMOVDQU8 (SI)(DX*1), Z0
	I8ROW8(R8, Z2, Z8)
	I8ROW8(R9, Z3, Z9)
	I8ROW8(R10, Z4, Z10)
	I8ROW8(R11, Z5, Z11)
	I8ROW8(R12, Z2, Z12)
	I8ROW8(R13, Z3, Z13)
	I8ROW8(DI, Z4, Z14)
	I8ROW8(CX, Z5, Z15)
	PF8(i8g8pf)
	ADDQ     $64, DX
	JMP      i8g8loop

i8g8tail:
	KORTESTQ   K1, K1
	JZ         i8g8reduce
	VMOVDQU8.Z (SI)(DX*1), K1, Z0
	I8TAIL8(R8, Z2, Z8)
	I8TAIL8(R9, Z3, Z9)
	I8TAIL8(R10, Z4, Z10)
	I8TAIL8(R11, Z5, Z11)
	I8TAIL8(R12, Z2, Z12)
	I8TAIL8(R13, Z3, Z13)
	I8TAIL8(DI, Z4, Z14)
	I8TAIL8(CX, Z5, Z15)
	PF8(i8g8pft)

i8g8reduce:
	G8STORE(i8g8sg, i8g8nob, i8g8gnob, i8g8next, i8g8again)
	VZEROUPPER
	RET

i8g8again:
	// Z1 was clobbered by REDUCE8.
	MOVL         $0x80808080, AX
	VPBROADCASTD AX, Z1
	JMP          i8g8group

// I4ROW8 adds 64 packed bytes (128 columns) at DX of the row at r to acc:
// the low nibbles (masked with 0x0f in Z2) against the even columns in Z0,
// the high nibbles, shifted down, against the odd ones in Z1.
#define I4ROW8(r, t, u, acc) \
	VPANDD   (r)(DX*1), Z2, t \
	VPSRLW   $4, (r)(DX*1), u \
	VPANDD   u, Z2, u         \
	VPDPBUSD Z0, t, acc       \
	VPDPBUSD Z1, u, acc

#define I4TAIL8(r, t, u, acc) \
	VMOVDQU8.Z (r)(DX*1), K1, t \
	VPSRLW     $4, t, u         \
	VPANDD     t, Z2, t         \
	VPANDD     u, Z2, u         \
	VPDPBUSD   Z0, t, acc       \
	VPDPBUSD   Z1, u, acc

// func gemv8Int4VNNI(xs []int8, q *byte, stride int, idx *int32, n int, y, scales, b *float32, xscale float32, bias int32)
//
// xs is the input split by splitInt4X, stride is (cols+1)/2 and bias must
// be 8·Σx. Byte t of a row carries column 2t in its low nibble and column
// 2t+1 in its high nibble, both stored as w+8, which is already the unsigned
// operand VPDPBUSD wants: each sum is Σ(w+8)·x = Σw·x + 8·Σx. Rather than
// re-interleave the nibbles of every row, x is split once per call into
// even and odd columns, and the low nibbles meet the even columns, the high
// nibbles (shifted down) the odd ones. xs is zero-padded, so the padding
// high nibble of an odd last column, and the masked-off bytes of a row's
// tail, meet a zero x. Shifting the high nibbles down, rather than giving
// them their own accumulators, keeps one accumulator a row, which is what
// lets eight rows share a step.
TEXT ·gemv8Int4VNNI(SB), NOSPLIT, $96-88
	MOVQ q+24(FP), AX
	MOVQ AX, q-16(SP)
	MOVQ stride+32(FP), AX
	MOVQ AX, s-24(SP)
	MOVQ idx+40(FP), AX
	MOVQ AX, i-32(SP)
	MOVQ n+48(FP), AX
	MOVQ AX, n-40(SP)
	MOVQ y+56(FP), AX
	MOVQ AX, y-48(SP)
	MOVQ scales+64(FP), AX
	MOVQ AX, c-56(SP)
	MOVQ b+72(FP), AX
	MOVQ AX, b-64(SP)
	MOVL xscale+80(FP), AX
	MOVL AX, f-72(SP)
	MOVL bias+84(FP), AX
	MOVL AX, z-76(SP)
	G8START

i4g8group:
	G8GROUP(i4g8full)
	G8ROWS(i4g8gather, i4g8rows)
	G8ZERO
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z2
	MOVQ xs_base+0(FP), SI
	MOVQ s-24(SP), BX
	ANDQ $-64, BX
	XORQ DX, DX

i4g8loop:
	CMPQ     DX, BX
	JAE      i4g8tail
	VMOVDQU8 (SI)(DX*2), Z0
	VMOVDQU8 64(SI)(DX*2), Z1
	I4ROW8(R8, Z3, Z4, Z8)
	I4ROW8(R9, Z5, Z6, Z9)
	I4ROW8(R10, Z3, Z4, Z10)
	I4ROW8(R11, Z5, Z6, Z11)
	I4ROW8(R12, Z3, Z4, Z12)
	I4ROW8(R13, Z5, Z6, Z13)
	I4ROW8(DI, Z3, Z4, Z14)
	I4ROW8(CX, Z5, Z6, Z15)
	PF8(i4g8pf)
	ADDQ     $64, DX
	JMP      i4g8loop

i4g8tail:
	KORTESTQ K1, K1
	JZ       i4g8reduce
	// xs is zero-padded to whole blocks, so x needs no mask.
	VMOVDQU8 (SI)(DX*2), Z0
	VMOVDQU8 64(SI)(DX*2), Z1
	I4TAIL8(R8, Z3, Z4, Z8)
	I4TAIL8(R9, Z5, Z6, Z9)
	I4TAIL8(R10, Z3, Z4, Z10)
	I4TAIL8(R11, Z5, Z6, Z11)
	I4TAIL8(R12, Z3, Z4, Z12)
	I4TAIL8(R13, Z5, Z6, Z13)
	I4TAIL8(DI, Z3, Z4, Z14)
	I4TAIL8(CX, Z5, Z6, Z15)
	PF8(i4g8pft)

i4g8reduce:
	G8STORE(i4g8sg, i4g8nob, i4g8gnob, i4g8next, i4g8group)
	VZEROUPPER
	RET
