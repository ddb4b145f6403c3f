package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/elasticml/elastic/kernels"
)

// A domain is the set of values a numeric flag accepts: an interval, or a
// finite set when values is not empty. Every numeric flag of every command
// is registered with one (intFlag, floatFlag, intsFlag, floatsFlag), so
// that
//
//   - an unset flag keeps its default, which may be a sentinel such as
//     --threads 0 for GOMAXPROCS;
//   - any value given on the command line, 0 included, must lie in the
//     domain, or parsing fails with an error naming the flag and the domain;
//   - NaN and ±Inf are never accepted.
type domain struct {
	lo, hi         float64
	loOpen, hiOpen bool
	values         []float64 // when set, the only values allowed
	also           []float64 // values allowed besides the interval
}

// closed is [lo, hi]; atLeast is [lo, ∞); above is (lo, ∞); unit is (0, 1);
// oneOf is a finite set.
func closed(lo, hi float64) domain { return domain{lo: lo, hi: hi} }
func atLeast(lo float64) domain    { return domain{lo: lo, hi: math.Inf(1), hiOpen: true} }
func above(lo float64) domain      { return domain{lo: lo, loOpen: true, hi: math.Inf(1), hiOpen: true} }
func oneOf(vs ...float64) domain   { return domain{values: vs} }

// The common domains: (0, 1), (0, 1], [0, 1) and every finite number.
func unitOpen() domain  { return domain{lo: 0, hi: 1, loOpen: true, hiOpen: true} }
func unitRight() domain { return domain{lo: 0, hi: 1, loOpen: true} }
func unitLeft() domain  { return domain{lo: 0, hi: 1, hiOpen: true} }
func finite() domain    { return domain{lo: math.Inf(-1), hi: math.Inf(1), loOpen: true, hiOpen: true} }

// bitWidths are the weight widths of little modules and screeners.
func bitWidths() domain { return oneOf(2, 4, 8, 16, 32) }

// threads is --threads on every command: the range kernels.NewPool
// accepts (it panics above 1<<15 workers).
func threads() domain { return closed(1, 1<<15) }

// width is a matrix width the integer kernels accept.
func width() domain { return closed(1, kernels.MaxIntCols) }

// contains reports whether v is finite and in d.
func (d domain) contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	if len(d.values) > 0 {
		return slices.Contains(d.values, v)
	}
	if slices.Contains(d.also, v) {
		return true
	}
	return (v > d.lo || !d.loOpen && v == d.lo) && (v < d.hi || !d.hiOpen && v == d.hi)
}

func (d domain) String() string {
	num := func(v float64) string {
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatFloat(v, 'f', -1, 64) // 1048576, not 1.048576e+06
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if len(d.values) > 0 {
		s := make([]string, len(d.values))
		for i, v := range d.values {
			s[i] = num(v)
		}
		return "one of " + strings.Join(s, ", ")
	}
	var s string
	switch {
	case math.IsInf(d.lo, -1) && math.IsInf(d.hi, 1):
		s = "a finite number"
	case math.IsInf(d.hi, 1) && d.loOpen:
		s = "> " + num(d.lo)
	case math.IsInf(d.hi, 1):
		s = "≥ " + num(d.lo)
	default:
		l, r := "[", "]"
		if d.loOpen {
			l = "("
		}
		if d.hiOpen {
			r = ")"
		}
		s = "in " + l + num(d.lo) + ", " + num(d.hi) + r
	}
	for _, v := range d.also {
		s = num(v) + " or " + s
	}
	return s
}

var errNotFinite = errors.New("NaN and ±Inf are not accepted")

// flagError is a value outside its flag's domain. pflag wraps it in an
// InvalidValueError; the root command's flag-error function unwraps it, so
// the user reads "--threads 0: want in [1, 32768]".
type flagError struct {
	flag, value string
	err         error
}

func (e *flagError) Error() string { return fmt.Sprintf("--%s %s: %v", e.flag, e.value, e.err) }
func (e *flagError) Unwrap() error { return e.err }

// unwrapFlagError is the root's cobra FlagErrorFunc.
func unwrapFlagError(_ *cobra.Command, err error) error {
	if fe, ok := errors.AsType[*flagError](err); ok {
		return fe
	}
	return err
}

// parse checks one value given on the command line.
func (d domain) parse(s string, integer bool) (float64, error) {
	var v float64
	if integer {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("not an integer; want %v", d)
		}
		v = float64(n)
	} else {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return 0, fmt.Errorf("not a number; want %v", d)
		case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
			return 0, fmt.Errorf("%w; want %v", errNotFinite, d)
		}
		v = f
	}
	if !d.contains(v) {
		return 0, fmt.Errorf("want %v", d)
	}
	return v, nil
}

// intValue is an int or int64 flag restricted to a domain.
type intValue[T int | int64] struct {
	p    *T
	d    domain
	name string
}

func (v intValue[T]) Set(s string) error {
	x, err := v.d.parse(s, true)
	if err != nil {
		return &flagError{v.name, s, err}
	}
	*v.p = T(x)
	return nil
}
func (v intValue[T]) String() string { return strconv.FormatInt(int64(*v.p), 10) }
func (v intValue[T]) Type() string   { return "int" }

// floatValue is a float64 flag restricted to a domain.
type floatValue struct {
	p    *float64
	d    domain
	name string
}

func (v floatValue) Set(s string) error {
	x, err := v.d.parse(s, false)
	if err != nil {
		return &flagError{v.name, s, err}
	}
	*v.p = x
	return nil
}
func (v floatValue) String() string { return strconv.FormatFloat(*v.p, 'g', -1, 64) }
func (v floatValue) Type() string   { return "float" }

// sliceValue is a comma-separated list flag whose every element lies in a
// domain; as with pflag's slices, the first use replaces the default and
// later uses append.
type sliceValue[T int | float64] struct {
	p       *[]T
	d       domain
	name    string
	changed bool
}

func (v *sliceValue[T]) Set(s string) error {
	var out []T
	for _, f := range strings.Split(s, ",") {
		var zero T
		_, integer := any(zero).(int)
		x, err := v.d.parse(f, integer)
		if err != nil {
			return &flagError{v.name, f, err}
		}
		out = append(out, T(x))
	}
	if !v.changed {
		*v.p = nil
		v.changed = true
	}
	*v.p = append(*v.p, out...)
	return nil
}

func (v *sliceValue[T]) String() string { return "[" + strings.Join(v.GetSlice(), ",") + "]" }

// GetSlice gives the elements as strings, like pflag's slices.
func (v *sliceValue[T]) GetSlice() []string {
	s := make([]string, len(*v.p))
	for i, x := range *v.p {
		s[i] = fmt.Sprint(x)
	}
	return s
}

func (v *sliceValue[T]) Type() string {
	var zero T
	if _, ok := any(zero).(int); ok {
		return "ints"
	}
	return "floats"
}

// intFlag, floatFlag, intsFlag and floatsFlag define flags whose values
// given on the command line must lie in d; def is kept when the flag is
// not given and need not lie in d (a sentinel such as 0 for "automatic").
func intFlag[T int | int64](fs *pflag.FlagSet, p *T, name string, def T, d domain, usage string) {
	*p = def
	fs.Var(intValue[T]{p, d, name}, name, usage+" ("+d.String()+")")
}

func floatFlag(fs *pflag.FlagSet, p *float64, name string, def float64, d domain, usage string) {
	*p = def
	fs.Var(floatValue{p, d, name}, name, usage+" ("+d.String()+")")
}

func intsFlag(fs *pflag.FlagSet, p *[]int, name string, def []int, d domain, usage string) {
	*p = def
	fs.Var(&sliceValue[int]{p: p, d: d, name: name}, name, usage+" (each "+d.String()+")")
}

func floatsFlag(fs *pflag.FlagSet, p *[]float64, name string, def []float64, d domain, usage string) {
	*p = def
	fs.Var(&sliceValue[float64]{p: p, d: d, name: name}, name, usage+" (each "+d.String()+")")
}

// threadsFlag is --threads, the same on every command: unset, the pool
// takes GOMAXPROCS workers.
func threadsFlag(fs *pflag.FlagSet, p *int) {
	intFlag(fs, p, "threads", 0, threads(), "worker threads (default GOMAXPROCS)")
}

// choiceValue is a string flag restricted to a finite set of words.
type choiceValue struct {
	p       *string
	choices []string
	name    string
}

func (v choiceValue) Set(s string) error {
	if !slices.Contains(v.choices, s) {
		return &flagError{v.name, s, fmt.Errorf("want one of %s", strings.Join(v.choices, ", "))}
	}
	*v.p = s
	return nil
}
func (v choiceValue) String() string { return *v.p }
func (v choiceValue) Type() string   { return "string" }

// choiceFlag defines a string flag whose value given on the command line
// must be one of choices.
func choiceFlag(fs *pflag.FlagSet, p *string, name, def string, choices []string, usage string) {
	*p = def
	fs.Var(choiceValue{p, choices, name}, name, usage+" ("+strings.Join(choices, ", ")+")")
}
