// Package sparse holds the selection pattern that elastic's selectors
// produce and its sparse executors, trainers and simulators consume: for
// each row of a rows×cols matrix, the ascending columns kept — an
// attention query's keys (chapter 7), a sample's critical neurons
// (chapter 4), a layer's sensitive outputs (one row; chapter 3) — in
// compressed-row form, optionally as 1×4 or 1×8 column blocks (§7.5.1).
//
// # Overview
//
// Pattern is plain data (Ptr, Idx, Block) so kernels can take its slices
// directly; Validate checks every invariant a kernel relies on, and the
// constructors (FromLists, FromRowTopK) validate what they build. Masks
// recorded from real runs for the simulators are Patterns.
//
// In the runtime (package speculate) a Pattern is what a Selector chose,
// kept for consumers that need more than one index list.
package sparse
