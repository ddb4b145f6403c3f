package enmc

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// A Task is one batch of extreme classification: a classes×dim FP32
// classifier, a classes×k INT4 screener over a k-dimensional projection,
// and the candidate classes each batch item sends to full precision.
type Task struct {
	Classes, Dim, K, Batch int
	// Candidates[b] lists item b's candidate classes, sorted, distinct.
	Candidates [][]int32
	// Source says where the candidates come from (a trace's provenance
	// line, or "synthetic uniform m=… seed=…").
	Source string
}

// Validate reports a task the compiler cannot take.
func (t *Task) Validate() error {
	switch {
	case t.Classes <= 0 || t.Dim <= 0 || t.K <= 0 || t.Batch <= 0:
		return fmt.Errorf("enmc: task: classes %d, dim %d, k %d, batch %d must be positive", t.Classes, t.Dim, t.K, t.Batch)
	case t.K > t.Dim:
		return fmt.Errorf("enmc: task: screener dimension k %d above dim %d", t.K, t.Dim)
	case t.Classes > 1<<31-1 || t.Dim > 1<<20:
		return fmt.Errorf("enmc: task: %d classes × %d dims too large", t.Classes, t.Dim)
	case len(t.Candidates) != t.Batch:
		return fmt.Errorf("enmc: task: %d candidate lists for batch %d", len(t.Candidates), t.Batch)
	}
	for b, c := range t.Candidates {
		for i, j := range c {
			if j < 0 || int(j) >= t.Classes {
				return fmt.Errorf("enmc: task: item %d candidate %d is outside %d classes (a trace from another classifier?)", b, j, t.Classes)
			}
			if i > 0 && c[i-1] >= j {
				return fmt.Errorf("enmc: task: item %d candidates not sorted and distinct at %d", b, i)
			}
		}
	}
	return nil
}

// NumCandidates is the total over the batch.
func (t *Task) NumCandidates() int {
	n := 0
	for _, c := range t.Candidates {
		n += len(c)
	}
	return n
}

// SyntheticTask returns a task whose items each have m candidates drawn
// uniformly without replacement (seeded): for scaling studies only; real
// candidate sets come from traces of screen runs.
func SyntheticTask(classes, dim, k, batch, m int, seed uint64) (*Task, error) {
	if classes <= 0 || m < 0 || m > classes {
		return nil, fmt.Errorf("enmc: %d candidates of %d classes", m, classes)
	}
	t := &Task{Classes: classes, Dim: dim, K: k, Batch: batch,
		Source: fmt.Sprintf("synthetic uniform m=%d seed=%d", m, seed)}
	if batch <= 0 || batch > 1<<16 {
		return nil, fmt.Errorf("enmc: batch %d not in 1 … 65536", batch)
	}
	rng := rand.New(rand.NewPCG(seed, 0x656e6d63))
	for range batch {
		c := make([]int32, 0, m)
		if 2*m > classes { // dense: a permutation's prefix
			for _, j := range rng.Perm(classes)[:m] {
				c = append(c, int32(j))
			}
		} else { // sparse: rejection of repeats
			set := make(map[int32]struct{}, m)
			for len(c) < m {
				j := int32(rng.IntN(classes))
				if _, dup := set[j]; !dup {
					set[j] = struct{}{}
					c = append(c, j)
				}
			}
		}
		slices.Sort(c)
		t.Candidates = append(t.Candidates, c)
	}
	return t, t.Validate()
}

// Trace format (text, one task per file):
//
//	# elastic enmc trace v1
//	task classes=<l> dim=<d> k=<k> batch=<B>
//	source <free text: the run that produced it>
//	item <b> <n> <class> <class> …      (B lines, b = 0 … B−1, n classes)
//
// Blank lines and other # lines are ignored.
const traceMagic = "# elastic enmc trace v1"

// WriteTrace writes t in the trace format.
func WriteTrace(w io.Writer, t *Task) error {
	if err := t.Validate(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\ntask classes=%d dim=%d k=%d batch=%d\nsource %s\n", traceMagic, t.Classes, t.Dim, t.K, t.Batch,
		strings.ReplaceAll(t.Source, "\n", " "))
	for b, c := range t.Candidates {
		fmt.Fprintf(bw, "item %d %d", b, len(c))
		for _, j := range c {
			bw.WriteByte(' ')
			bw.WriteString(strconv.Itoa(int(j)))
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// MaxTraceCandidates bounds a trace's total candidates.
const MaxTraceCandidates = 1 << 26

// ReadTrace parses a trace, checking it against itself (item numbers,
// counts, class range). Errors name the line.
func ReadTrace(r io.Reader) (*Task, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<28)
	t := &Task{}
	n, total, sawMagic, sawTask := 0, 0, false, false
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == traceMagic {
			sawMagic = true
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if !sawMagic {
			return nil, fmt.Errorf("enmc: trace line %d: missing %q header", n, traceMagic)
		}
		f := strings.Fields(line)
		switch f[0] {
		case "task":
			if sawTask {
				return nil, fmt.Errorf("enmc: trace line %d: second task line", n)
			}
			sawTask = true
			if err := parseTaskLine(t, f[1:]); err != nil {
				return nil, fmt.Errorf("enmc: trace line %d: %w", n, err)
			}
		case "source":
			t.Source = strings.TrimSpace(strings.TrimPrefix(line, "source"))
		case "item":
			if !sawTask {
				return nil, fmt.Errorf("enmc: trace line %d: item before the task line", n)
			}
			c, err := parseItem(f[1:], len(t.Candidates), t.Batch)
			if err != nil {
				return nil, fmt.Errorf("enmc: trace line %d: %w", n, err)
			}
			if total += len(c); total > MaxTraceCandidates {
				return nil, fmt.Errorf("enmc: trace line %d: more than %d candidates", n, MaxTraceCandidates)
			}
			t.Candidates = append(t.Candidates, c)
		default:
			return nil, fmt.Errorf("enmc: trace line %d: unknown record %q", n, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("enmc: reading trace: %w", err)
	}
	if !sawTask {
		return nil, fmt.Errorf("enmc: trace has no task line")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

func parseTaskLine(t *Task, kv []string) error {
	dst := map[string]*int{"classes": &t.Classes, "dim": &t.Dim, "k": &t.K, "batch": &t.Batch}
	seen := map[string]bool{}
	for _, p := range kv {
		k, v, ok := strings.Cut(p, "=")
		ptr, known := dst[k]
		if !ok || !known || seen[k] {
			return fmt.Errorf("task field %q: want classes=, dim=, k=, batch= once each", p)
		}
		seen[k] = true
		x, err := strconv.Atoi(v)
		if err != nil || x <= 0 || x > 1<<31-1 {
			return fmt.Errorf("task field %q: not a positive integer", p)
		}
		*ptr = x
	}
	if len(seen) != len(dst) {
		return fmt.Errorf("task line lacks a field (classes, dim, k, batch)")
	}
	if t.Batch > 1<<16 {
		return fmt.Errorf("batch %d above 65536", t.Batch)
	}
	return nil
}

func parseItem(f []string, want, batch int) ([]int32, error) {
	if len(f) < 2 {
		return nil, fmt.Errorf("item line needs an index and a count")
	}
	b, err1 := strconv.Atoi(f[0])
	cnt, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || b != want || b >= batch {
		return nil, fmt.Errorf("item %q: want item %d of batch %d", f[0], want, batch)
	}
	if cnt != len(f)-2 {
		return nil, fmt.Errorf("item %d says %s candidates, lists %d", b, f[1], len(f)-2)
	}
	c := make([]int32, cnt)
	for i, s := range f[2:] {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("item %d candidate %q: %w", b, s, err)
		}
		c[i] = int32(v)
	}
	return c, nil
}
