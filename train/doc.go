// Package train is elastic's one training loop: the run control that the
// language model (lm), the synset classifier (wordnet) and the
// Fashion-MNIST classifiers of dynamic sparse graph training (dsg) share.
//
// # Where it sits
//
// A model package owns its model, data, optimizer and checkpoint format
// (safetensors, CRC-checked, written by its checkpoint.go). It hands the
// loop a Task — prepare an epoch, compute a step's loss, apply the
// update, validate, report, save — and Run owns everything around it:
// the epochs × steps iteration from a resume Position, the deadline
// (Config.MaxDuration) and context cancellation, which stop cleanly with
// a checkpoint, periodic checkpoints every Config.CheckpointEvery, the
// divergence check (a NaN or infinite loss stops with an error wrapping
// ErrDiverged that names the first non-finite parameter), progress
// cadence, timing and ETA, and best-validation tracking. The layers and
// optimizers come from package nn; the speculate → select → execute
// runtime (package speculate) runs inside a Task's steps, for DSG's sparse
// training, and is not this package's concern.
//
// Run is deterministic given the Task: it draws nothing itself, so a
// resumed run repeats an uninterrupted one when the Task restores its
// state from the checkpoint.
package train
