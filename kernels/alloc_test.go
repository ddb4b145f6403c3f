package kernels

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

func TestMakeSmallAndZero(t *testing.T) {
	for _, n := range []int{0, 1, 1000} {
		s := Make[float32](n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("Make(%d): len %d cap %d", n, len(s), cap(s))
		}
	}
}

// TestMakeHuge checks that a buffer above the threshold is 2 MiB aligned,
// zeroed and of the asked length, and, where the kernel offers
// transparent huge pages, that the touched buffer sits on them.
func TestMakeHuge(t *testing.T) {
	if !HugePages() {
		t.Skip("huge pages not supported or turned off")
	}
	n := (HugeThreshold + 3*hugePage) / 4
	s := Make[float32](n)
	if len(s) != n || cap(s) != n {
		t.Fatalf("len %d cap %d, want %d", len(s), cap(s), n)
	}
	addr := uintptr(unsafe.Pointer(&s[0]))
	if addr%hugePage != 0 {
		t.Fatalf("buffer at %#x is not 2 MiB aligned", addr)
	}
	for i := range s {
		if s[i] != 0 {
			t.Fatalf("s[%d] = %v, want 0", i, s[i])
		}
		s[i] = float32(i)
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages off on this machine (%q)", mode)
	}
	kb, err := anonHugeKB(addr)
	if err != nil {
		t.Fatal(err)
	}
	if kb < 2048 {
		t.Errorf("mapping of the buffer has %d KiB on huge pages, want at least one 2 MiB page", kb)
	}
	t.Logf("%d KiB of %d MiB on huge pages", kb, 4*n>>20)
}

func TestMakeHugeOff(t *testing.T) {
	t.Setenv(HugePagesEnv, "0")
	if HugePages() {
		t.Fatalf("%s=0 left huge pages on", HugePagesEnv)
	}
	n := HugeThreshold
	if s := Make[byte](n); len(s) != n {
		t.Fatalf("len %d, want %d", len(s), n)
	}
}

// anonHugeKB returns the AnonHugePages of the mapping holding addr, from
// /proc/self/smaps.
func anonHugeKB(addr uintptr) (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if r, _, ok := strings.Cut(line, " "); ok && strings.Contains(r, "-") && !strings.HasSuffix(r, ":") {
			lo, hi, _ := strings.Cut(r, "-")
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= a && uint64(addr) < b
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			return strconv.Atoi(strings.Fields(line)[1])
		}
	}
	return 0, sc.Err()
}
