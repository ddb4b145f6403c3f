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

// The AVX2 kernels. gemv4Int8AVX2 and gemv4Int4AVX2 walk all n rows of a
// call four at a time and write the outputs themselves, as the VNNI
// kernels below do eight at a time: per group, the four row addresses
// (consecutive rows, or four index loads), the full 32-byte steps, one
// tail step, a reduction of the four accumulators, and the epilogue
//
//	y[r] = float32(s[r] - bias) * (scales[r] * xscale) + b[r]
//
// on a vector of four rows, with intEpilogue's float32 operations in its
// order, so results match the pure-Go twin bit for bit.
//
// The tail: AVX2 has no byte-masked load, so the last step reads the 32
// bytes that end a row (overlapping the last full step) against a tail
// input xt that the Go wrapper zeroes where the columns were already
// counted or lie past the last one. No byte outside a row is read, which
// needs rows of at least 32 bytes; the wrappers run shorter rows in Go.
// xt is nil when the full steps cover the row.
//
// n must be at least four. When it is not a multiple of four, the last
// group is moved back to end at row n-1 and stores only the rows the
// previous group did not, so no output is written twice (b may alias y).
//
// For consecutive rows each step prefetches into L2 the same offset of
// the rows max(8·stride, 4096) bytes ahead (PF4, two groups ahead), as the
// VNNI kernels do: a group of short rows is four streams of a few cache
// lines each. Two groups ahead did better than one at 33278×1500 (INT8
// 3.71–3.83× against 3.31–3.60× dense, `bench gemv` with AVX2, alternating
// binaries).
//
// Registers: AX the group's first row, CX the leading rows of the group
// not to store, R8-R11 the rows, R12 the stride, R13 the bytes covered by
// full steps, R14 the prefetch base (0 for a gather), SI the input, DX the
// step's offset, Y0-Y3 the accumulators. Only Y0-Y15 are used and no
// legacy-SSE instruction appears: a single SSE MOVD at the entry of an
// AVX2 kernel once made it about ten times slower on the target machine
// (SSE/AVX state transitions), so constants are moved with VMOVD.

// REDUCE4 sums each of the four int32 vectors Y0..Y3 across its lanes and
// leaves the four sums in X0. Clobbers Y4..Y7.
#define REDUCE4 \
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
	VPHADDD      X2, X0, X0

// G4GROUP starts the group at AX, for n rows held in BX: it jumps to done
// when no rows are left, and moves a short last group back, setting CX to
// the rows not to store.
#define G4GROUP(full, done) \
	CMPQ AX, BX      \
	JGE  done        \
	XORQ CX, CX      \
	MOVQ BX, DI      \
	SUBQ AX, DI      \
	CMPQ DI, $4      \
	JGE  full        \
	MOVQ $4, CX      \
	SUBQ DI, CX      \
	SUBQ CX, AX      \
full:

// G4ROWS sets R8-R11 to the row numbers of the group at AX: AX..AX+3, or
// the four indices at BX+4·AX when BX (idx) is not nil.
#define G4ROWS(gather, done) \
	TESTQ   BX, BX           \
	JNZ     gather           \
	MOVQ    AX, R8           \
	LEAQ    1(AX), R9        \
	LEAQ    2(AX), R10       \
	LEAQ    3(AX), R11       \
	JMP     done             \
gather:                      \
	MOVLQSX (BX)(AX*4), R8   \
	MOVLQSX 4(BX)(AX*4), R9  \
	MOVLQSX 8(BX)(AX*4), R10 \
	MOVLQSX 12(BX)(AX*4), R11 \
done:

// G4ADDR turns the row numbers in R8-R11 into row addresses in the matrix
// at BX, and sets R14 to the prefetch base for consecutive rows (DI = 0
// for a gather) or 0.
#define G4ADDR(noprefetch) \
	IMULQ R12, R8          \
	IMULQ R12, R9          \
	IMULQ R12, R10         \
	IMULQ R12, R11         \
	ADDQ  BX, R8           \
	ADDQ  BX, R9           \
	ADDQ  BX, R10          \
	ADDQ  BX, R11          \
	XORQ  R14, R14         \
	TESTQ DI, DI           \
	JNZ   noprefetch       \
	MOVQ  R12, R14         \
	SHLQ  $3, R14          \
	MOVQ  $4096, DI        \
	CMPQ  R14, DI          \
	CMOVQLT DI, R14        \
	ADDQ  R8, R14          \
noprefetch:

// PF4 prefetches into L2, for consecutive rows (R14 != 0), the 128 bytes
// at R14+4·DX: over the full steps and the tail step of a group (DX =
// stride-32), the four rows R14-R8 bytes ahead. The tail step must
// prefetch too: without it the last 4·(stride mod 32) bytes of every group
// were never prefetched, and the INT4 little-module shape (6000×417, 209-
// byte rows) ran at half the speed it had with no prefetch at all.
#define PF4(skip) \
	TESTQ      R14, R14      \
	JZ         skip          \
	PREFETCHT1 (R14)(DX*4)   \
	PREFETCHT1 64(R14)(DX*4) \
skip:

// G4EPILOGUE turns the int32 sums in X0 into the outputs of rows R8-R11 and
// stores those not among the first CX. The row numbers are reloaded by the
// caller. BX holds scales, DX b (or 0), DI y, X3 xscale broadcast, X13 the
// bias broadcast. Clobbers X1.
#define G4EPILOGUE(nob, s1, s2, s3) \
	VPSUBD     X13, X0, X0                 \
	VCVTDQ2PS  X0, X0                      \
	VMOVSS     (BX)(R8*4), X1              \
	VINSERTPS  $0x10, (BX)(R9*4), X1, X1   \
	VINSERTPS  $0x20, (BX)(R10*4), X1, X1  \
	VINSERTPS  $0x30, (BX)(R11*4), X1, X1  \
	VMULPS     X3, X1, X1                  \
	VMULPS     X1, X0, X0                  \
	TESTQ      DX, DX                      \
	JZ         nob                         \
	VMOVSS     (DX)(R8*4), X1              \
	VINSERTPS  $0x10, (DX)(R9*4), X1, X1   \
	VINSERTPS  $0x20, (DX)(R10*4), X1, X1  \
	VINSERTPS  $0x30, (DX)(R11*4), X1, X1  \
	VADDPS     X1, X0, X0                  \
nob:                                       \
	CMPQ       CX, $0                      \
	JG         s1                          \
	VMOVSS     X0, (DI)(R8*4)              \
s1:                                        \
	CMPQ       CX, $1                      \
	JG         s2                          \
	VEXTRACTPS $1, X0, (DI)(R9*4)          \
s2:                                        \
	CMPQ       CX, $2                      \
	JG         s3                          \
	VEXTRACTPS $2, X0, (DI)(R10*4)         \
s3:                                        \
	VEXTRACTPS $3, X0, (DI)(R11*4)

// G4BEGIN starts the group at AX (see G4GROUP): it sets R8-R11 to its
// row addresses and R14 to the prefetch base, clears the accumulators
// Y0-Y3, and sets SI to the input and DX to 0. The arguments are read
// through the pointer to them in the frame local a-8(SP), which each AVX2
// kernel sets on entry (vet cannot follow FP names into macros); both
// kernels share the argument layout: x+0, q+16, idx+32, n+40, y+48,
// scales+56, b+64, xscale+72.
#define G4BEGIN(full, done, gather, rows, nopf) \
	MOVQ  a-8(SP), SI       \
	MOVQ  40(SI), BX        \
	G4GROUP(full, done)     \
	MOVQ  32(SI), BX        \
	MOVQ  BX, DI            \
	G4ROWS(gather, rows)    \
	MOVQ  16(SI), BX        \
	G4ADDR(nopf)            \
	VPXOR Y0, Y0, Y0        \
	VPXOR Y1, Y1, Y1        \
	VPXOR Y2, Y2, Y2        \
	VPXOR Y3, Y3, Y3        \
	MOVQ  0(SI), SI         \
	XORQ  DX, DX

// G4END reduces the group's accumulators, writes its outputs (bias in
// X13) and loops to group for the next one.
#define G4END(gather, rows, nob, s1, s2, s3, group) \
	REDUCE4                        \
	MOVQ         a-8(SP), SI       \
	MOVQ         32(SI), BX        \
	G4ROWS(gather, rows)           \
	MOVQ         56(SI), BX        \
	MOVQ         64(SI), DX        \
	MOVQ         48(SI), DI        \
	VBROADCASTSS 72(SI), X3        \
	G4EPILOGUE(nob, s1, s2, s3)    \
	ADDQ         $4, AX            \
	JMP          group

// I8ROW4 adds the 32 bytes at DX of the row at r to acc, x in Y4, int16
// ones in Y15. VPMADDUBSW multiplies unsigned by signed bytes and adds
// adjacent pairs into int16 with saturation. The sign trick: feed it |w|
// as the unsigned operand (VPABSB; |-128| = 128 is still right as a uint8)
// and x·sign(w) as the signed one (VPSIGNB), whose product is w·x. A pair
// is then at most 2·128·127 = 32512 in magnitude and cannot saturate. This
// needs x != -128, since VPSIGNB cannot negate it; QuantizeInt8 never
// produces -128 and the wrapper falls back to pure Go when an input does.
// (Taking |x| once per step and w·sign(x) per row would save an
// instruction a row but break on w = -128, which GemvInt8 accepts.)
// VPMADDWD by ones widens the pairs to int32.
#define I8ROW4(r, acc) \
	VMOVDQU    (r)(DX*1), Y5 \
	VPABSB     Y5, Y6        \
	VPSIGNB    Y5, Y4, Y7    \
	VPMADDUBSW Y7, Y6, Y6    \
	VPMADDWD   Y15, Y6, Y6   \
	VPADDD     Y6, acc, acc

// func gemv4Int8AVX2(x, xt, q *int8, stride int, idx *int32, n int, y, scales, b *float32, xscale float32)
TEXT ·gemv4Int8AVX2(SB), NOSPLIT, $8-76
	LEAQ         x+0(FP), SI
	MOVQ         SI, a-8(SP)
	MOVQ         stride+24(FP), R12
	MOVQ         R12, R13
	ANDQ         $-32, R13
	MOVL         $0x00010001, DI
	VMOVD        DI, X15
	VPBROADCASTD X15, Y15
	VPXOR        X13, X13, X13 // no bias: the INT8 sign trick adds none
	XORQ         AX, AX

i8g4group:
	G4BEGIN(i8g4full, i8g4done, i8g4gather, i8g4rows, i8g4nopf)

i8g4loop:
	CMPQ    DX, R13
	JAE     i8g4tail
	VMOVDQU (SI)(DX*1), Y4
	I8ROW4(R8, Y0)
	I8ROW4(R9, Y1)
	I8ROW4(R10, Y2)
	I8ROW4(R11, Y3)
	PF4(i8g4pf)
	ADDQ    $32, DX
	JMP     i8g4loop

i8g4tail:
	MOVQ    xt+8(FP), SI
	TESTQ   SI, SI
	JZ      i8g4reduce
	MOVQ    R12, DX
	SUBQ    $32, DX
	VMOVDQU (SI), Y4
	I8ROW4(R8, Y0)
	I8ROW4(R9, Y1)
	I8ROW4(R10, Y2)
	I8ROW4(R11, Y3)
	PF4(i8g4pft)

i8g4reduce:
	G4END(i8g4gather2, i8g4rows2, i8g4nob, i8g4s1, i8g4s2, i8g4s3, i8g4group)

i8g4done:
	VZEROUPPER
	RET

// I4ROW4 adds the 32 packed bytes (64 columns) at DX of the row at r to the
// int16 accumulator acc: the low nibbles (masked with 0x0f in Y14) against
// the even columns in Y4, the high nibbles, shifted down, against the odd
// ones in Y5. The unsigned nibbles (at most 15) go straight into
// VPMADDUBSW against signed x, so no sign trick is needed: a pair is at
// most 2·15·128 = 3840 in magnitude, and a step adds at most 7680 to an
// int16 lane, so four steps fit (30720 < 32767) before I4FLUSH widens the
// int16 sums into the int32 accumulators. Widening every fourth step, not
// every step, saves a multiply and an add a row a step.
#define I4ROW4(r, acc) \
	VMOVDQU    (r)(DX*1), Y6 \
	VPSRLW     $4, Y6, Y7    \
	VPAND      Y14, Y6, Y6   \
	VPAND      Y14, Y7, Y7   \
	VPMADDUBSW Y4, Y6, Y6    \
	VPMADDUBSW Y5, Y7, Y7    \
	VPADDW     Y6, acc, acc  \
	VPADDW     Y7, acc, acc

// I4FLUSH widens the int16 accumulators Y8-Y11 into Y0-Y3 (VPMADDWD by
// ones in Y15) and clears them.
#define I4FLUSH \
	VPMADDWD Y15, Y8, Y8   \
	VPMADDWD Y15, Y9, Y9   \
	VPMADDWD Y15, Y10, Y10 \
	VPMADDWD Y15, Y11, Y11 \
	VPADDD   Y8, Y0, Y0    \
	VPADDD   Y9, Y1, Y1    \
	VPADDD   Y10, Y2, Y2   \
	VPADDD   Y11, Y3, Y3   \
	VPXOR    Y8, Y8, Y8    \
	VPXOR    Y9, Y9, Y9    \
	VPXOR    Y10, Y10, Y10 \
	VPXOR    Y11, Y11, Y11

// func gemv4Int4AVX2(xs, xt *int8, q *byte, stride int, idx *int32, n int, y, scales, b *float32, xscale float32, bias int32)
//
// xs is the input split by splitInt4XAVX2: per 64 columns, the 32 even ones
// and then the 32 odd ones; xt the tail step's 64 bytes split alike.
// stride is (cols+1)/2 and bias must be 8·Σx.
TEXT ·gemv4Int4AVX2(SB), NOSPLIT, $8-80
	LEAQ         xs+0(FP), SI
	MOVQ         SI, a-8(SP)
	MOVQ         stride+24(FP), R12
	MOVQ         R12, R13
	ANDQ         $-32, R13
	MOVL         $0x00010001, DI
	VMOVD        DI, X15
	VPBROADCASTD X15, Y15
	MOVL         $0x0f0f0f0f, DI
	VMOVD        DI, X14
	VPBROADCASTD X14, Y14
	MOVL         bias+76(FP), DI
	VMOVD        DI, X13
	VPBROADCASTD X13, X13
	XORQ         AX, AX

i4g4group:
	G4BEGIN(i4g4full, i4g4done, i4g4gather, i4g4rows, i4g4nopf)
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	XORQ  DI, DI // steps since the last flush

i4g4loop:
	CMPQ    DX, R13
	JAE     i4g4tail
	VMOVDQU (SI)(DX*2), Y4
	VMOVDQU 32(SI)(DX*2), Y5
	I4ROW4(R8, Y8)
	I4ROW4(R9, Y9)
	I4ROW4(R10, Y10)
	I4ROW4(R11, Y11)
	PF4(i4g4pf)
	ADDQ    $32, DX
	INCQ    DI
	CMPQ    DI, $4
	JB      i4g4loop
	I4FLUSH
	XORQ    DI, DI
	JMP     i4g4loop

i4g4tail:
	// At most three steps are pending, so the tail step fits too.
	MOVQ    xt+8(FP), SI
	TESTQ   SI, SI
	JZ      i4g4flush
	MOVQ    R12, DX
	SUBQ    $32, DX
	VMOVDQU (SI), Y4
	VMOVDQU 32(SI), Y5
	I4ROW4(R8, Y8)
	I4ROW4(R9, Y9)
	I4ROW4(R10, Y10)
	I4ROW4(R11, Y11)
	PF4(i4g4pft)

i4g4flush:
	I4FLUSH

i4g4reduce:
	G4END(i4g4gather2, i4g4rows2, i4g4nob, i4g4s1, i4g4s2, i4g4s3, i4g4group)

i4g4done:
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
