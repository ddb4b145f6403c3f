package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elasticml/elastic/nn"
)

// logTask records every call Run makes, and can fail, diverge or cancel.
type logTask struct {
	calls  []string
	losses map[[2]int]float64 // loss of (epoch, step); 1 if absent
	scores []float64          // Validate's score per epoch
	cancel func()
	stopAt int // steps after which cancel is called
	steps  int
	failOn string // the call that returns an error
}

var errTask = errors.New("task failed")

func (l *logTask) log(format string, a ...any) error {
	c := fmt.Sprintf(format, a...)
	l.calls = append(l.calls, c)
	if l.failOn != "" && strings.HasPrefix(c, l.failOn) {
		return errTask
	}
	return nil
}

func (l *logTask) BeginEpoch(e int) error { return l.log("begin %d", e) }
func (l *logTask) Loss(e, s int) (float64, error) {
	if err := l.log("loss %d.%d", e, s); err != nil {
		return 0, err
	}
	if v, ok := l.losses[[2]int{e, s}]; ok {
		return v, nil
	}
	return 1, nil
}
func (l *logTask) Update(e, s int) error {
	l.steps++
	if l.cancel != nil && l.steps == l.stopAt {
		l.cancel()
	}
	return l.log("update %d.%d", e, s)
}
func (l *logTask) Validate(e int) (float64, error) {
	return l.scores[e-1], l.log("validate %d", e)
}
func (l *logTask) Report(s Status) error {
	if s.EpochEnd {
		return l.log("end %d done %d/%d loss %g score %g best %g improved %v", s.Epoch, s.Done, s.Total, s.Loss, s.Score, s.Best, s.Improved)
	}
	return l.log("report %d.%d done %d/%d loss %g", s.Epoch, s.Step, s.Done, s.Total, s.Loss)
}
func (l *logTask) Save(c Checkpoint) error {
	kind := map[Kind]string{Periodic: "periodic", EpochEnd: "epoch-end", Best: "best", Stopped: "stopped"}[c.Kind]
	return l.log("save %s %d.%d best %g", kind, c.Pos.Epoch, c.Pos.Step, c.Best)
}

func TestRunOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		task  *logTask
		want  []string
		res   Result
		check func(*testing.T, *logTask)
	}{
		{
			name: "two epochs, lower is better, reports every 2 steps and at the epoch's last",
			cfg:  Config{Epochs: 2, Steps: 3, LogEvery: 2, ReportEpochLast: true, Goal: Lower, Best: math.Inf(1)},
			task: &logTask{scores: []float64{5, 6}, losses: map[[2]int]float64{{1, 0}: 3, {1, 1}: 5, {1, 2}: 4}},
			want: []string{
				"begin 1", "loss 1.0", "update 1.0", "loss 1.1", "update 1.1", "report 1.2 done 2/6 loss 4",
				"loss 1.2", "update 1.2", "report 1.3 done 3/6 loss 4",
				"validate 1", "save best 2.0 best 5", "end 1 done 3/6 loss 4 score 5 best 5 improved true", "save epoch-end 2.0 best 5",
				"begin 2", "loss 2.0", "update 2.0", "loss 2.1", "update 2.1", "report 2.2 done 5/6 loss 1",
				"loss 2.2", "update 2.2", "report 2.3 done 6/6 loss 1",
				"validate 2", "end 2 done 6/6 loss 1 score 6 best 5 improved false", "save epoch-end 3.0 best 5",
			},
			res: Result{Pos: Position{3, 0}, Best: 5, Done: 6},
		},
		{
			name: "resume mid-epoch, higher is better, no reports",
			cfg:  Config{Epochs: 2, Steps: 3, Start: Position{1, 2}, Goal: Higher, Best: 0.5},
			task: &logTask{scores: []float64{0.4, 0.7}},
			want: []string{
				"begin 1", "loss 1.2", "update 1.2",
				"validate 1", "end 1 done 1/4 loss 1 score 0.4 best 0.5 improved false", "save epoch-end 2.0 best 0.5",
				"begin 2", "loss 2.0", "update 2.0", "loss 2.1", "update 2.1", "loss 2.2", "update 2.2",
				"validate 2", "save best 3.0 best 0.7", "end 2 done 4/4 loss 1 score 0.7 best 0.7 improved true", "save epoch-end 3.0 best 0.7",
			},
			res: Result{Pos: Position{3, 0}, Best: 0.7, Done: 4},
		},
		{
			name: "resumed at an epoch's end: validation only",
			cfg:  Config{Epochs: 1, Steps: 2, Start: Position{1, 2}},
			task: &logTask{scores: []float64{1}},
			want: []string{"begin 1", "validate 1", "end 1 done 0/0 loss 0 score 1 best 0 improved false", "save epoch-end 2.0 best 0"},
			res:  Result{Pos: Position{2, 0}},
		},
		{
			name: "a finished run does nothing",
			cfg:  Config{Epochs: 2, Steps: 2, Start: Position{3, 0}},
			task: &logTask{},
			res:  Result{Pos: Position{3, 0}},
		},
		{
			name: "periodic checkpoints after every step",
			cfg:  Config{Epochs: 1, Steps: 2, CheckpointEvery: 1},
			task: &logTask{scores: []float64{1}},
			want: []string{"begin 1", "loss 1.0", "update 1.0", "save periodic 1.1 best 0", "loss 1.1", "update 1.1", "save periodic 1.2 best 0",
				"validate 1", "end 1 done 2/2 loss 1 score 1 best 0 improved false", "save epoch-end 2.0 best 0"},
			res: Result{Pos: Position{2, 0}, Done: 2},
		},
		{
			name: "a negative deadline is none",
			cfg:  Config{Epochs: 1, Steps: 1, MaxDuration: -1},
			task: &logTask{scores: []float64{1}},
			want: []string{"begin 1", "loss 1.0", "update 1.0", "validate 1", "end 1 done 1/1 loss 1 score 1 best 0 improved false", "save epoch-end 2.0 best 0"},
			res:  Result{Pos: Position{2, 0}, Done: 1},
		},
		{
			name: "deadline stops before the first step",
			cfg:  Config{Epochs: 3, Steps: 4, Start: Position{2, 1}, MaxDuration: 1, Goal: Lower, Best: 2},
			task: &logTask{},
			want: []string{"begin 2", "save stopped 2.1 best 2"},
			res:  Result{Stopped: true, Pos: Position{2, 1}, Best: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(context.Background(), tc.cfg, tc.task)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tc.task.calls, tc.want) {
				t.Errorf("calls\n%s\nwant\n%s", strings.Join(tc.task.calls, "\n"), strings.Join(tc.want, "\n"))
			}
			if r.Stopped != tc.res.Stopped || r.Pos != tc.res.Pos || r.Best != tc.res.Best || r.Done != tc.res.Done {
				t.Errorf("result %+v, want %+v", *r, tc.res)
			}
		})
	}
}

// Cancelling the context stops the run at the next step with a Stopped
// checkpoint at that step, and the Result says where to resume.
func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	task := &logTask{scores: []float64{1, 1, 1}, cancel: cancel, stopAt: 5}
	r, err := Run(ctx, Config{Epochs: 3, Steps: 3}, task)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Stopped || r.Pos != (Position{2, 2}) || r.Done != 5 {
		t.Errorf("result %+v, want stopped at epoch 2 step 2 after 5 steps", *r)
	}
	if last := task.calls[len(task.calls)-1]; last != "save stopped 2.2 best 0" {
		t.Errorf("last call %q", last)
	}
}

func TestRunDiverged(t *testing.T) {
	p := nn.NewParam("w", 2)
	for _, tc := range []struct {
		loss    float64
		bad     bool // w holds a NaN
		wantMsg string
	}{
		{math.NaN(), false, "lm: epoch 1 window 1: loss NaN: training diverged"},
		{math.Inf(1), true, "lm: epoch 1 window 1: loss +Inf: training diverged: "},
	} {
		p.Data[1] = 0
		if tc.bad {
			p.Data[1] = float32(math.NaN())
		}
		task := &logTask{losses: map[[2]int]float64{{1, 1}: tc.loss}}
		_, err := Run(context.Background(), Config{Epochs: 1, Steps: 3, Name: "lm", StepName: "window", Params: []*nn.Param{p}}, task)
		if !errors.Is(err, ErrDiverged) || !strings.HasPrefix(err.Error(), tc.wantMsg) {
			t.Errorf("loss %v: error %v, want one starting %q", tc.loss, err, tc.wantMsg)
		}
		if tc.bad != errors.Is(err, nn.ErrNonFinite) {
			t.Errorf("loss %v: error %v: the non-finite parameter named %v, want %v", tc.loss, err, !tc.bad, tc.bad)
		}
		if last := task.calls[len(task.calls)-1]; last != "loss 1.1" {
			t.Errorf("loss %v: last call %q, want no update after the diverged loss", tc.loss, last)
		}
	}
}

// An error from any task method ends the run with it.
func TestRunTaskErrors(t *testing.T) {
	for _, call := range []string{"begin", "loss", "update", "validate", "report", "save best", "save epoch-end", "save periodic", "save stopped"} {
		cfg := Config{Epochs: 1, Steps: 2, LogEvery: 1, Goal: Lower, Best: math.Inf(1), CheckpointEvery: 1}
		if call == "save stopped" {
			cfg.MaxDuration = 1
		}
		_, err := Run(context.Background(), cfg, &logTask{scores: []float64{1}, failOn: call})
		if !errors.Is(err, errTask) {
			t.Errorf("%s failing: error %v", call, err)
		}
	}
}

func TestRunBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Epochs: 1, Steps: 0},
		{Epochs: -1, Steps: 1},
		{Epochs: 1, Steps: 1, LogEvery: -1},
		{Epochs: 1, Steps: 1, Start: Position{1, -1}},
	} {
		if _, err := Run(context.Background(), cfg, &logTask{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: error %v, want ErrConfig", cfg, err)
		}
	}
}

func TestETA(t *testing.T) {
	s := Status{Done: 4, Total: 10}
	if got := s.ETA(8); got != 12 {
		t.Errorf("ETA %v, want 12ns", got)
	}
	if got := (Status{Total: 10}).ETA(8); got != 0 {
		t.Errorf("ETA before the first step %v, want 0", got)
	}
}

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
