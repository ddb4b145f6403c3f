// Package nmp models the near-memory baselines thesis chapter 6 compares
// ENMC with (§6.5.2, Table 6.4): NDA, Chameleon, TensorDIMM and
// TensorDIMM-Large, each running the same screening-based classification
// as ENMC (an INT4 screener over a k-dimensional projection, then the
// candidates at full precision) on homogeneous FP32 compute units.
//
// A Design says where its units sit — at a rank (the rank's own chips
// through its own controller, every rank in parallel) or at a DIMM (the
// DIMM's ranks share its 64-bit bus) — and, for units in data-buffer
// chips, that each sees only its 8-bit lane of every burst; its dataflow
// (a SIMD vector unit, a CGRA of single-operation FUs, or an
// output-stationary systolic array); and its buffers (features,
// streamed operands, partial sums). Run compiles a task (package
// sim/enmc) into one program of DRAM reads, writes and compute per DRAM
// stream and simulates every stream on the engine of package sim/core
// against the DDR4 model of package sim/dram, checking that no stream
// beats its bandwidth or compute bound and that exactly candidates × dim
// FP32 MACs run at full precision. Energy is DRAM (IDD currents) plus the
// design's Table 6.4 power over the run.
//
// Compare runs ENMC and every baseline on one workload and relates them
// to a measured CPU (package screen's benchmark) and to the modelled
// Xeon 8280; Figures writes the chapter's Fig. 6.12–6.14 from such runs.
package nmp
