package dsg

import (
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
)

// lowerWindows writes the im2col rows (all input channels) of the
// windows ids of x into dst, one after another: the rows the search
// estimates when it does not take the whole lowered matrix.
func lowerWindows(cv *nn.Conv2d, pool *kernels.Pool, dst, x []float32, ids []int32) {
	C, K := cv.InC, cv.Kernel
	k := K * K * C
	per := cv.OutH * cv.OutW
	pool.For(len(ids), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			w := int(ids[i])
			b, pos := w/per, w%per
			oh, ow := pos/cv.OutW, pos%cv.OutW
			img := x[b*cv.InSize() : (b+1)*cv.InSize()]
			row := dst[i*k : (i+1)*k]
			for r := range K {
				ih := oh*cv.Stride - cv.Pad + r
				for s := range K {
					iw := ow*cv.Stride - cv.Pad + s
					seg := row[(r*K+s)*C : (r*K+s+1)*C]
					if ih < 0 || ih >= cv.InH || iw < 0 || iw >= cv.InW {
						clear(seg)
						continue
					}
					copy(seg, img[(ih*cv.InW+iw)*C:])
				}
			}
		}
	})
}

// lowerChannels writes the im2col matrix of x (n images) on the input
// channels live only: per window, (r, s, c′) ordered, K·K·len(live)
// columns, zeros where the window overhangs the padding. Each image's
// live channels are first packed (scratch, n·InH·InW·len(live) values),
// so the lowering copies contiguous runs as im2col does.
func lowerChannels(cv *nn.Conv2d, pool *kernels.Pool, dst, x, scratch []float32, n int, live []int32) {
	C, K, L := cv.InC, cv.Kernel, len(live)
	k := K * K * L
	hw := cv.InH * cv.InW
	pool.For(n, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			img := x[b*cv.InSize() : (b+1)*cv.InSize()]
			pk := scratch[b*hw*L : (b+1)*hw*L]
			for p := range hw {
				px, out := img[p*C:(p+1)*C], pk[p*L:(p+1)*L]
				for i, c := range live {
					out[i] = px[c]
				}
			}
			for oh := range cv.OutH {
				for ow := range cv.OutW {
					row := dst[((b*cv.OutH+oh)*cv.OutW+ow)*k:][:k]
					for r := range K {
						ih := oh*cv.Stride - cv.Pad + r
						if ih < 0 || ih >= cv.InH {
							clear(row[r*K*L : (r+1)*K*L])
							continue
						}
						for s := range K {
							iw := ow*cv.Stride - cv.Pad + s
							seg := row[(r*K+s)*L : (r*K+s+1)*L]
							if iw < 0 || iw >= cv.InW {
								clear(seg)
								continue
							}
							copy(seg, pk[(ih*cv.InW+iw)*L:])
						}
					}
				}
			}
		}
	})
}

// raiseChannels sets dx (n images) to the col2im of dcols, a gradient of
// lowerChannels's matrix: the live channels get their windows' sums, the
// others zero. The sums go to packed channels first (scratch), then out.
func raiseChannels(cv *nn.Conv2d, pool *kernels.Pool, dx, dcols, scratch []float32, n int, live []int32) {
	C, K, L := cv.InC, cv.Kernel, len(live)
	k := K * K * L
	hw := cv.InH * cv.InW
	pool.For(n, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			pk := scratch[b*hw*L : (b+1)*hw*L]
			clear(pk)
			for oh := range cv.OutH {
				for ow := range cv.OutW {
					row := dcols[((b*cv.OutH+oh)*cv.OutW+ow)*k:][:k]
					for r := range K {
						ih := oh*cv.Stride - cv.Pad + r
						if ih < 0 || ih >= cv.InH {
							continue
						}
						for s := range K {
							iw := ow*cv.Stride - cv.Pad + s
							if iw < 0 || iw >= cv.InW {
								continue
							}
							kernels.Axpy(1, row[(r*K+s)*L:(r*K+s+1)*L], pk[(ih*cv.InW+iw)*L:(ih*cv.InW+iw+1)*L])
						}
					}
				}
			}
			img := dx[b*cv.InSize() : (b+1)*cv.InSize()]
			clear(img)
			for p := range hw {
				px, in := img[p*C:(p+1)*C], pk[p*L:(p+1)*L]
				for i, c := range live {
					px[c] = in[i]
				}
			}
		}
	})
}
