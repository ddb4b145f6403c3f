package nn

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
)

// gemm runs kernels.Gemm on p when p is not nil, else on the caller.
func gemm(p *kernels.Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if p != nil {
		p.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kernels.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packB packs op(B) into dst with kernels.PackB, on p when p is not nil.
func packB(p *kernels.Pool, dst *kernels.PackedB, transB bool, k, n int, b []float32, ldb int) *kernels.PackedB {
	if p != nil {
		return p.PackB(dst, transB, k, n, b, ldb)
	}
	return kernels.PackB(dst, transB, k, n, b, ldb)
}

// gemmPacked runs kernels.GemmPacked on p when p is not nil, else on the
// caller.
func gemmPacked(p *kernels.Pool, transA bool, m int, alpha float32, a []float32, lda int, pb *kernels.PackedB, beta float32, c []float32, ldc int) {
	if p != nil {
		p.GemmPacked(transA, m, alpha, a, lda, pb, beta, c, ldc)
		return
	}
	kernels.GemmPacked(transA, m, alpha, a, lda, pb, beta, c, ldc)
}

// grow returns buf resliced to n elements, reallocating only when its
// capacity is short. The contents are unspecified.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// addRows adds the vector v to each of the len(m)/len(v) rows of m.
func addRows(m, v []float32) {
	for r := 0; r < len(m); r += len(v) {
		row := m[r : r+len(v)]
		for i, x := range v {
			row[i] += x
		}
	}
}

// sumRows adds every len(acc)-wide row of m to acc.
func sumRows(acc, m []float32) {
	for r := 0; r < len(m); r += len(acc) {
		kernels.Axpy(1, m[r:r+len(acc)], acc)
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func tanh(x float32) float32 { return float32(math.Tanh(float64(x))) }

func checkLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("nn: %s: len(%s)=%d, want %d", op, name, got, want))
	}
}

func checkUnits(op string, lo, hi, n int) {
	if lo < 0 || lo > hi || hi > n {
		panic(fmt.Sprintf("nn: %s: units [%d, %d) outside [0, %d)", op, lo, hi, n))
	}
}

func checkSeq(op string, steps, batch int) {
	if steps <= 0 || batch <= 0 {
		panic(fmt.Sprintf("nn: %s: steps=%d batch=%d, want both positive", op, steps, batch))
	}
}
