package main

import (
	"encoding/json"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "elastic",
		Short: "Elastic processing of neural networks: speculate, select, execute",
		Long: `elastic runs neural networks elastically: a cheap speculator (sparse random
projection + low-precision weights) guesses which outputs matter, a selector
picks them, and exact kernels compute only those.`,
		SilenceUsage:  true, // a run-time error is one line, not the usage page
		SilenceErrors: true, // main prints the error once
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newBench(stdout, stderr))
	root.AddCommand(newLM(stdout, stderr))
	root.AddCommand(newDMI(stdout, stderr))
	root.AddCommand(newDemo(stdout, stderr))
	root.AddCommand(newScreen(stdout, stderr))
	root.AddCommand(newWN(stdout, stderr))
	return root
}

// progressWriter returns stderr when it is a terminal and nil otherwise, so
// progress lines never pollute logs or CI output.
func progressWriter(stderr io.Writer) io.Writer {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return stderr
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
