package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/elasticml/elastic/attn"
)

// attnMACsRow is one line of `attn macs`.
type attnMACsRow struct {
	Task  string    `json:"task"`
	Keep  float64   `json:"keep"`
	Sigma float64   `json:"sigma,omitempty"`
	MACs  attn.MACs `json:"macs"`
	Total int64     `json:"total"`
}

func newAttnMACs(stdout io.Writer) *cobra.Command {
	var (
		tasks  []string
		keeps  []float64
		sigma  float64
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "macs",
		Short: "Count the MACs of the planned models, dense and with DSA (Fig. 7.7's split)",
		Long: `macs counts the multiply-accumulates of one example's forward pass of each
task's planned model (docs/results/attention-tasks.md) at its full length,
split as thesis Fig. 7.7 does — linear layers, attention, the DSA predictor,
the classifier head — densely (keep 1) and at each --keep share of the
query–key entries with a predictor of width --sigma. Counts, not timings.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := attnMACs(tasks, keeps, sigma)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, rows)
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "task\tkeep\tlinear M\tattention M\tpredictor M\thead M\ttotal M\tattention share\t")
			for _, r := range rows {
				m := r.MACs
				fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t%.1f\t%.1f\t%.2f\t%.1f\t%.0f%%\t\n", r.Task, r.Keep, mega(m.Linear), mega(m.Attention), mega(m.Predictor), mega(m.Other), mega(r.Total), 100*float64(m.Attention+m.Predictor)/float64(r.Total))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&tasks, "task", attn.Tasks, "tasks to count")
	floatsFlag(f, &keeps, "keep", []float64{1, 0.05}, unitRight(), "shares of the query–key entries kept (1 = dense)")
	floatFlag(f, &sigma, "sigma", 0.25, unitRight(), "DSA predictor width σ = k_p/d_head")
	f.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// attnMACs counts every task × keep.
func attnMACs(tasks []string, keeps []float64, sigma float64) ([]attnMACsRow, error) {
	var rows []attnMACsRow
	for _, t := range tasks {
		c, err := attn.Plan(t)
		if err != nil {
			return nil, err
		}
		classes, err := attn.TaskClasses(t)
		if err != nil {
			return nil, err
		}
		for _, k := range keeps {
			m, err := attn.CountMACs(c, classes, k, sigma)
			if err != nil {
				return nil, err
			}
			r := attnMACsRow{Task: t, Keep: k, MACs: m, Total: m.Total()}
			if k < 1 {
				r.Sigma = sigma
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

func mega(n int64) float64 { return float64(n) / 1e6 }
