//go:build !linux

package bench

import "syscall"

func loadAttr() *syscall.SysProcAttr { return nil }
