//go:build amd64 && !purego

package kernels

import "unsafe"

const canFlush = true

// flushLinesAsm and flushLinesOptAsm evict lines 64-byte lines from the
// one holding p on, by CLFLUSH or CLFLUSHOPT, then fence.
//
//go:noescape
func flushLinesAsm(p unsafe.Pointer, lines int)

//go:noescape
func flushLinesOptAsm(p unsafe.Pointer, lines int)

// cpuid7ebx returns EBX of CPUID leaf 7, subleaf 0 (0 if the leaf is
// absent); golang.org/x/sys/cpu does not report CLFLUSHOPT.
func cpuid7ebx() uint32

// hasCLFLUSHOPT is CPUID.(EAX=7,ECX=0):EBX bit 23, read once: a constant of
// the machine, like the feature flags in cpu_amd64.go.
var hasCLFLUSHOPT = cpuid7ebx()&(1<<23) != 0

// flushLines uses CLFLUSHOPT where the CPU has it: on the session-8 Xeon
// (BenchmarkFlush) CLFLUSH, which completes one flush before the next,
// evicts under 2 GB/s.
func flushLines(p unsafe.Pointer, lines int) {
	if hasCLFLUSHOPT {
		flushLinesOptAsm(p, lines)
		return
	}
	flushLinesAsm(p, lines)
}
