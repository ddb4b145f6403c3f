// Package svdsoftmax implements SVD-softmax (Shim et al., NIPS 2017), one of
// the two baselines chapter 6 compares approximate screening against.
//
// # Overview
//
// The classifier W (l×d) is factored once as W = U·Σ·Vᵀ. With B = W·V = U·Σ
// and h̃ = Vᵀ·h, every logit is z = B·h̃ + b exactly, and the columns of B
// are ordered by singular value, so the first window columns of B give a
// cheap preview of all logits:
//
//	preview_i = B[i, :window]·h̃[:window] + b_i.
//
// The n classes with the largest previews are the candidates; their logits
// are recomputed over the full width, B[c, :]·h̃ + b_c, which equals W[c]·h
// up to rounding because V is orthogonal. The mixed logits — exact for the
// candidates, preview elsewhere — are the ones the paper feeds to softmax.
// The budget knobs are the window and the number of candidates n.
//
// The factorization does not run gonum's SVD on W itself: for l up to
// millions of rows that is slow and needs l×l-sized work. Only V and Σ are
// needed, and they are the eigenvectors and square-rooted eigenvalues of the
// d×d Gram matrix WᵀW, which is accumulated in float64 from float32 GEMMs
// over blocks of rows and factored by mat.EigenSym. Squaring the singular
// values loses accuracy only in the smallest ones, which the preview does
// not use, and exactness of the candidate logits depends only on V being
// orthogonal, which EigenSym guarantees.
//
// B is stored twice in float32: once in full, row-major (l×d, for the exact
// candidate logits, a row-gather GEMV) and, per Searcher, its first window
// columns as a contiguous column-major window×l matrix, so the preview is a
// dense, bandwidth-bound pass — a sequence of AXPYs over blocks of logits
// that stay in L1 — rather than a strided read or a GEMV over rows only a
// few floats wide. All products use the kernels package.
package svdsoftmax
