package budget

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMul(t *testing.T) {
	for _, c := range []struct {
		xs   []int
		want int64
	}{
		{nil, 1},
		{[]int{3, 4, 5}, 60},
		{[]int{1 << 31, 1 << 31}, 1 << 62},
		{[]int{1 << 32, 1 << 32}, math.MaxInt64},         // 2^64 overflows
		{[]int{1 << 62, 2}, math.MaxInt64},               // 2^63 > MaxInt64
		{[]int{math.MaxInt, math.MaxInt}, math.MaxInt64}, // wraps in int
		{[]int{-1, 5}, math.MaxInt64},                    // invalid sizes are huge
		{[]int{0, math.MaxInt}, 0},
	} {
		if got := Mul(c.xs...); got != c.want {
			t.Errorf("Mul(%v) = %d, want %d", c.xs, got, c.want)
		}
	}
	if got := Add(math.MaxInt64-1, 2); got != math.MaxInt64 {
		t.Errorf("Add overflow = %d", got)
	}
	if got := Add(1, 2, 3); got != 6 {
		t.Errorf("Add(1,2,3) = %d", got)
	}
}

func TestCheck(t *testing.T) {
	if err := check("--n 10", 100, 100); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	err := check("--n 1000000 × --d 1000000", 4e12, 8<<30)
	if !errors.Is(err, ErrMemory) {
		t.Fatalf("over the limit: %v", err)
	}
	for _, want := range []string{"--n 1000000 × --d 1000000", "3725.3 GiB", "8.0 GiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 5); err != nil || string(b) != "hello" {
		t.Errorf("ReadFile at the cap = %q, %v", b, err)
	}
	if _, err := ReadFile(p, 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
	if _, err := ReadFile(dir, 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Errorf("directory: %v", err)
	}
	if _, err := ReadFile("/dev/zero", 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadAll(strings.NewReader("abcdef"), 5); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadAll over the cap: %v", err)
	}
	if b, err := ReadAll(strings.NewReader("abcde"), 5); err != nil || string(b) != "abcde" {
		t.Errorf("ReadAll at the cap = %q, %v", b, err)
	}
}
