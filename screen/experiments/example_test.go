package experiments_test

import (
	"fmt"
	"log"

	"github.com/elasticml/elastic/screen/experiments"
)

// Compare screening at two budgets with the full classifier on a small
// synthetic workload.
func ExampleCompare() {
	w := experiments.SynthConfig{Classes: 1000, Dim: 32, Seed: 1, Calib: 500, Tests: 20}
	r, err := experiments.Compare(experiments.Config{
		Workload: "synth", Load: w.Load, Threads: 1, Seed: 1, Reps: 1,
		Methods: []string{experiments.MethodFull, experiments.MethodScreen},
		Ms:      []int{8, 1000}, Bits: 4, KRatio: 0.25,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The last budget screens every class, so it is the full classifier.
	last := r.Rows[len(r.Rows)-1]
	fmt.Printf("%d rows; %s %s: top-1 agreement %.2f, coverage %.2f\n", len(r.Rows), last.Label(), last.Budget, last.Top1, last.Screen.Coverage)
	// Output: 3 rows; screen m=1000: top-1 agreement 1.00, coverage 1.00
}
