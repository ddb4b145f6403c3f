package corpus

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/elasticml/elastic/budget"
)

// Issue 11: --data /dev/zero read the device whole and grew to 13 GB.
// Devices, pipes and oversized files are refused before they are read.
func TestReadVersesBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.data")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxDataBytes + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct {
		path string
		want error
	}{
		{"/dev/zero", budget.ErrNotRegular},
		{t.TempDir(), budget.ErrNotRegular},
		{big, budget.ErrTooLarge},
		{filepath.Join(t.TempDir(), "missing"), ErrMissing},
	} {
		if _, err := ReadVerses(tc.path); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.path, err, tc.want)
		}
	}
}
