// Package quant implements the symmetric uniform quantization elastic
// applies to little-module and screening weights.
//
// # Overview
//
// The thesis quantizes the dimension-reduced weights of the little module
// once, after training, to INT16, INT8, INT4 or INT2 (Table 3.5), and
// dequantizes with one scale per tensor or per output row. Quantize maps a
// row-major float32 matrix to b-bit codes in [−(2^(b−1)−1), 2^(b−1)−1] with
// scale = max|w|/(2^(b−1)−1), so every element is reproduced within half a
// scale step. The code layouts are the ones the integer GEMV kernels in
// package kernels read: INT8 as []int8 row-major; INT4 two codes per byte
// in offset binary (code+8), low nibble first, each row padded to a whole
// byte; INT2 four codes per byte in offset binary (code+2), lowest bits
// first, each row padded to a whole byte; INT16 as []int16. Matrix-vector
// products are left to those kernels.
//
// In the runtime (package speculate) quantization is what makes a
// speculator cheap: its W̃ is stored and multiplied at INT8/INT4.
package quant
