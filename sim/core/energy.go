package core

import (
	"fmt"
	"sort"
)

// An Energy is one operation's energy with its provenance.
type Energy struct {
	Op     string
	PJ     float64 // picojoules per operation
	NodeNM int     // technology node the number belongs to, in nm
	Source string  // where the number comes from
	// Published is true when PJ is a number printed in Source; false when
	// it is derived from one by an assumption stated in Source.
	Published bool
}

// An EnergyTable maps operation names to energies.
type EnergyTable struct {
	Name    string
	entries map[string]Energy
	order   []string
}

// NewEnergyTable returns a table of the given entries. Names must be
// unique, energies finite and non-negative, and every entry must name its
// source and node.
func NewEnergyTable(name string, entries ...Energy) (*EnergyTable, error) {
	t := &EnergyTable{Name: name, entries: make(map[string]Energy, len(entries))}
	for _, e := range entries {
		if err := t.add(e); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *EnergyTable) add(e Energy) error {
	switch {
	case e.Op == "":
		return fmt.Errorf("core: energy table %q: entry without a name", t.Name)
	case !(e.PJ >= 0) || e.PJ > 1e15:
		return fmt.Errorf("core: energy table %q: %s = %v pJ is not a finite non-negative energy", t.Name, e.Op, e.PJ)
	case e.Source == "" || e.NodeNM <= 0:
		return fmt.Errorf("core: energy table %q: %s has no source or technology node", t.Name, e.Op)
	}
	if _, dup := t.entries[e.Op]; dup {
		return fmt.Errorf("core: energy table %q: %s listed twice", t.Name, e.Op)
	}
	t.entries[e.Op] = e
	t.order = append(t.order, e.Op)
	return nil
}

// Lookup returns the energy of op.
func (t *EnergyTable) Lookup(op string) (Energy, error) {
	e, ok := t.entries[op]
	if !ok {
		return Energy{}, fmt.Errorf("core: energy table %q has no entry %q", t.Name, op)
	}
	return e, nil
}

// Entries returns the entries in the order given.
func (t *EnergyTable) Entries() []Energy {
	out := make([]Energy, len(t.order))
	for i, op := range t.order {
		out[i] = t.entries[op]
	}
	return out
}

// Scaled returns a table at node nm whose energies are t's times factor,
// each marked as not published, with the assumption appended to its
// source. Constant-field (Dennard-style) scaling is not exact for any
// pair of nodes, so the caller states the factor and why.
func (t *EnergyTable) Scaled(name string, nm int, factor float64, why string) (*EnergyTable, error) {
	if !(factor > 0) || why == "" {
		return nil, fmt.Errorf("core: scaling table %q: need a positive factor and a reason", t.Name)
	}
	out := &EnergyTable{Name: name, entries: make(map[string]Energy, len(t.order))}
	for _, op := range t.order {
		e := t.entries[op]
		e.PJ *= factor
		e.Source = fmt.Sprintf("%s (%d nm), scaled ×%.3g to %d nm: %s", e.Source, e.NodeNM, factor, nm, why)
		e.NodeNM = nm
		e.Published = false
		if err := out.add(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Horowitz45 returns the operation energies M. Horowitz published for a
// 45 nm process ("Computing's energy problem (and what we can do about
// it)", ISSCC 2014, rough energy costs at 45 nm, 0.9 V): integer and
// floating-point add and multiply, SRAM reads of a 64-bit word, and a
// 64-bit DRAM access (the lower end of his 1.3–2.6 nJ range).
func Horowitz45() *EnergyTable {
	const src = "Horowitz, ISSCC 2014, 45 nm"
	p := func(op string, pj float64) Energy {
		return Energy{Op: op, PJ: pj, NodeNM: 45, Source: src, Published: true}
	}
	t, err := NewEnergyTable("horowitz45",
		p("int8_add", 0.03), p("int32_add", 0.1),
		p("int8_mul", 0.2), p("int32_mul", 3.1),
		p("fp16_add", 0.4), p("fp32_add", 0.9),
		p("fp16_mul", 1.1), p("fp32_mul", 3.7),
		p("sram8k_read64", 10), p("sram32k_read64", 20), p("sram1m_read64", 100),
		p("dram_read64", 1300),
	)
	if err != nil {
		panic(err) // a constant table; covered by tests
	}
	return t
}

// A Ledger accumulates energy by category from an EnergyTable.
type Ledger struct {
	t  *EnergyTable
	pj map[string]float64
}

// NewLedger returns an empty ledger over t.
func NewLedger(t *EnergyTable) *Ledger { return &Ledger{t: t, pj: map[string]float64{}} }

// Charge adds n operations op to category cat.
func (l *Ledger) Charge(cat, op string, n int64) error {
	e, err := l.t.Lookup(op)
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("core: charging %d × %s", n, op)
	}
	l.pj[cat] += e.PJ * float64(n)
	return nil
}

// AddPJ adds a computed energy (e.g. background power × time) to cat.
func (l *Ledger) AddPJ(cat string, pj float64) { l.pj[cat] += pj }

// PJ returns category cat's total.
func (l *Ledger) PJ(cat string) float64 { return l.pj[cat] }

// Total returns the sum over categories.
func (l *Ledger) Total() float64 {
	s := 0.0
	for _, c := range l.Categories() {
		s += l.pj[c]
	}
	return s
}

// Categories returns the category names, sorted.
func (l *Ledger) Categories() []string {
	out := make([]string, 0, len(l.pj))
	for c := range l.pj {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
