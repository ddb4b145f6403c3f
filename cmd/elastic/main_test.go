package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestHelpListsCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"--help"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	golden(t, "help.golden", out.String())
}

// Bad input must give one clear error and no usage page.
func TestBadInputIsOneLine(t *testing.T) {
	checkCLIErrors(t, []cliError{
		{[]string{"bench", "gemv", "--rows", "0"}, "--rows 0: want ≥ 1"},
		{[]string{"bench", "gemv", "--keep", "1.5"}, "--keep 1.5: want in (0, 1]"},
		{[]string{"bench", "gemv", "--rows", "abc"}, "--rows abc: not an integer"},
		{[]string{"bench", "gemv", "--nosuchflag"}, "unknown flag"},
		{[]string{"bench", "fit", "--k", "0"}, "--k 0: want ≥ 1"},
		{[]string{"bench", "gemv", "--llc-mib", "-1"}, "--llc-mib -1: want in [1, 1024]"},
		{[]string{"nosuchcommand"}, "unknown command"},
	})
}

func TestBenchGemvJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"bench", "gemv", "--rows", "64", "--cols", "48", "--reps", "2", "--llc-mib", "1", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"threads", "rows", "cols", "keep", "copy_gbps", "dense_ms", "dense_gbps", "gather_ms", "int8_ms", "int4_ms"} {
		if !strings.Contains(out.String(), `"`+key+`"`) {
			t.Errorf("JSON lacks %q:\n%s", key, out.String())
		}
	}
}

// cliError is one bad command line and a fragment its error must contain.
type cliError struct {
	args []string
	want string
}

// checkCLIErrors runs each command line and checks that it fails with a
// one-line error containing want, without printing the usage page.
func checkCLIErrors(t *testing.T, cases []cliError) {
	t.Helper()
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		err := run(tc.args, &out, &errOut)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: error %q, want one line containing %q", tc.args, msg, tc.want)
		}
		if strings.Contains(out.String()+errOut.String(), "Usage:") {
			t.Errorf("%v: printed the usage page on error", tc.args)
		}
	}
}
