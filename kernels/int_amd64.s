//go:build amd64 && !purego

#include "textflag.h"

// Integer dot-product kernels for GemvInt8 and GemvInt4. They take the rows
// four at a time, so every load of x is shared by four rows, and store raw
// int32 sums: the VNNI kernels for a whole list of rows, the AVX2 kernels for
// the four rows of one call. The Go wrappers in int_amd64.go remove the bias
// the sign tricks below add, scale, and handle the columns the AVX2 kernels
// leave over.
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

// REDUCE4Z sums each of the four int32 vectors Z0..Z3 across its lanes and
// stores the four sums at (DI). Clobbers Z4..Z7.
#define REDUCE4Z \
	VEXTRACTI64X4 $1, Z0, Y4 \
	VEXTRACTI64X4 $1, Z1, Y5 \
	VEXTRACTI64X4 $1, Z2, Y6 \
	VEXTRACTI64X4 $1, Z3, Y7 \
	VPADDD        Y4, Y0, Y0 \
	VPADDD        Y5, Y1, Y1 \
	VPADDD        Y6, Y2, Y2 \
	VPADDD        Y7, Y3, Y3 \
	REDUCE4Y

// REDUCE4Y does the same for the int32 vectors Y0..Y3. Clobbers Y4..Y7.
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

// The VNNI kernels walk all the rows of a call themselves, four at a time,
// so the per-group work (finding rows, zeroing and reducing accumulators) is
// a few dozen instructions with no call in between. The k-th row is k, or
// idx[k] when idx is not nil; a final group of fewer than four repeats row
// n-1, and out must have room for n rounded up to a multiple of four.
//
// While reading a group the kernels prefetch the next one, into L2, at the
// offset they are reading in the current rows (held in R12, R13, DI, CX), so
// it is in cache, one group ahead, when needed. Rows of a few hundred bytes
// give the hardware prefetchers little to ramp up on, and without this the
// INT4 loop ran at about half its present speed from memory. Unlike
// prefetching further along the current rows, this never fetches bytes
// outside the rows a call reads, so a sparse gather wastes no bandwidth; for
// consecutive rows it is one linear stream. (On the target, T1 measured at
// least as fast as T0, NTA much slower, and two groups ahead no better than
// one.)

// ROWNUM sets dst to the position AX+j clamped to the last, BX = n-1.
#define ROWNUM(j, dst) \
	LEAQ    j(AX), dst \
	CMPQ    dst, BX    \
	CMOVQGT BX, dst

// SETROWS loads R8..R11 with the addresses of the rows of the group at
// position k and R12, R13, DI, CX with those of the next group. It reads the
// frame locals every VNNI kernel sets up: k-8(SP), the position; q-16(SP),
// the matrix; s-24(SP), its row stride in bytes; i-32(SP), idx; and
// n-40(SP), the number of rows. Clobbers AX, BX, SI.
#define SETROWS(done) \
	MOVQ    k-8(SP), AX   \
	MOVQ    n-40(SP), BX  \
	DECQ    BX            \
	ROWNUM(0, R8)         \
	ROWNUM(1, R9)         \
	ROWNUM(2, R10)        \
	ROWNUM(3, R11)        \
	ROWNUM(4, R12)        \
	ROWNUM(5, R13)        \
	ROWNUM(6, DI)         \
	ROWNUM(7, CX)         \
	MOVQ    i-32(SP), SI  \
	TESTQ   SI, SI        \
	JZ      done          \
	MOVLQSX (SI)(R8*4), R8   \
	MOVLQSX (SI)(R9*4), R9   \
	MOVLQSX (SI)(R10*4), R10 \
	MOVLQSX (SI)(R11*4), R11 \
	MOVLQSX (SI)(R12*4), R12 \
	MOVLQSX (SI)(R13*4), R13 \
	MOVLQSX (SI)(DI*4), DI   \
	MOVLQSX (SI)(CX*4), CX   \
done:                    \
	IMULQ   s-24(SP), R8   \
	IMULQ   s-24(SP), R9   \
	IMULQ   s-24(SP), R10  \
	IMULQ   s-24(SP), R11  \
	IMULQ   s-24(SP), R12  \
	IMULQ   s-24(SP), R13  \
	IMULQ   s-24(SP), DI   \
	IMULQ   s-24(SP), CX   \
	MOVQ    q-16(SP), SI   \
	ADDQ    SI, R8         \
	ADDQ    SI, R9         \
	ADDQ    SI, R10        \
	ADDQ    SI, R11        \
	ADDQ    SI, R12        \
	ADDQ    SI, R13        \
	ADDQ    SI, DI         \
	ADDQ    SI, CX

// ZEROACC clears the eight accumulators.
#define ZEROACC \
	VPXORD Z0, Z0, Z0    \
	VPXORD Z1, Z1, Z1    \
	VPXORD Z2, Z2, Z2    \
	VPXORD Z3, Z3, Z3    \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

// NEXTGROUP stores the group's four sums at out[k] (out in o-48(SP)),
// advances k by four and loops to label while k < n.
#define NEXTGROUP(label) \
	MOVQ o-48(SP), DI       \
	MOVQ k-8(SP), AX        \
	LEAQ (DI)(AX*4), DI     \
	REDUCE4Z                \
	ADDQ $4, AX             \
	MOVQ AX, k-8(SP)        \
	CMPQ AX, n-40(SP)       \
	JLT  label

// PREFETCHNEXT prefetches the line at offset off+DX of each next row.
#define PREFETCHNEXT(off) \
	PREFETCHT1 off(R12)(DX*1) \
	PREFETCHT1 off(R13)(DX*1) \
	PREFETCHT1 off(DI)(DX*1)  \
	PREFETCHT1 off(CX)(DX*1)

// func gemvRowsInt8VNNI(x []int8, q *int8, idx *int32, n int, out *int32)
//
// gemvRowsInt8VNNI stores in out[k] the raw sum for the k-th of n rows of
// len(x) bytes starting at q (see SETROWS). VPDPBUSD multiplies unsigned
// bytes by signed bytes, and both our operands are signed. The sign trick:
// XOR each weight byte with 0x80, which turns the int8 w into the uint8
// w+128, and multiply that by the signed x. Each sum is then
// Σ(w+128)·x = Σw·x + 128·Σx; the caller subtracts 128·Σx, computed once per
// call. VPDPBUSD does not saturate, so any int8 input is exact. The tail is
// handled with masked loads that zero the lanes past len(x): a zero x
// contributes nothing whatever the weight.

// I8STEP processes 128 columns of the four rows at DX, in two 64-byte
// halves with separate accumulators so that the VPDPBUSD latency chains of
// one row overlap.
#define I8STEP \
	VMOVDQU8 (SI)(DX*1), Z4         \
	VMOVDQU8 64(SI)(DX*1), Z5       \
	VPXORD   (R8)(DX*1), Z10, Z6    \
	VPXORD   64(R8)(DX*1), Z10, Z7  \
	VPXORD   (R9)(DX*1), Z10, Z8    \
	VPXORD   64(R9)(DX*1), Z10, Z9  \
	VPDPBUSD Z4, Z6, Z0             \
	VPDPBUSD Z5, Z7, Z12            \
	VPDPBUSD Z4, Z8, Z1             \
	VPDPBUSD Z5, Z9, Z13            \
	VPXORD   (R10)(DX*1), Z10, Z6   \
	VPXORD   64(R10)(DX*1), Z10, Z7 \
	VPXORD   (R11)(DX*1), Z10, Z8   \
	VPXORD   64(R11)(DX*1), Z10, Z9 \
	VPDPBUSD Z4, Z6, Z2             \
	VPDPBUSD Z5, Z7, Z14            \
	VPDPBUSD Z4, Z8, Z3             \
	VPDPBUSD Z5, Z9, Z15

TEXT ·gemvRowsInt8VNNI(SB), NOSPLIT, $48-56
	MOVQ         $0, k-8(SP)
	MOVQ         q+24(FP), AX
	MOVQ         AX, q-16(SP)
	MOVQ         x_len+8(FP), AX
	MOVQ         AX, s-24(SP)
	MOVQ         idx+32(FP), AX
	MOVQ         AX, i-32(SP)
	MOVQ         n+40(FP), AX
	MOVQ         AX, n-40(SP)
	MOVQ         out+48(FP), AX
	MOVQ         AX, o-48(SP)
	MOVL         $0x80808080, AX
	VPBROADCASTD AX, Z10

i8vgroup:
	SETROWS(i8vrows)
	ZEROACC
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), BX
	XORQ DX, DX
	MOVQ BX, AX
	ANDQ $-128, AX // bytes in whole 128-byte steps

i8vloop:
	CMPQ DX, AX
	JAE  i8v64
	PREFETCHNEXT(0)
	PREFETCHNEXT(64)
	I8STEP
	ADDQ $128, DX
	JMP  i8vloop

i8v64:
	MOVQ     BX, AX
	ANDQ     $-64, AX
	CMPQ     DX, AX
	JAE      i8vtail
	PREFETCHNEXT(0)
	VMOVDQU8 (SI)(DX*1), Z4
	VPXORD   (R8)(DX*1), Z10, Z6
	VPXORD   (R9)(DX*1), Z10, Z7
	VPXORD   (R10)(DX*1), Z10, Z8
	VPXORD   (R11)(DX*1), Z10, Z9
	VPDPBUSD Z4, Z6, Z0
	VPDPBUSD Z4, Z7, Z1
	VPDPBUSD Z4, Z8, Z2
	VPDPBUSD Z4, Z9, Z3
	ADDQ     $64, DX

i8vtail:
	MOVQ BX, AX
	SUBQ DX, AX // 0 <= AX < 64 bytes left
	JZ   i8vreduce
	PREFETCHNEXT(0)
	LOWMASK(AX, R12)
	KMOVQ      R12, K1
	VMOVDQU8.Z (SI)(DX*1), K1, Z4
	VMOVDQU8.Z (R8)(DX*1), K1, Z6
	VMOVDQU8.Z (R9)(DX*1), K1, Z7
	VMOVDQU8.Z (R10)(DX*1), K1, Z8
	VMOVDQU8.Z (R11)(DX*1), K1, Z9
	VPXORD     Z6, Z10, Z6
	VPXORD     Z7, Z10, Z7
	VPXORD     Z8, Z10, Z8
	VPXORD     Z9, Z10, Z9
	VPDPBUSD   Z4, Z6, Z0
	VPDPBUSD   Z4, Z7, Z1
	VPDPBUSD   Z4, Z8, Z2
	VPDPBUSD   Z4, Z9, Z3

i8vreduce:
	VPADDD Z12, Z0, Z0
	VPADDD Z13, Z1, Z1
	VPADDD Z14, Z2, Z2
	VPADDD Z15, Z3, Z3
	NEXTGROUP(i8vgroup)
	VZEROUPPER
	RET

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
// splitInt4X lays x out for gemvRowsInt4VNNI: for each block of 128
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

// func gemvRowsInt4VNNI(xs []int8, q *byte, rowBytes int, idx *int32, n int, out *int32)
//
// gemvRowsInt4VNNI is gemvRowsInt8VNNI for INT4 rows of rowBytes =
// (cols+1)/2 bytes, with x split by splitInt4X into xs. Byte t of a row
// carries column 2t in its low nibble and column 2t+1 in its high nibble,
// both stored as w+8. The nibbles are therefore already the unsigned operand
// VPDPBUSD wants: each sum is Σ(w+8)·x = Σw·x + 8·Σx, and the caller
// subtracts 8·Σx. Rather than re-interleave the nibbles of every row, x is
// split once per call into even and odd columns, and the low nibbles meet
// the even columns, the high nibbles the odd ones. xs is zero-padded, so the
// padding high nibble of an odd last column, and the masked-off bytes of the
// last block, meet a zero x. The high nibbles are not shifted down: masked
// with 0xf0 they are 16 times the nibble, go to their own accumulators, and
// those are divided by 16 (VPSRAD $4, exact on these multiples of 16) at the
// end; with cols <= MaxIntCols they stay below 2^30 in magnitude.

// I4STEP processes 64 packed bytes (128 columns) of the four rows at DX.
#define I4STEP \
	VMOVDQU8 (SI)(DX*2), Z6          \
	VMOVDQU8 64(SI)(DX*2), Z7        \
	VPANDD   (R8)(DX*1), Z5, Z8      \
	VPANDD   (R8)(DX*1), Z4, Z10     \
	VPANDD   (R9)(DX*1), Z5, Z9      \
	VPANDD   (R9)(DX*1), Z4, Z11     \
	VPDPBUSD Z6, Z8, Z0              \
	VPDPBUSD Z7, Z10, Z12            \
	VPDPBUSD Z6, Z9, Z1              \
	VPDPBUSD Z7, Z11, Z13            \
	VPANDD   (R10)(DX*1), Z5, Z8     \
	VPANDD   (R10)(DX*1), Z4, Z10    \
	VPANDD   (R11)(DX*1), Z5, Z9     \
	VPANDD   (R11)(DX*1), Z4, Z11    \
	VPDPBUSD Z6, Z8, Z2              \
	VPDPBUSD Z7, Z10, Z14            \
	VPDPBUSD Z6, Z9, Z3              \
	VPDPBUSD Z7, Z11, Z15

TEXT ·gemvRowsInt4VNNI(SB), NOSPLIT, $48-64
	MOVQ         $0, k-8(SP)
	MOVQ         q+24(FP), AX
	MOVQ         AX, q-16(SP)
	MOVQ         rowBytes+32(FP), AX
	MOVQ         AX, s-24(SP)
	MOVQ         idx+40(FP), AX
	MOVQ         AX, i-32(SP)
	MOVQ         n+48(FP), AX
	MOVQ         AX, n-40(SP)
	MOVQ         out+56(FP), AX
	MOVQ         AX, o-48(SP)

i4vgroup:
	SETROWS(i4vrows)
	ZEROACC
	// The masks, in registers REDUCE4Z clobbers.
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z5
	MOVL         $0xf0f0f0f0, AX
	VPBROADCASTD AX, Z4
	MOVQ xs_base+0(FP), SI
	MOVQ rowBytes+32(FP), BX
	XORQ DX, DX // packed byte offset; the xs offset is 2*DX
	MOVQ BX, AX
	ANDQ $-64, AX // bytes in whole 64-byte steps

i4vloop:
	CMPQ DX, AX
	JAE  i4vtail
	PREFETCHNEXT(0)
	I4STEP
	ADDQ $64, DX
	JMP  i4vloop

i4vtail:
	MOVQ BX, AX
	SUBQ DX, AX // 0 <= AX < 64 packed bytes left
	JZ   i4vreduce
	PREFETCHNEXT(0)
	LOWMASK(AX, R12)
	KMOVQ      R12, K3
	VMOVDQU8   (SI)(DX*2), Z6
	VMOVDQU8   64(SI)(DX*2), Z7
	VMOVDQU8.Z (R8)(DX*1), K3, Z8
	VMOVDQU8.Z (R9)(DX*1), K3, Z9
	VPANDD     Z4, Z8, Z10
	VPANDD     Z4, Z9, Z11
	VPANDD     Z5, Z8, Z8
	VPANDD     Z5, Z9, Z9
	VPDPBUSD   Z6, Z8, Z0
	VPDPBUSD   Z7, Z10, Z12
	VPDPBUSD   Z6, Z9, Z1
	VPDPBUSD   Z7, Z11, Z13
	VMOVDQU8.Z (R10)(DX*1), K3, Z8
	VMOVDQU8.Z (R11)(DX*1), K3, Z9
	VPANDD     Z4, Z8, Z10
	VPANDD     Z4, Z9, Z11
	VPANDD     Z5, Z8, Z8
	VPANDD     Z5, Z9, Z9
	VPDPBUSD   Z6, Z8, Z2
	VPDPBUSD   Z7, Z10, Z14
	VPDPBUSD   Z6, Z9, Z3
	VPDPBUSD   Z7, Z11, Z15

i4vreduce:
	VPSRAD $4, Z12, Z12
	VPSRAD $4, Z13, Z13
	VPSRAD $4, Z14, Z14
	VPSRAD $4, Z15, Z15
	VPADDD Z12, Z0, Z0
	VPADDD Z13, Z1, Z1
	VPADDD Z14, Z2, Z2
	VPADDD Z15, Z3, Z3
	NEXTGROUP(i4vgroup)
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
// are packed as for gemvRowsInt4VNNI and out[i] is again Σw·x + 8·Σx. The
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
