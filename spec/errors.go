package spec

import "errors"

// Errors returned for run-time conditions. They are wrapped with context, so
// test for them with errors.Is.
var (
	// ErrNoSamples means a fit was asked for before any calibration sample
	// was seen.
	ErrNoSamples = errors.New("spec: no calibration samples")

	// ErrNotFinite means an input or target held a NaN or an infinity, or a
	// result came out non-finite.
	ErrNotFinite = errors.New("spec: non-finite value")

	// ErrSingular means the projected-input covariance (the Gram matrix of
	// the fit) is not numerically positive definite: too few samples, or
	// samples that span fewer than K directions. More samples or a positive
	// ridge fixes it.
	ErrSingular = errors.New("spec: Gram matrix not positive definite")
)
