//go:build !amd64 || purego

package kernels

import "unsafe"

const canFlush = false

func flushLines(p unsafe.Pointer, lines int) {}
