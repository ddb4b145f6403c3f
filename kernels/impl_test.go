package kernels

import (
	"os"
	"testing"
)

// make test runs the suite once per instruction-set level and names the
// implementation each run must select in ELASTIC_WANT_IMPL, so that a
// GODEBUG the kernels ignored, or a build tag lost, fails instead of
// testing the native path twice.
func TestImplIsTheLevelAskedFor(t *testing.T) {
	t.Logf("kernels: %s", Impl())
	if want := os.Getenv("ELASTIC_WANT_IMPL"); want != "" && Impl() != want {
		t.Errorf("Impl() = %q, want %q (ELASTIC_WANT_IMPL)", Impl(), want)
	}
}
