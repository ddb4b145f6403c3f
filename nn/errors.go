package nn

import "errors"

// ErrNonFinite reports a NaN or infinite parameter.
var ErrNonFinite = errors.New("non-finite value")
