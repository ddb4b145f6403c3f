package lra

import (
	"errors"
	"runtime/debug"
	"testing"

	"github.com/elasticml/elastic/budget"
)

// Sizes read from a file (a checkpoint's configuration) can ask for more
// data than memory holds: both builders refuse them before building any,
// with the budget's error.
func TestSizesWithinMemory(t *testing.T) {
	old := debug.SetMemoryLimit(1 << 30)
	defer debug.SetMemoryLimit(old)
	lc := DefaultListOps(1)
	lc.Sizes = [3]int{1 << 40, 1, 1}
	if _, err := ListOps(lc); !errors.Is(err, budget.ErrMemory) {
		t.Errorf("ListOps of %v expressions: %v, want ErrMemory", lc.Sizes, err)
	}
	lc.Sizes = [3]int{2000, 10, 10} // about 20 MB: fine
	if err := lc.validate(); err != nil {
		t.Errorf("ListOps of %v expressions: %v", lc.Sizes, err)
	}
	rc := DefaultRetrieval(1)
	rc.Pairs = [3]int{1 << 40, 2, 2}
	if _, err := Retrieval(nil, rc); !errors.Is(err, budget.ErrMemory) {
		t.Errorf("Retrieval of %v pairs: %v, want ErrMemory", rc.Pairs, err)
	}
}
