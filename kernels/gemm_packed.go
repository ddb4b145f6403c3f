package kernels

import (
	"fmt"
	"sync"
)

// PackedB is the right operand op(B) of a GEMM, copied once into the layout
// the micro-kernel reads, so that many products against the same B skip the
// repacking Gemm does on every call. It pays when B is large and each
// product has few rows: a recurrent layer multiplies its batch×Hidden state
// by the same 4·Hidden×Hidden W_hh at every time step.
//
// A PackedB is a snapshot: later writes to the source matrix are not seen,
// so it must be packed again after the weights change. The zero value is an
// empty PackedB ready to be packed into. A PackedB must not be copied after
// first use; GemmPacked calls may share it concurrently, but not with a
// PackB into it.
type PackedB struct {
	kk   gemmKernel
	k, n int
	kc   int // k block; op(B) rows [pc, pc+kc) start at data[pc*nPad]
	nPad int // n rounded up to whole slivers of kk.nr columns
	// data holds, per block of kc rows, nPad/nr slivers of nr columns,
	// each stored step by step (kc groups of nr values): exactly what Gemm
	// packs into its buffer before calling the micro-kernel.
	data []float32

	// scratch holds *[]float32 buffers for the packed A block and the
	// partial tile, so GemmPacked does not allocate them per call.
	scratch sync.Pool
}

// Dims returns the shape k×n of the packed op(B).
func (pb *PackedB) Dims() (k, n int) { return pb.k, pb.n }

// PackB packs op(B), k×n, into dst and returns it, reusing dst's storage
// when it is large enough; dst may be nil, and a new PackedB is returned.
// op(B) is Bᵀ when transB is set, and ldb is the row stride of the stored
// B, as in Gemm. PackB panics if a dimension is negative, ldb is smaller
// than the stored row, or b is too short.
func PackB(dst *PackedB, transB bool, k, n int, b []float32, ldb int) *PackedB {
	dst, g := preparePackB("PackB", dst, gemmKernelF32(), transB, k, n, b, ldb)
	dst.pack(g, 0, n)
	return dst
}

// PackB is the multithreaded form of the package-level PackB: the workers
// pack disjoint column slivers.
func (p *Pool) PackB(dst *PackedB, transB bool, k, n int, b []float32, ldb int) *PackedB {
	if p == nil {
		return PackB(dst, transB, k, n, b, ldb)
	}
	dst, g := preparePackB("Pool.PackB", dst, gemmKernelF32(), transB, k, n, b, ldb)
	p.For(n, gemmPackGrain(dst.kk, k), func(lo, hi int) { dst.pack(g, lo, hi) })
	return dst
}

// gemmPackGrain returns the number of columns of a k-row op(B), a multiple
// of kk.nr, worth packing on a worker of their own.
func gemmPackGrain(kk gemmKernel, k int) int {
	const minValues = 1 << 16
	return gemmRoundUp(max(kk.nr, minValues/max(k, 1)), kk.nr)
}

// preparePackB checks the arguments and shapes dst for op(B) packed for kk.
func preparePackB(op string, dst *PackedB, kk gemmKernel, transB bool, k, n int, b []float32, ldb int) (*PackedB, *gemmArgs) {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels: %s: negative dimension k=%d n=%d", op, k, n))
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkGemmMatrix(op, "b", br, bc, b, ldb)
	if dst == nil {
		dst = new(PackedB)
	}
	dst.kk, dst.k, dst.n = kk, k, n
	dst.kc = min(gemmKC, k)
	dst.nPad = gemmRoundUp(n, kk.nr)
	if size := k * dst.nPad; cap(dst.data) < size {
		dst.data = make([]float32, size)
	} else {
		dst.data = dst.data[:size]
	}
	return dst, &gemmArgs{transB: transB, k: k, b: b, ldb: ldb}
}

// pack packs columns [j0, j1) of op(B); j0 is a multiple of nr.
func (pb *PackedB) pack(g *gemmArgs, j0, j1 int) {
	for pc := 0; pc < pb.k; pc += pb.kc {
		kc := min(pb.kc, pb.k-pc)
		g.packB(pb.kk, pb.data[pc*pb.nPad+j0*kc:], pc, kc, j0, j1-j0)
	}
}

// GemmPacked computes C = alpha·op(A)·op(B) + beta·C like Gemm, with op(B)
// already packed in pb; op(A) is m×k and C is m×n for pb's k×n. The result
// is bit for bit what Gemm gives on the unpacked B. When beta is zero C is
// not read. GemmPacked panics if pb is nil, m is negative, a stride is
// smaller than its stored row, or a slice is too short.
func GemmPacked(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	g := checkGemmPacked("GemmPacked", transA, m, alpha, a, lda, pb, beta, c, ldc)
	pb.run(g, pb.kk, 0, m, 0, pb.n)
}

// GemmPacked is the multithreaded form of the package-level GemmPacked,
// split among the workers as Pool.Gemm splits its work and with the same
// bit-exact result.
func (p *Pool) GemmPacked(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	if p == nil {
		GemmPacked(transA, m, alpha, a, lda, pb, beta, c, ldc)
		return
	}
	g := checkGemmPacked("Pool.GemmPacked", transA, m, alpha, a, lda, pb, beta, c, ldc)
	gemmSplit(p, pb.kk, m, pb.n, pb.k, func(kk gemmKernel, i0, i1, j0, j1 int) { pb.run(g, kk, i0, i1, j0, j1) })
}

func checkGemmPacked(op string, transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) *gemmArgs {
	if pb == nil {
		panic(fmt.Sprintf("kernels: %s: nil PackedB", op))
	}
	if m < 0 {
		panic(fmt.Sprintf("kernels: %s: negative dimension m=%d", op, m))
	}
	k, n := pb.k, pb.n
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	checkGemmMatrix(op, "a", ar, ac, a, lda)
	checkGemmMatrix(op, "c", m, n, c, ldc)
	return &gemmArgs{transA: transA, k: k, alpha: alpha, a: a, lda: lda, beta: beta, c: c, ldc: ldc}
}

// run computes the block of C with rows [i0, i1) and columns [j0, j1); j0
// is a multiple of nr. It follows gemmArgs.run, with B's packing done.
func (pb *PackedB) run(g *gemmArgs, kk gemmKernel, i0, i1, j0, j1 int) {
	if i0 >= i1 || j0 >= j1 {
		return
	}
	g.scaleC(i0, i1, j0, j1)
	if pb.k == 0 || g.alpha == 0 {
		return
	}
	mr, nr := kk.mr, kk.nr
	mcMax := min(gemmMC/mr*mr, gemmRoundUp(i1-i0, mr))
	sp := pb.getScratch(mcMax*pb.kc + mr*nr)
	defer pb.scratch.Put(sp)
	ap := (*sp)[:mcMax*pb.kc]
	tile := (*sp)[mcMax*pb.kc : mcMax*pb.kc+mr*nr]
	nc := j1 - j0
	for pc := 0; pc < pb.k; pc += pb.kc {
		kc := min(pb.kc, pb.k-pc)
		off := pc*pb.nPad + j0*kc
		g.macro(kk, ap, pb.data[off:off+gemmRoundUp(nc, nr)*kc], tile, i0, i1, mcMax, pc, kc, j0, nc)
	}
}

// getScratch returns a buffer of at least size values from pb's scratch.
func (pb *PackedB) getScratch(size int) *[]float32 {
	sp, _ := pb.scratch.Get().(*[]float32)
	if sp == nil || cap(*sp) < size {
		s := make([]float32, size)
		return &s
	}
	return sp
}
