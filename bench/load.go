package bench

import (
	"fmt"
	"os/exec"
)

// MaxLoad is the most busy-loop processes StartLoad starts.
const MaxLoad = 64

// Load is a set of CPU-bound child processes started by StartLoad.
type Load struct{ cmds []*exec.Cmd }

// StartLoad starts n CPU-bound child processes (shell busy loops), so that
// a benchmark can be measured on a machine that is not idle, as a user's
// rarely is. n = 0 starts none. The children are killed by Stop, and by the
// kernel if this process dies first (Linux).
func StartLoad(n int) (*Load, error) {
	if n < 0 || n > MaxLoad {
		return nil, fmt.Errorf("%w: load %d outside [0, %d]", ErrConfig, n, MaxLoad)
	}
	l := &Load{}
	for range n {
		c := exec.Command("/bin/sh", "-c", "while :; do :; done")
		c.SysProcAttr = loadAttr()
		if err := c.Start(); err != nil {
			l.Stop()
			return nil, fmt.Errorf("bench: starting a load process: %w", err)
		}
		l.cmds = append(l.cmds, c)
	}
	return l, nil
}

// Pids returns the children's process IDs.
func (l *Load) Pids() []int {
	p := make([]int, len(l.cmds))
	for i, c := range l.cmds {
		p[i] = c.Process.Pid
	}
	return p
}

// Stop kills the children and waits for them; a second call does nothing.
func (l *Load) Stop() {
	for _, c := range l.cmds {
		_ = c.Process.Kill()
		_ = c.Wait()
	}
	l.cmds = nil
}
