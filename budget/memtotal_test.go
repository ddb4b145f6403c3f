package budget

import (
	"runtime"
	"strings"
	"testing"
)

func TestMemTotal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/meminfo")
	}
	if got := MemTotal(); got < 64<<20 || got%1024 != 0 {
		t.Fatalf("MemTotal %d bytes: not a whole number of KiB above 64 MiB", got)
	}
}

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"MemTotal:       24563732 kB\nMemFree:  100 kB\n", 24563732 << 10},
		{"MemFree:  100 kB\nMemTotal: 1 kB", 1024},
		{"MemTotal: 12 MB\n", 0},
		{"MemTotal: -5 kB\n", 0},
		{"MemTotal: kB\n", 0},
		{"MemAvailable: 100 kB\n", 0},
		{"", 0},
	} {
		if got := parseMemTotal(strings.NewReader(tc.in)); got != tc.want {
			t.Errorf("%q: %d, want %d", tc.in, got, tc.want)
		}
	}
}

func FuzzParseMemTotal(f *testing.F) {
	f.Add("MemTotal:       24563732 kB\n")
	f.Add("MemTotal: 99999999999999999999 kB\n")
	f.Fuzz(func(t *testing.T, in string) {
		if got := parseMemTotal(strings.NewReader(in)); got < 0 || got%1024 != 0 {
			t.Fatalf("%q: %d", in, got)
		}
	})
}
