package nn

import (
	"fmt"
	"math"

	"github.com/elasticml/elastic/kernels"
)

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
