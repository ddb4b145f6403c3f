package main

import (
	"runtime"
	"testing"
)

func TestMemTotal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/meminfo")
	}
	if got := memTotal(); got < 64<<20 || got%1024 != 0 {
		t.Fatalf("MemTotal %d bytes: not a whole number of KiB above 64 MiB", got)
	}
}
