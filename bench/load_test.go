package bench

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// StartLoad's children are live processes until Stop, and gone after it.
func TestStartLoad(t *testing.T) {
	l, err := StartLoad(2)
	if err != nil {
		t.Fatal(err)
	}
	pids := l.Pids()
	if len(pids) != 2 {
		t.Fatalf("%d children, want 2", len(pids))
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		for _, p := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", p)); err != nil {
				t.Errorf("child %d not running: %v", p, err)
			}
		}
	}
	l.Stop()
	l.Stop() // a second stop is harmless
	if len(l.Pids()) != 0 {
		t.Error("children left after Stop")
	}
	for _, n := range []int{-1, MaxLoad + 1} {
		if _, err := StartLoad(n); !errors.Is(err, ErrConfig) {
			t.Errorf("StartLoad(%d): %v, want ErrConfig", n, err)
		}
	}
}
