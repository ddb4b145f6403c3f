package sel

import (
	"errors"
	"fmt"
	"strings"
)

// Mode names a selection rule: one enum for every part that selects, so
// dmi and screen configure the same runtime with the same words. Each part
// accepts the modes that make sense for it (ParseMode's allowed list).
type Mode int

const (
	// ModeTopK keeps a fixed share of outputs exact: n − round(ratio·n)
	// of each gate (eq. 3.19; TopK).
	ModeTopK Mode = iota
	// ModeFixed uses one threshold θ_th on the approximate outputs
	// (eq. 3.17; Threshold).
	ModeFixed
	// ModeAdaptive derives θ_th per gate from a tolerance and the gate's
	// calibration error (eq. 3.18; Adaptive).
	ModeAdaptive
	// ModeTopM keeps the M largest approximate outputs: screening's
	// candidates (§6.3.2; TopM).
	ModeTopM
	// ModeGap keeps every output within a gap of the largest (Gap).
	ModeGap
	// ModeCertified starts from the top M and grows M until a residual
	// bound proves the exact top-1 is among the candidates: a refinement
	// loop around TopM that needs exact outputs, run by package screen.
	ModeCertified
)

var modeNames = [...]string{
	ModeTopK: "topk", ModeFixed: "fixed", ModeAdaptive: "adaptive",
	ModeTopM: "topm", ModeGap: "gap", ModeCertified: "certified",
}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ErrMode reports a selection mode that is unknown or not allowed where
// it was asked for.
var ErrMode = errors.New("sel: bad selection mode")

// ParseMode returns the Mode named s if it is one of allowed (every mode
// when allowed is empty), and otherwise an error wrapping ErrMode that
// lists the allowed names.
func ParseMode(s string, allowed ...Mode) (Mode, error) {
	if len(allowed) == 0 {
		for m := range modeNames {
			allowed = append(allowed, Mode(m))
		}
	}
	names := make([]string, len(allowed))
	for i, m := range allowed {
		if m.String() == s {
			return m, nil
		}
		names[i] = m.String()
	}
	return 0, fmt.Errorf("%w: %q (want %s)", ErrMode, s, strings.Join(names, ", "))
}
