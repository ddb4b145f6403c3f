// Package sim is the root of elastic's accelerator simulators.
//
// The simulators share one core (package sim/core): clock domains with
// exact cycle conversion, a deterministic cycle/event engine, SRAM buffers
// with banks and ports, energy tables that carry their technology node and
// source, and statistics. On top of it:
//
//   - sim/dram: a DDR4 timing and energy model (JEDEC timing constraints,
//     an open-page FR-FCFS controller with a bounded request queue, refresh,
//     per-command energy from datasheet IDD currents, selectable address
//     mappings).
//   - sim/enmc: the ENMC near-memory classifier of thesis chapter 6 (§6.4):
//     its 13-bit PRECHARGE-borne instruction set, a compiler from
//     screening tasks to per-rank instruction streams, and a rank-level
//     Screener/Executor model over the DDR4 model, replaying candidate
//     traces.
//   - sim/nmp: the near-memory baselines ENMC is compared with (NDA,
//     Chameleon, TensorDIMM, TensorDIMM-Large) on the same core and DDR4
//     model, and the experiments of thesis Fig. 6.12–6.14.
//
// The command `elastic sim` drives them; docs/results/enmc-sim.md records
// what exists and its measured outputs.
package sim
