//go:build !linux

package kernels

const hugeSupported = false

func adviseHuge([]byte) error { return nil }
