package main

import (
	"os"
	"runtime/debug"

	"github.com/elasticml/elastic/budget"
)

// setMemoryLimit gives the Go runtime a soft memory limit of 80% of the
// machine's RAM unless GOMEMLIMIT is set. The default collector lets the
// heap grow to twice what is live before it runs, so `bench screen
// --classes 10000000 --half`, whose weights alone take 10 GB, reached 21.7
// GB on this 24 GB machine; under the limit the collector runs earlier
// instead. The same limit is what budget.Check refuses estimates above.
func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if total := budget.MemTotal(); total > 0 {
		debug.SetMemoryLimit(total / 100 * 80)
	}
}
