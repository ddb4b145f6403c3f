//go:build amd64 && !purego

#include "textflag.h"

// func flushLinesAsm(p unsafe.Pointer, lines int)
// CLFLUSH is baseline x86-64; it works on any address of a line, so p need
// not be aligned. MFENCE orders the flushes before what follows.
TEXT ·flushLinesAsm(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ lines+8(FP), CX
	TESTQ CX, CX
	JLE  done
loop:
	CLFLUSH (AX)
	ADDQ $64, AX
	DECQ CX
	JNZ  loop
done:
	MFENCE
	RET

// func flushLinesOptAsm(p unsafe.Pointer, lines int)
// CLFLUSHOPT is CLFLUSH without the ordering among flushes, so many are in
// flight at once; MFENCE waits for all of them.
TEXT ·flushLinesOptAsm(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ lines+8(FP), CX
	TESTQ CX, CX
	JLE  optdone
optloop:
	CLFLUSHOPT (AX)
	ADDQ $64, AX
	DECQ CX
	JNZ  optloop
optdone:
	MFENCE
	RET

// func cpuid7ebx() uint32
TEXT ·cpuid7ebx(SB), NOSPLIT, $0-4
	MOVL $0, AX
	CPUID
	CMPL AX, $7
	JLT  none
	MOVL $7, AX
	MOVL $0, CX
	CPUID
	MOVL BX, ret+0(FP)
	RET
none:
	MOVL $0, ret+0(FP)
	RET
