// Command elastic is the command-line front end of the elastic toolkit:
// speculate → select → execute for neural-network inference and training.
//
// Usage:
//
//	elastic <command> [flags]
//
// Run `elastic --help` for the list of commands. The command is a thin
// layer over the library: each subcommand parses flags, calls one library
// function and prints its result as a table or, with --json, as JSON.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	setMemoryLimit()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "elastic:", err)
		os.Exit(1)
	}
}

// run executes the command line args, writing results to stdout and
// progress to stderr. It never prints usage on a run-time error.
func run(args []string, stdout, stderr io.Writer) error {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	return root.Execute()
}
