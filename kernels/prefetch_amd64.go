//go:build amd64 && !purego

package kernels

import "unsafe"

//go:noescape
func prefetchLines(p unsafe.Pointer, lines int)

func prefetch(v []float32, lines int) { prefetchLines(unsafe.Pointer(&v[0]), lines) }
