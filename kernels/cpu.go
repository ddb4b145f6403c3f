package kernels

// Feature flags chosen once at init by cpu_amd64.go (or left false by
// cpu_other.go and under the purego tag). They are the only package-level
// variables, and are never written after init.
var (
	useAVX2   bool // AVX2 + FMA
	useF16C   bool // AVX2 + FMA + F16C (VCVTPH2PS/VCVTPS2PH ymm)
	useAVX512 bool // AVX-512 F, BW, VL
	useVNNI   bool // AVX-512 VNNI (VPDPBUSD)
)

// Impl names the implementation chosen for this CPU, for reports.
func Impl() string {
	switch {
	case useVNNI:
		return "avx512-vnni"
	case useAVX512:
		return "avx512"
	case useAVX2:
		return "avx2-fma"
	default:
		return "purego"
	}
}
