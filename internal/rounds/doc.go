// Package rounds is the timing loop behind bench.MeasureRounds and
// clsmetrics.Task.Time: operations called interleaved, round by round, each
// call timed on a clock the caller passes, so that their tests can drive a
// fake clock and assert exact times instead of wall-clock bounds.
package rounds
