package kernels

import "fmt"

// Blocking of Gemm, after Goto and van de Geijn: a kc×nc block of op(B) is
// packed once per (jc, pc) step and reused by every row block; an mc×kc
// block of op(A) is packed to sit in L2 while the micro-kernel sweeps it
// against one kc×nr sliver of B held in L1.
const (
	gemmKC = 192
	gemmMC = 480
	gemmNC = 4096
)

// gemmKernel is one register-blocked micro-kernel. kern adds to the mr×nr
// tile of C at c (row stride ldc) the product of a packed A sliver (kc steps
// of mr values, alpha already applied) and a packed B sliver (kc steps of nr
// values). packBT, if not nil, packs a full sliver of a transposed B faster
// than scalar code can, which matters for the Y = X·Wᵀ of every forward
// pass: it sets dst[p*nr+j] = src[j*ld+p] for j < nr and p < kc8, a multiple
// of 8.
type gemmKernel struct {
	mr, nr int
	kern   func(kc int, a, b, c []float32, ldc int)
	packBT func(dst, src []float32, ld, nr, kc8 int)
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, with
// the semantics of BLAS sgemm: op(X) is Xᵀ when the matching trans flag is
// set, op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row
// strides of the stored matrices. When beta is zero C is not read, so it may
// hold NaNs. Gemm panics if a dimension is negative, a stride is smaller than
// its stored row, or a slice is too short.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("Gemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	g := gemmArgs{transA, transB, k, alpha, a, lda, b, ldb, beta, c, ldc}
	g.run(gemmKernelF32(), 0, m, 0, n)
}

// Gemm is the multithreaded form of the package-level Gemm. It splits the
// larger of C's two dimensions among the pool's workers; problems too small
// to pay for the hand-off run on the caller.
func (p *Pool) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if p == nil {
		Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkGemm("Pool.Gemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	g := gemmArgs{transA, transB, k, alpha, a, lda, b, ldb, beta, c, ldc}
	g.runPool(p, gemmKernelF32(), m, n)
}

// gemmMinWork is the number of multiply-adds below which a Pool task is not
// worth handing to another worker.
const gemmMinWork = 1 << 20

func (g *gemmArgs) runPool(p *Pool, kk gemmKernel, m, n int) {
	byRows, grain := gemmGrain(kk, m, n, g.k)
	if byRows && p.Workers() > 1 && m >= 2*grain && g.k > 0 && g.alpha != 0 {
		// Each row block would pack all of op(B) for itself, which for
		// the dX = dY·W of a layer with a wide W (the decoder's 8k×650)
		// repacks W once per block; pack it once for all of them.
		pb, gb := preparePackB("Pool.Gemm", &p.gemmB, kk, g.transB, g.k, n, g.b, g.ldb)
		p.For(n, gemmPackGrain(kk, g.k), func(lo, hi int) { pb.pack(gb, lo, hi) })
		gemmSplit(p, kk, m, n, g.k, func(kk gemmKernel, i0, i1, j0, j1 int) { pb.run(g, kk, i0, i1, j0, j1) })
		return
	}
	gemmSplit(p, kk, m, n, g.k, g.run)
}

// gemmGrain reports whether a Pool splits the m×n product C by rows, and
// the grain of the split: a multiple of kk.mr rows or kk.nr columns.
func gemmGrain(kk gemmKernel, m, n, k int) (byRows bool, grain int) {
	work := max(k, 1)
	if m/kk.mr >= n/kk.nr {
		return true, gemmRoundUp(max(kk.mr, gemmMinWork/max(n*work, 1)), kk.mr)
	}
	return false, gemmRoundUp(max(kk.nr, gemmMinWork/max(m*work, 1)), kk.nr)
}

// gemmSplit calls run on blocks of the m×n product C split among p's
// workers; column blocks start at multiples of kk.nr.
func gemmSplit(p *Pool, kk gemmKernel, m, n, k int, run func(kk gemmKernel, i0, i1, j0, j1 int)) {
	if byRows, grain := gemmGrain(kk, m, n, k); byRows {
		p.For(m, grain, func(lo, hi int) { run(kk, lo, hi, 0, n) })
	} else {
		p.For(n, grain, func(lo, hi int) { run(kk, 0, m, lo, hi) })
	}
}

// gemmArgs holds one checked Gemm call.
type gemmArgs struct {
	transA, transB bool
	k              int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

func checkGemm(op string, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: %s: negative dimension m=%d n=%d k=%d", op, m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkGemmMatrix(op, "a", ar, ac, a, lda)
	checkGemmMatrix(op, "b", br, bc, b, ldb)
	checkGemmMatrix(op, "c", m, n, c, ldc)
}

func checkGemmMatrix(op, name string, r, c int, s []float32, ld int) {
	if ld < max(1, c) {
		panic(fmt.Sprintf("kernels: %s: ld%s=%d < max(1, %d)", op, name, ld, c))
	}
	if r > 0 && c > 0 && len(s) < (r-1)*ld+c {
		panic(fmt.Sprintf("kernels: %s: len(%s)=%d too short for %d×%d with stride %d", op, name, len(s), r, c, ld))
	}
}

// run computes the block of C with rows [i0, i1) and columns [j0, j1).
func (g *gemmArgs) run(kk gemmKernel, i0, i1, j0, j1 int) {
	if i0 >= i1 || j0 >= j1 {
		return
	}
	g.scaleC(i0, i1, j0, j1)
	if g.k == 0 || g.alpha == 0 {
		return
	}
	mr, nr := kk.mr, kk.nr
	kcMax := min(gemmKC, g.k)
	mcMax := min(gemmMC/mr*mr, gemmRoundUp(i1-i0, mr))
	ncMax := min(gemmNC/nr*nr, gemmRoundUp(j1-j0, nr))
	buf := make([]float32, mcMax*kcMax+kcMax*ncMax+mr*nr)
	ap := buf[:mcMax*kcMax]
	bp := buf[mcMax*kcMax : mcMax*kcMax+kcMax*ncMax]
	tile := buf[mcMax*kcMax+kcMax*ncMax:]

	for jc := j0; jc < j1; jc += ncMax {
		nc := min(ncMax, j1-jc)
		for pc := 0; pc < g.k; pc += kcMax {
			kc := min(kcMax, g.k-pc)
			g.packB(kk, bp, pc, kc, jc, nc)
			g.macro(kk, ap, bp, tile, i0, i1, mcMax, pc, kc, jc, nc)
		}
	}
}

// macro adds to C[i0:i1, jc:jc+nc] the product of op(A)[i0:i1, pc:pc+kc]
// and the block of op(B)[pc:pc+kc, jc:jc+nc] packed in bp as slivers of nr
// columns, packing A through ap in blocks of mcMax rows. tile is mr×nr
// scratch.
func (g *gemmArgs) macro(kk gemmKernel, ap, bp, tile []float32, i0, i1, mcMax, pc, kc, jc, nc int) {
	mr, nr := kk.mr, kk.nr
	for ic := i0; ic < i1; ic += mcMax {
		mc := min(mcMax, i1-ic)
		g.packA(ap, mr, ic, mc, pc, kc)
		for jr := 0; jr < nc; jr += nr {
			bs := bp[jr*kc : (jr+nr)*kc]
			nv := min(nr, nc-jr)
			for ir := 0; ir < mc; ir += mr {
				as := ap[ir*kc : (ir+mr)*kc]
				mv := min(mr, mc-ir)
				off := (ic+ir)*g.ldc + jc + jr
				if mv == mr && nv == nr {
					kk.kern(kc, as, bs, g.c[off:off+(mr-1)*g.ldc+nr], g.ldc)
					continue
				}
				// A partial tile goes through a scratch tile so the
				// kernel never touches C outside the block.
				clear(tile)
				kk.kern(kc, as, bs, tile, nr)
				for r := range mv {
					cr := g.c[off+r*g.ldc : off+r*g.ldc+nv]
					for j, v := range tile[r*nr : r*nr+nv] {
						cr[j] += v
					}
				}
			}
		}
	}
}

func gemmRoundUp(x, m int) int { return (x + m - 1) / m * m }

// scaleC sets the block of C to beta times itself, without reading C when
// beta is zero.
func (g *gemmArgs) scaleC(i0, i1, j0, j1 int) {
	if g.beta == 1 {
		return
	}
	for i := i0; i < i1; i++ {
		row := g.c[i*g.ldc+j0 : i*g.ldc+j1]
		if g.beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= g.beta
		}
	}
}

// packA copies alpha·op(A)[ic:ic+mc, pc:pc+kc] into dst as slivers of mr
// rows, each stored step by step (kc groups of mr values), padding the last
// sliver with zeros.
func (g *gemmArgs) packA(dst []float32, mr, ic, mc, pc, kc int) {
	alpha := g.alpha
	for s := 0; s < mc; s += mr {
		sl := dst[s*kc : (s+mr)*kc]
		rows := min(mr, mc-s)
		if rows < mr {
			clear(sl)
		}
		if !g.transA {
			// Four rows at a time turn four scattered stores per step into
			// one run of four; it halves the packing time.
			r := 0
			for ; r+4 <= rows; r += 4 {
				o := (ic+s+r)*g.lda + pc
				r0 := g.a[o : o+kc]
				r1 := g.a[o+g.lda : o+g.lda+kc]
				r2 := g.a[o+2*g.lda : o+2*g.lda+kc]
				r3 := g.a[o+3*g.lda : o+3*g.lda+kc]
				for p := range r0 {
					d := sl[p*mr+r : p*mr+r+4 : p*mr+r+4]
					d[0], d[1], d[2], d[3] = alpha*r0[p], alpha*r1[p], alpha*r2[p], alpha*r3[p]
				}
			}
			for ; r < rows; r++ {
				src := g.a[(ic+s+r)*g.lda+pc : (ic+s+r)*g.lda+pc+kc]
				for p, v := range src {
					sl[p*mr+r] = alpha * v
				}
			}
			continue
		}
		for p := range kc {
			src := g.a[(pc+p)*g.lda+ic+s : (pc+p)*g.lda+ic+s+rows]
			d := sl[p*mr : p*mr+rows]
			for r, v := range src {
				d[r] = alpha * v
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as slivers of nr columns,
// each stored step by step (kc groups of nr values), padding the last sliver
// with zeros.
func (g *gemmArgs) packB(kk gemmKernel, dst []float32, pc, kc, jc, nc int) {
	nr := kk.nr
	for s := 0; s < nc; s += nr {
		sl := dst[s*kc : (s+nr)*kc]
		cols := min(nr, nc-s)
		if cols < nr {
			clear(sl)
		}
		if !g.transB {
			for p := range kc {
				o := (pc+p)*g.ldb + jc + s
				copy(sl[p*nr:p*nr+cols], g.b[o:o+cols])
			}
			continue
		}
		p0 := 0
		if kk.packBT != nil && cols == nr {
			p0 = kc &^ 7
			kk.packBT(sl, g.b[(jc+s)*g.ldb+pc:(jc+s+nr-1)*g.ldb+pc+p0], g.ldb, nr, p0)
		}
		for j := range cols {
			o := (jc+s+j)*g.ldb + pc
			for p, v := range g.b[o+p0 : o+kc] {
				sl[(p0+p)*nr+j] = v
			}
		}
	}
}

// gemmGeneric is the pure-Go micro-kernel configuration.
func gemmGeneric() gemmKernel { return gemmKernel{mr: 4, nr: 4, kern: gemmKernelGeneric} }

// gemmKernelGeneric is the pure-Go twin of the assembly micro-kernels, on a
// 4×4 tile whose sixteen sums the compiler can keep in registers.
func gemmKernelGeneric(kc int, a, b, c []float32, ldc int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a = a[:4*kc]
	b = b[:4*kc]
	for p := 0; p < 4*kc; p += 4 {
		av := a[p : p+4 : p+4]
		bv := b[p : p+4 : p+4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r := c[:4:4]
	r[0], r[1], r[2], r[3] = r[0]+c00, r[1]+c01, r[2]+c02, r[3]+c03
	r = c[ldc : ldc+4 : ldc+4]
	r[0], r[1], r[2], r[3] = r[0]+c10, r[1]+c11, r[2]+c12, r[3]+c13
	r = c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r[0], r[1], r[2], r[3] = r[0]+c20, r[1]+c21, r[2]+c22, r[3]+c23
	r = c[3*ldc : 3*ldc+4 : 3*ldc+4]
	r[0], r[1], r[2], r[3] = r[0]+c30, r[1]+c31, r[2]+c32, r[3]+c33
}
