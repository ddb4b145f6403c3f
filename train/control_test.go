package train

import (
	"testing"
	"time"
)

func TestControl(t *testing.T) {
	for _, tc := range []struct {
		name      string
		c         Control
		listening bool
		want      Config
	}{
		{"defaults, listening", Control{Out: "ck"}, true,
			Config{Epochs: 3, Steps: 7, Start: Position{2, 1}, CheckpointEvery: 10 * time.Minute, LogEvery: 50}},
		{"no out: no periodic checkpoints; no listener: no reports", Control{MaxDuration: time.Second}, false,
			Config{Epochs: 3, Steps: 7, Start: Position{2, 1}, MaxDuration: time.Second, CheckpointEvery: -1}},
		{"set values kept", Control{Out: "ck", CheckpointEvery: -1, LogEvery: 5}, true,
			Config{Epochs: 3, Steps: 7, Start: Position{2, 1}, CheckpointEvery: -1, LogEvery: 5}},
	} {
		got := tc.c.WithDefaults(10*time.Minute, 50).Loop(3, 7, Position{2, 1}, tc.listening)
		if got.Epochs != tc.want.Epochs || got.Steps != tc.want.Steps || got.Start != tc.want.Start ||
			got.MaxDuration != tc.want.MaxDuration || got.CheckpointEvery != tc.want.CheckpointEvery || got.LogEvery != tc.want.LogEvery {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestDefault(t *testing.T) {
	a, b := 0, 3
	Default(&a, 7)
	Default(&b, 7)
	s := ""
	Default(&s, "sgd")
	f := 0.5
	Default(&f, 2)
	if a != 7 || b != 3 || s != "sgd" || f != 0.5 {
		t.Errorf("got %d %d %q %v, want 7 3 sgd 0.5", a, b, s, f)
	}
}
