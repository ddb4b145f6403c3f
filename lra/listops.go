package lra

import (
	"errors"
	"fmt"
	"github.com/elasticml/elastic/budget"
	"math/rand/v2"
	"slices"
	"strings"
)

// ListOps token ids: the digits 0–9 are themselves, then the four
// operators (each an opening bracket fused with its name, as LRA writes
// "[MAX") and the closing bracket.
const (
	TokMin   int32 = 10 + iota // "[MIN"
	TokMax                     // "[MAX"
	TokMed                     // "[MED"
	TokSum                     // "[SM": sum modulo 10
	TokClose                   // "]"

	ListOpsVocab   = 15
	ListOpsClasses = 10
)

var listOpsNames = [...]string{TokMin - 10: "[MIN", TokMax - 10: "[MAX", TokMed - 10: "[MED", TokSum - 10: "[SM", TokClose - 10: "]"}

// ErrListOps reports a malformed ListOps expression.
var ErrListOps = errors.New("lra: malformed ListOps expression")

// ListOpsConfig sets the generator's grammar and the data set's size.
// DefaultListOps gives LRA's grammar (lra_benchmarks/data/listops.py):
// the root at depth 1, a node below MaxDepth 10 a digit with probability
// 3/4 and otherwise an operator over 2–10 subtrees, and lengths (tokens,
// brackets included) strictly between 500 and 2000, i.e. MinLen 501 and
// MaxLen 1999 here, where both bounds are inclusive.
type ListOpsConfig struct {
	Seed           uint64
	Sizes          [3]int // expressions in train, valid and test
	MinLen, MaxLen int
	MaxDepth       int
	MaxArgs        int
	LeafProb       float64
	// MaxTries bounds the draws per expression kept, so a length range
	// the grammar (almost) never reaches fails instead of running on.
	MaxTries int
}

// DefaultListOps returns LRA's grammar with 20000/2000/2000 expressions
// (LRA has 96000 training expressions; the planned models see fewer than
// 20000 in their step budget, docs/results/attention-tasks.md).
func DefaultListOps(seed uint64) ListOpsConfig {
	return ListOpsConfig{Seed: seed, Sizes: [3]int{20000, 2000, 2000}, MinLen: 501, MaxLen: 1999,
		MaxDepth: 10, MaxArgs: 10, LeafProb: 0.75, MaxTries: 2000}
}

func (c ListOpsConfig) validate() error {
	if c.Sizes[0] < 1 || c.Sizes[1] < 1 || c.Sizes[2] < 1 || c.MinLen < 1 || c.MaxLen < c.MinLen ||
		c.MaxDepth < 1 || c.MaxArgs < 2 || !(c.LeafProb >= 0 && c.LeafProb < 1) || c.MaxTries < 1 {
		return fmt.Errorf("lra: ListOps config %+v: want positive Sizes, 1 ≤ MinLen ≤ MaxLen, MaxDepth ≥ 1, MaxArgs ≥ 2, LeafProb in [0, 1), MaxTries ≥ 1", c)
	}
	// Each kept expression holds up to MaxLen int32 tokens and its text in
	// the set of those seen: refuse sizes (a crafted checkpoint's, say)
	// whose data would not fit before generating any of it.
	n := budget.Add(budget.Mul(c.Sizes[0]), budget.Mul(c.Sizes[1]), budget.Mul(c.Sizes[2]))
	if err := budget.Check(fmt.Sprintf("lra: ListOps: %v expressions of up to %d tokens", c.Sizes, c.MaxLen),
		budget.Mul(int(min(n, 1<<40)), 5*min(c.MaxLen, 1<<30)+96)); err != nil {
		return err
	}
	return nil
}

// ListOps generates the ListOps task: expressions drawn from the grammar
// of cfg, kept if their length is within [MinLen, MaxLen] and they differ
// from every expression kept before, each labelled with its value. As in
// LRA, one stream of distinct expressions is cut into train, valid and
// test, so no expression is in two splits. The draws come from the PCG
// stream cfg.Seed, so the same seed gives the same data set.
func ListOps(cfg ListOpsConfig) (*Task, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	total := cfg.Sizes[0] + cfg.Sizes[1] + cfg.Sizes[2]
	ex, err := genListOps(cfg, total, rand.New(rand.NewPCG(cfg.Seed, 0x6c6973746f7073)))
	if err != nil {
		return nil, fmt.Errorf("lra: ListOps: %w", err)
	}
	t := &Task{Name: "listops", Vocab: ListOpsVocab, Classes: ListOpsClasses, MaxLen: cfg.MaxLen}
	n0, n1 := cfg.Sizes[0], cfg.Sizes[0]+cfg.Sizes[1]
	t.Train, t.Valid, t.Test = ex[:n0:n0], ex[n0:n1:n1], ex[n1:]
	return t, nil
}

func genListOps(cfg ListOpsConfig, n int, rng *rand.Rand) ([]Example, error) {
	out := make([]Example, 0, n)
	seen := make(map[string]bool, n)
	var buf []int32
	for tries := 0; len(out) < n; tries++ {
		if tries >= cfg.MaxTries*n {
			return nil, fmt.Errorf("only %d of %d distinct expressions of %d–%d tokens after %d draws", len(out), n, cfg.MinLen, cfg.MaxLen, tries)
		}
		var ok bool
		buf, ok = genTree(rng, buf[:0], 1, cfg)
		if !ok || len(buf) < cfg.MinLen {
			continue
		}
		key := FormatListOps(buf)
		if seen[key] {
			continue
		}
		seen[key] = true
		v, err := EvalListOps(buf)
		if err != nil {
			return nil, fmt.Errorf("generated an expression that does not evaluate: %w", err)
		}
		out = append(out, Example{Tokens: slices.Clone(buf), Label: int32(v)})
	}
	return out, nil
}

// genTree appends one random subtree at depth to dst, as LRA's
// generate_tree: below MaxDepth a node is a digit with probability
// LeafProb, else an operator over 2–MaxArgs subtrees; at MaxDepth it is a
// digit. It gives up (ok false) as soon as dst exceeds MaxLen, so that a
// draw that will be rejected costs at most MaxLen tokens.
func genTree(rng *rand.Rand, dst []int32, depth int, cfg ListOpsConfig) ([]int32, bool) {
	if depth >= cfg.MaxDepth || rng.Float64() < cfg.LeafProb {
		dst = append(dst, int32(rng.IntN(10)))
		return dst, len(dst) <= cfg.MaxLen
	}
	args := 2 + rng.IntN(cfg.MaxArgs-1)
	dst = append(dst, TokMin+int32(rng.IntN(4)))
	for range args {
		var ok bool
		if dst, ok = genTree(rng, dst, depth+1, cfg); !ok {
			return dst, false
		}
	}
	dst = append(dst, TokClose)
	return dst, len(dst) <= cfg.MaxLen
}

// EvalListOps returns the value of a tokenised expression: a digit, or an
// operator, one or more arguments and a closing bracket. MIN and MAX are
// as named, MED is the median rounded down (LRA's int(np.median)), SM the
// sum modulo 10. It works with an explicit stack, so nesting depth costs
// no Go stack. Malformed input gives an error wrapping ErrListOps.
func EvalListOps(tokens []int32) (int, error) {
	type frame struct {
		op   int32
		args []int
	}
	var stack []frame
	result, done := 0, false
	for i, t := range tokens {
		if done {
			return 0, fmt.Errorf("%w: token %d follows the end of the expression", ErrListOps, i)
		}
		var v int
		switch {
		case t >= 0 && t <= 9:
			v = int(t)
		case t >= TokMin && t <= TokSum:
			stack = append(stack, frame{op: t})
			continue
		case t == TokClose:
			if len(stack) == 0 {
				return 0, fmt.Errorf("%w: token %d closes no bracket", ErrListOps, i)
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(f.args) == 0 {
				return 0, fmt.Errorf("%w: token %d closes an operator with no arguments", ErrListOps, i)
			}
			v = apply(f.op, f.args)
		default:
			return 0, fmt.Errorf("%w: token %d is %d, not a ListOps token", ErrListOps, i, t)
		}
		if len(stack) == 0 {
			result, done = v, true
		} else {
			top := &stack[len(stack)-1]
			top.args = append(top.args, v)
		}
	}
	if !done {
		if len(stack) > 0 {
			return 0, fmt.Errorf("%w: %d unclosed brackets", ErrListOps, len(stack))
		}
		return 0, fmt.Errorf("%w: empty expression", ErrListOps)
	}
	return result, nil
}

func apply(op int32, a []int) int {
	switch op {
	case TokMin:
		return slices.Min(a)
	case TokMax:
		return slices.Max(a)
	case TokMed:
		s := slices.Sorted(slices.Values(a))
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return (s[n/2-1] + s[n/2]) / 2 // non-negative, so / rounds down as int() does
	}
	sum := 0
	for _, v := range a {
		sum += v
	}
	return sum % 10
}

// ParseListOps tokenises an expression written as LRA writes it, tokens
// separated by white space ("[MAX 2 9 [MIN 4 7 ] 0 ]"); LRA's files also
// wrap every subtree in parentheses, which are accepted and dropped. It
// checks only the tokens; EvalListOps checks the structure.
func ParseListOps(s string) ([]int32, error) {
	var out []int32
	for i, f := range strings.Fields(s) {
		switch {
		case f == "(" || f == ")":
			continue
		case len(f) == 1 && f[0] >= '0' && f[0] <= '9':
			out = append(out, int32(f[0]-'0'))
		default:
			k := slices.Index(listOpsNames[:], f)
			if k < 0 {
				return nil, fmt.Errorf("%w: field %d is %.20q", ErrListOps, i, f)
			}
			out = append(out, TokMin+int32(k))
		}
	}
	return out, nil
}

// FormatListOps writes tokens as ParseListOps reads them. It panics on a
// token that is not a ListOps token.
func FormatListOps(tokens []int32) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case t >= 0 && t <= 9:
			b.WriteByte(byte('0' + t))
		case t >= TokMin && t <= TokClose:
			b.WriteString(listOpsNames[t-TokMin])
		default:
			panic(fmt.Sprintf("lra: FormatListOps: token %d", t))
		}
	}
	return b.String()
}

// ParseListOpsLine parses one line of LRA's TSV layout, "label<TAB>expression",
// checking that the label is a digit and equals the expression's value.
func ParseListOpsLine(line string) (Example, error) {
	lab, expr, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "\t")
	if !ok {
		return Example{}, fmt.Errorf("%w: no tab between label and expression in %.40q", ErrListOps, line)
	}
	lab = strings.TrimSpace(lab)
	if len(lab) != 1 || lab[0] < '0' || lab[0] > '9' {
		return Example{}, fmt.Errorf("%w: label %.10q is not a digit", ErrListOps, lab)
	}
	toks, err := ParseListOps(expr)
	if err != nil {
		return Example{}, err
	}
	v, err := EvalListOps(toks)
	if err != nil {
		return Example{}, err
	}
	if v != int(lab[0]-'0') {
		return Example{}, fmt.Errorf("%w: label %s but the expression evaluates to %d", ErrListOps, lab, v)
	}
	return Example{Tokens: toks, Label: int32(v)}, nil
}
