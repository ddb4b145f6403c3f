//go:build linux

package kernels

import (
	"fmt"

	"golang.org/x/sys/unix"
)

const hugeSupported = true

// madvCollapse is Linux's MADV_COLLAPSE (6.1 onwards), which x/sys/unix
// does not name yet.
const madvCollapse = 25

// adviseHuge asks for huge pages on b, 2 MiB aligned in start and length: MADV_HUGEPAGE so that first touches fault in huge pages, and
// MADV_COLLAPSE for pages the Go heap has already backed with small ones.
// An older kernel without MADV_COLLAPSE still gets the first.
func adviseHuge(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := unix.Madvise(b, unix.MADV_HUGEPAGE); err != nil {
		return fmt.Errorf("madvise(MADV_HUGEPAGE): %w", err)
	}
	if err := unix.Madvise(b, madvCollapse); err != nil && err != unix.EINVAL {
		return fmt.Errorf("madvise(MADV_COLLAPSE): %w", err)
	}
	return nil
}
