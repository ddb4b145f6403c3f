// Package bench measures elastic's kernels the way the project reports them:
// against the machine's own memory bandwidth and against our strongest dense
// path, in one process, with weights cold.
//
// # Overview
//
// A decoder step or a classifier layer streams its weights once per token,
// so its speed is bounded by memory bandwidth, not arithmetic. Timing such a
// kernel on a matrix that sits in the last-level cache (260 MiB on some
// servers) would report cache bandwidth instead. Every benchmark here
// therefore rotates through enough copies of its operands to exceed the
// last-level cache, measures a STREAM-style copy bandwidth in the same run,
// and reports the median of many repetitions with the minimum and maximum.
// Where copies cannot be made for every structure a method touches (a
// graph index, a factorisation), an Evictor streams a buffer of twice the
// last-level cache before each timed call instead (MeasureRoundsWith).
//
// In the runtime (package speculate) bench times the parts against the
// strongest dense baseline, cold, in one process.
package bench
