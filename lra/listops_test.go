package lra

import (
	"errors"
	"math"
	"slices"
	"sort"
	"testing"
)

func TestEvalListOps(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want int
	}{
		{"7", 7},
		{"[MAX 2 9 ]", 9},
		{"[MIN 4 7 1 8 ]", 1},
		{"[MED 3 1 2 ]", 2},
		{"[MED 1 4 ]", 2},     // median 2.5 rounds down
		{"[MED 9 8 ]", 8},     // 8.5
		{"[MED 5 1 7 2 ]", 3}, // sorted 1 2 5 7: 3.5
		{"[SM 9 9 9 ]", 7},    // 27 mod 10
		{"[SM 5 5 ]", 0},
		{"[MAX 2 9 [MIN 4 7 ] 0 ]", 9},
		{"[MIN [MAX 1 2 ] [SM 8 5 ] [MED 9 9 6 ] ]", 2},          // min(2, 3, 9)
		{"[SM [SM 9 9 ] [MAX 0 0 ] 4 ]", 2},                      // 8+0+4 = 12
		{"( ( [MAX 2 ) 9 ) ]", 9},                                // LRA's parentheses are dropped
		{"[MED [MIN 3 8 ] [MAX 3 8 ] [SM 3 8 ] [MED 3 8 ] ]", 4}, // args 3 8 1 5: sorted 1 3 5 8, (3+5)/2
	} {
		toks, err := ParseListOps(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		got, err := EvalListOps(toks)
		if err != nil || got != tc.want {
			t.Errorf("%s = %d, %v; want %d", tc.expr, got, err, tc.want)
		}
	}
}

func TestEvalListOpsErrors(t *testing.T) {
	for _, expr := range []string{
		"", "]", "[MAX ]", "[MAX 1 2", "[MAX 1 2 ] ]", "1 2", "[MAX 1 ] 3",
	} {
		toks, err := ParseListOps(expr)
		if err != nil {
			t.Fatalf("%q does not tokenise: %v", expr, err)
		}
		if _, err := EvalListOps(toks); !errors.Is(err, ErrListOps) {
			t.Errorf("%q: got %v, want ErrListOps", expr, err)
		}
	}
	if _, err := EvalListOps([]int32{TokMax, 3, 99, TokClose}); !errors.Is(err, ErrListOps) {
		t.Errorf("token 99: got %v, want ErrListOps", err)
	}
	for _, expr := range []string{"[MAXX 1 ]", "10", "[max 1 2 ]", "x"} {
		if _, err := ParseListOps(expr); !errors.Is(err, ErrListOps) {
			t.Errorf("%q: got %v, want ErrListOps", expr, err)
		}
	}
	for _, line := range []string{"[MAX 1 2 ]", "3\t[MAX 1 2 ]", "12\t[MAX 1 2 ]", "x\t5", "2\t[MAX 1 2"} {
		if _, err := ParseListOpsLine(line); !errors.Is(err, ErrListOps) {
			t.Errorf("line %q: got %v, want ErrListOps", line, err)
		}
	}
	if ex, err := ParseListOpsLine("2\t[MAX 1 2 ]\n"); err != nil || ex.Label != 2 || len(ex.Tokens) != 4 {
		t.Errorf("good line: %+v, %v", ex, err)
	}
}

// refEval is a recursive evaluator written independently of EvalListOps
// (recursion instead of a stack, sort.Ints instead of slices), for
// checking the generated labels.
func refEval(t []int32, i int) (v, next int) {
	if t[i] <= 9 {
		return int(t[i]), i + 1
	}
	op := t[i]
	var args []int
	i++
	for t[i] != TokClose {
		var a int
		a, i = refEval(t, i)
		args = append(args, a)
	}
	sort.Ints(args)
	switch op {
	case TokMin:
		return args[0], i + 1
	case TokMax:
		return args[len(args)-1], i + 1
	case TokMed:
		if len(args)%2 == 1 {
			return args[len(args)/2], i + 1
		}
		return int(float64(args[len(args)/2-1]+args[len(args)/2]) / 2), i + 1
	}
	s := 0
	for _, a := range args {
		s += a
	}
	return s % 10, i + 1
}

func TestListOpsGenerated(t *testing.T) {
	cfg := DefaultListOps(42)
	cfg.Sizes = [3]int{30, 20, 10}
	task, err := ListOps(cfg)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[int32]int{}
	seen := map[string]bool{}
	for s := Train; s <= Test; s++ {
		ex := task.Split(s)
		if len(ex) != cfg.Sizes[s] {
			t.Fatalf("%s: %d examples, want %d", s, len(ex), cfg.Sizes[s])
		}
		for i, e := range ex {
			if n := len(e.Tokens); n <= 500 || n >= 2000 {
				t.Errorf("%s %d: %d tokens, not strictly between 500 and 2000", s, i, n)
			}
			if seen[FormatListOps(e.Tokens)] {
				t.Errorf("%s %d: expression drawn twice", s, i)
			}
			seen[FormatListOps(e.Tokens)] = true
			if e.Tokens[0] < TokMin || e.Tokens[0] > TokSum || e.Tokens[len(e.Tokens)-1] != TokClose {
				t.Errorf("%s %d: does not start with an operator and end with ]", s, i)
			}
			v, next := refEval(e.Tokens, 0)
			if next != len(e.Tokens) || int32(v) != e.Label {
				t.Errorf("%s %d: label %d, reference evaluator %d (read %d of %d tokens)", s, i, e.Label, v, next, len(e.Tokens))
			}
			labels[e.Label]++
			back, err := ParseListOps(FormatListOps(e.Tokens))
			if err != nil || !slices.Equal(back, e.Tokens) {
				t.Errorf("%s %d: format/parse round trip differs (%v)", s, i, err)
			}
		}
	}
	if len(labels) < 5 {
		t.Errorf("labels %v: fewer than 5 distinct values in 60 expressions", labels)
	}
}

func TestListOpsDeterministic(t *testing.T) {
	eq := func(a, b *Task) bool {
		for s := Train; s <= Test; s++ {
			if !slices.EqualFunc(a.Split(s), b.Split(s), func(x, y Example) bool {
				return x.Label == y.Label && slices.Equal(x.Tokens, y.Tokens)
			}) {
				return false
			}
		}
		return true
	}
	small := func(seed uint64) ListOpsConfig {
		c := DefaultListOps(seed)
		c.Sizes = [3]int{10, 5, 5}
		return c
	}
	a, err1 := ListOps(small(7))
	b, err2 := ListOps(small(7))
	c, err3 := ListOps(small(8))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if !eq(a, b) {
		t.Error("the same seed gave different data")
	}
	if eq(a, c) {
		t.Error("seeds 7 and 8 gave the same data")
	}
}

func TestListOpsConfigErrors(t *testing.T) {
	for _, c := range []ListOpsConfig{
		{},
		func() ListOpsConfig { c := DefaultListOps(1); c.MaxLen = 100; return c }(),
		func() ListOpsConfig { c := DefaultListOps(1); c.LeafProb = 1; return c }(),
		func() ListOpsConfig { c := DefaultListOps(1); c.MaxArgs = 1; return c }(),
		func() ListOpsConfig { c := DefaultListOps(1); c.Sizes[2] = 0; return c }(),
	} {
		if _, err := ListOps(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	// A length range the grammar cannot reach within the draws allowed.
	c := DefaultListOps(1)
	c.Sizes = [3]int{1, 1, 1}
	c.MaxDepth, c.MinLen, c.MaxTries = 2, 500, 5
	if _, err := ListOps(c); err == nil {
		t.Error("unreachable length range accepted")
	}
}

func FuzzParseListOpsLine(f *testing.F) {
	for _, s := range []string{"2\t[MAX 1 2 ]", "9\t( ( [MAX 2 ) 9 ) ]", "0\t[SM 5 5 ]", "\t", "3\t[MED 1 [MIN", "1\t] ]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ex, err := ParseListOpsLine(line)
		if err != nil {
			if !errors.Is(err, ErrListOps) {
				t.Fatalf("error %v does not wrap ErrListOps", err)
			}
			return
		}
		v, next := refEval(ex.Tokens, 0)
		if next != len(ex.Tokens) || int32(v) != ex.Label {
			t.Fatalf("accepted %q with label %d, reference evaluator %d", line, ex.Label, v)
		}
		if _, err := ParseListOpsLine(string('0'+byte(ex.Label)) + "\t" + FormatListOps(ex.Tokens)); err != nil {
			t.Fatalf("formatted line does not parse: %v", err)
		}
	})
}

// TestListOpsStatistics logs the length and label distribution of 1000
// expressions per split (docs/results/attention-tasks.md quotes them) and
// checks that every label occurs.
func TestListOpsStatistics(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 3000 expressions")
	}
	cfg := DefaultListOps(1)
	cfg.Sizes = [3]int{1000, 1, 1}
	task, err := ListOps(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var labels [ListOpsClasses]int
	var sum, lo, hi int
	var sq float64 // Σl², which sets the attention FLOPs of a batch
	lo = 1 << 30
	for _, e := range task.Train {
		labels[e.Label]++
		n := len(e.Tokens)
		sum += n
		sq += float64(n) * float64(n)
		lo, hi = min(lo, n), max(hi, n)
	}
	for c, n := range labels {
		if n == 0 {
			t.Errorf("label %d never occurs in 1000 training expressions", c)
		}
	}
	m := float64(len(task.Train))
	t.Logf("train lengths: mean %.0f, root mean square %.0f, min %d, max %d; labels 0–9: %v", float64(sum)/m, math.Sqrt(sq/m), lo, hi, labels)
}
