// Package core is the shared core of elastic's accelerator simulators:
// clock domains and cycle accounting (Clock, Convert), a deterministic
// engine that advances components on the cycles of their clock domains and
// fires timed events (Engine), SRAM buffers with banks and ports (SRAM),
// energy tables whose every entry records its technology node, source and
// whether the number is published or assumed (EnergyTable, Ledger), and
// statistics with the invariants every simulator must satisfy (Counters,
// CheckBounds, Utilisation).
//
// Determinism: the engine orders simultaneous work by registration and
// scheduling order, never by map iteration or wall-clock time, so the same
// inputs give the same cycles.
//
// In the runtime (package speculate) the simulators replay what the
// runtime's selectors chose on our real models (candidate sets, masks).
package core
