// Package report renders experiment results the way docs/results records
// them: Markdown tables with the command that produced them, and PNG line
// plots (through gonum/plot) where a curve says more than a table.
//
// # Overview
//
// A Table is a header and rows of already formatted cells; Markdown writes
// it as a GitHub table. Plot draws one or more series of (x, y) points
// on shared axes and saves a PNG; Bars draws grouped or stacked bars over
// categorical labels. Both are deliberately small: the numbers
// come from the experiment code, and this package only lays them out.
package report
