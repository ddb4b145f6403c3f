// Package enmc models ENMC, the near-memory extreme classifier of thesis
// chapter 6 (§6.4): rank-level Screener and Executor logic on DDR4 DIMMs,
// driven by instructions the host hides in PRECHARGE commands.
//
// # Instruction set
//
// Inst is an instruction of Table 6.1; Encode and Decode map it to and
// from the 13-bit command word of Fig. 6.7 on A0–A12 (opcode A12–A8; two
// 4-bit buffer IDs, or a read/write bit and a 5-bit register), with a
// 64-bit DQ data burst for INIT and addressed LDR/STR. AppendStream and
// ParseStream are the byte format of instruction streams. Inst.Next (a
// flag in A0 of LDR/STR) is our extension: the DIMM continues the
// buffer's address stream, so the host sends no address.
//
// # Model
//
// A Task is one batch: a classes×dim FP32 classifier, a k-dim INT4
// screener and each item's candidate classes, from a trace (ReadTrace;
// RecordSynth records one from the real screening pipeline of package
// screen) or synthetic (SyntheticTask). Compile spreads the classes over
// the ranks (interleaved by default) and emits each rank's host program:
// status-register INITs, then per group of rows whose partial sums fill
// the PSUM buffer, LDRs of screener weights each followed by a
// MUL_ADD_INT4, a FILTER and a TRANSLATE. At run time TRANSLATE makes the
// instruction generator expand the group's candidates (replayed from the
// task) into Executor instructions (Plan.Expand).
//
// The rank model runs on the engine of package sim/core: a decoder
// issuing one instruction per 400 MHz cycle (generated ones first), a
// Screener and an Executor that run queued operations in order, consuming
// each weight burst as it arrives and freeing its buffer slot, and a
// DIMM-side FCFS DDR4 controller (package sim/dram) over the rank's own
// chips. Run simulates every rank, checks the invariants (cycles above the
// bandwidth and compute bounds; FP32 MACs = candidates × dim), and adds
// the host's instruction-delivery bound and DRAM and logic energy.
package enmc
