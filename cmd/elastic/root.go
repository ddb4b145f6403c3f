package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/elasticml/elastic/train"
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
	root.SetFlagErrorFunc(unwrapFlagError)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newBench(stdout, stderr))
	root.AddCommand(newLM(stdout, stderr))
	root.AddCommand(newDMI(stdout, stderr))
	root.AddCommand(newDemo(stdout, stderr))
	root.AddCommand(newScreen(stdout, stderr))
	root.AddCommand(newWN(stdout, stderr))
	root.AddCommand(newSim(stdout, stderr))
	root.AddCommand(newDSG(stdout, stderr))
	root.AddCommand(newAttn(stdout, stderr))
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

// writeJSON prints v as indented JSON, or nothing and an error: encoding
// goes to a buffer first, so a NaN or infinity that slipped past the
// checks gives one clear line, not half an object.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		if _, ok := errors.AsType[*json.UnsupportedValueError](err); ok {
			return fmt.Errorf("the result holds a value JSON cannot carry (%w); the run's numbers are not finite", err)
		}
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// epochBar draws a training run's progress on a terminal: one bar, made at
// the first report when the total is known, and a full line at the end of
// each epoch. The trainers' progress types differ; this is their one bar.
type epochBar struct {
	bar *progressbar.ProgressBar
}

func (b *epochBar) update(w io.Writer, total, done int, epochEnd bool, endLine, desc string) {
	if b.bar == nil {
		b.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	if epochEnd {
		b.bar.Clear()
		fmt.Fprintln(w, endLine)
	}
	b.bar.Describe(desc)
	b.bar.Set(done)
}

// trainProgress returns a training command's progress callback: on a
// terminal, an epochBar whose state bar gives (and *logEvery set to 5 for
// its smoother updates); elsewhere, line(p) on its own line per report.
func trainProgress[P any](stderr io.Writer, logEvery *int, line func(P) string,
	bar func(P) (total, done int, epochEnd bool, desc string)) func(P) {
	w := progressWriter(stderr)
	if w == nil {
		return func(p P) { fmt.Fprintln(stderr, line(p)) }
	}
	*logEvery = 5
	var b epochBar
	return func(p P) {
		total, done, end, desc := bar(p)
		b.update(w, total, done, end, line(p), desc)
	}
}

// runControl is the run control of a training command's flags: minutes
// as durations, and --checkpoint-minutes 0 as checkpoints at epoch ends
// only (zero means the library's default).
func runControl(out, best string, maxMinutes, ckptMinutes float64, logEvery int) train.Control {
	c := train.Control{Out: out, BestOut: best, LogEvery: logEvery,
		MaxDuration:     time.Duration(maxMinutes * float64(time.Minute)),
		CheckpointEvery: time.Duration(ckptMinutes * float64(time.Minute)),
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = -1
	}
	return c
}
