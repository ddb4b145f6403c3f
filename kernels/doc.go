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
// Multithreaded variants are methods of *Pool, a fixed set of workers sized
// by GOMAXPROCS, so a call costs no goroutine start-up. A nil *Pool runs
// every method on the calling goroutine with the serial kernel (Workers
// reports 1, Close does nothing), so callers hold a possibly nil pool and
// call its methods rather than wrapping each kernel in a nil check.
//
// # Assembly
//
// Assembly is used where a benchmark showed it pays, chosen at init from
// golang.org/x/sys/cpu (see Impl):
//
//   - float32 GEMV and row-gather GEMV: AVX-512 and AVX2+FMA, four rows per
//     pass sharing each load of x, masked tails. Pure Go reaches a fraction
//     of memory bandwidth; these stream cold weights at 0.65–0.95 of the
//     streaming-read probe of `elastic bench gemv` (0.92–0.95 at 6000×3000). Both prefetch the next
//     four rows (dense) or listed rows (gather) into L2 while they multiply
//     the current four: rows of a few KiB are streams too short for the
//     hardware prefetchers.
//   - float16 GEMV and row-gather GEMV (GemvHalf) and ToHalf/FromHalf:
//     AVX-512 (VCVTPH2PS zmm) and AVX2+FMA+F16C (VCVTPH2PS ymm) widen the
//     weights in registers, four rows per pass as for float32; the AVX2
//     kernel does a ragged tail as the row's last eight columns with the
//     lanes already summed cleared, reading no byte outside the row. The
//     dense GEMV prefetches into L2 the rows at least two groups of four
//     and 16 KiB ahead, without which it streamed at about half the
//     float32 GEMV's GB/s on either ISA; the gather does the same over the
//     listed rows (1 KiB rows at 512 columns are even shorter streams than
//     float32's). Only classifiers too large for float32 use them (package
//     screen); `elastic bench gemv` reports both against their float32
//     twins.
//   - GEMM: packed panels with a 14×32 AVX-512 (6×16 AVX2) micro-kernel.
//     PackB/GemmPacked keep a packed op(B) for many products: a recurrent
//     layer multiplies a batch of 20 rows by the same W_hh at every time
//     step, where re-packing 7 MB per step cost as much as the product.
//   - INT8 and INT4 GEMV: AVX-512 VNNI VPDPBUSD multiplies unsigned by signed
//     bytes, so INT8 weights are flipped to w+128 (XOR 0x80) and 128·Σxq is
//     subtracted once per call; INT4 nibbles are stored offset-binary (w+8)
//     and used as the unsigned operand directly, subtracting 8·Σxq. The
//     AVX2 kernels use VPMADDUBSW, with the VPSIGNB trick for INT8 (|w|
//     times sign-adjusted x) so no int16 pair sum can saturate, and INT4
//     sums kept in int16 for four steps. Both ISAs walk whole row lists in
//     assembly, eight (VNNI) or four (AVX2) rows a step, epilogue included,
//     and prefetch consecutive rows ahead; AVX2 has no byte-masked load, so
//     its last step rereads the row's final 32 bytes against an input
//     zeroed where they were counted.
//
// # Memory and threads
//
// Make allocates weight buffers of HugeThreshold bytes or more on 2 MiB
// transparent huge pages (madvise; ELASTIC_HUGEPAGES=0 turns it off): the
// million-class screen ran 9–19% faster with them. Pool workers spin for
// the next call for a while, then park; a caller waiting for its workers
// parks after a bounded spin too, so that on a machine where other
// processes compete for the cores a descheduled worker can run instead of
// a spinning caller (`elastic bench dmi --load N` measures this).
//
// Ternary projection and top-k are pure Go: the former is a gather-add over
// index lists with no multiplies, the latter an exact radix selection on
// order-preserving integer keys behind a streaming or sampled-pivot first
// pass, and neither is on a bandwidth-bound path.
//
// In the runtime (package speculate) these are the hot loops under every
// part: the quantized speculators' GEMVs, the selectors' top-k, and the
// executors' row-gather GEMVs.
package kernels
