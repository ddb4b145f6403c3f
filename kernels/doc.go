// Package kernels holds elastic's hot loops: dense and row-gather GEMV,
// blocked GEMM, INT8/INT4 GEMV with per-row scales, ternary projection and
// top-k selection.
//
// # Overview
//
// Everything else in elastic — dual-module inference, screening, sparse
// attention and sparse training — reduces to a few memory-bound loops over
// row-major float32 or low-precision matrices. Generic BLAS libraries do not
// offer the sparsity patterns we need (read only a listed subset of rows, or
// integer weights with per-row scales), and gonum's float32 BLAS is neither
// vectorised nor cache-blocked, so these loops are written here once.
//
// Each kernel with an assembly implementation has a pure-Go twin; building
// with the purego tag selects the twins everywhere, and the shared
// conformance tests run every implementation against a float64 reference.
//
// Multithreaded variants take a *Pool, a fixed set of workers sized by
// GOMAXPROCS, so a call costs no goroutine start-up.
package kernels
