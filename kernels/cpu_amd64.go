//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

func init() {
	useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useF16C = useAVX2 && cpu.X86.HasF16C
	useAVX512 = useAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
	useVNNI = useAVX512 && cpu.X86.HasAVX512VNNI
}
