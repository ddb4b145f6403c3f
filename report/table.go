package report

import (
	"fmt"
	"io"
	"strings"
)

// Table is a titled grid of formatted cells.
type Table struct {
	Title   string // optional; written as a bold line above the table
	Command string // optional; the command that reproduces the table
	Header  []string
	Rows    [][]string
	Notes   []string // optional lines written below the table
}

// AddRow appends a row, formatting each value with %v, or with the verb of
// a preceding format string when the value is a Cell.
func (t *Table) AddRow(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = format(c)
	}
	t.Rows = append(t.Rows, row)
}

// Cell formats a value with an explicit verb, e.g. Cell{"%.2f", 3.14159}.
type Cell struct {
	Format string
	Value  any
}

func format(c any) string {
	switch v := c.(type) {
	case Cell:
		return fmt.Sprintf(v.Format, v.Value)
	case string:
		return v
	case float64:
		return fmt.Sprintf("%.4g", v)
	case float32:
		return fmt.Sprintf("%.4g", v)
	default:
		return fmt.Sprint(v)
	}
}

// Markdown writes t as a GitHub-flavoured Markdown table. It returns an
// error if a row's width differs from the header's.
func (t *Table) Markdown(w io.Writer) error {
	for i, r := range t.Rows {
		if len(r) != len(t.Header) {
			return fmt.Errorf("report: table %q row %d has %d cells, header has %d", t.Title, i, len(r), len(t.Header))
		}
	}
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "**%s**\n\n", t.Title)
	}
	if t.Command != "" {
		fmt.Fprintf(&b, "    %s\n\n", t.Command)
	}
	writeRow(&b, t.Header)
	sep := make([]string, len(t.Header))
	for i := range sep {
		sep[i] = "---"
	}
	writeRow(&b, sep)
	for _, r := range t.Rows {
		writeRow(&b, r)
	}
	for _, n := range t.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(strings.ReplaceAll(c, "|", `\|`))
		b.WriteString(" |")
	}
	b.WriteString("\n")
}
