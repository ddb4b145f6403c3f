package attn

import (
	"fmt"

	"github.com/elasticml/elastic/corpus"
	"github.com/elasticml/elastic/lra"
)

// Data is a task's data: Single for the one-sequence tasks, Pairs for
// Retrieval.
type Data struct {
	Single *lra.Task
	Pairs  *lra.PairTask
}

// LoadData builds the data of c's task (c with defaults): ListOps from its
// generator, Text and Retrieval from the KJV (bible-kjv-text), Image from
// Fashion-MNIST (dataset-fashion-mnist). A missing data package gives the
// lra, corpus or fmnist error naming the package to install.
func LoadData(c Config) (*Data, error) {
	switch c.Task {
	case "listops":
		lc := lra.DefaultListOps(c.DataSeed)
		lc.MinLen, lc.MaxLen = c.MinLength, c.Length
		if c.Examples != [3]int{} {
			lc.Sizes = c.Examples
		}
		t, err := lra.ListOps(lc)
		if err != nil {
			return nil, fmt.Errorf("attn: %w", err)
		}
		return &Data{Single: t}, nil
	case "text", "retrieval":
		verses, err := corpus.ReadVerses(c.Data.KJV)
		if err != nil {
			return nil, fmt.Errorf("attn: %s task: %w", c.Task, err)
		}
		if c.Task == "text" {
			tc := lra.DefaultText(c.DataSeed)
			tc.Bytes = c.Length
			t, err := lra.Text(verses, tc)
			if err != nil {
				return nil, fmt.Errorf("attn: %w", err)
			}
			return &Data{Single: t}, nil
		}
		rc := lra.DefaultRetrieval(c.DataSeed)
		rc.Bytes = c.Length
		if c.Examples != [3]int{} {
			rc.Pairs = c.Examples
		}
		t, err := lra.Retrieval(verses, rc)
		if err != nil {
			return nil, fmt.Errorf("attn: %w", err)
		}
		return &Data{Pairs: t}, nil
	case "image":
		t, err := lra.Image(c.Data.FMNIST)
		if err != nil {
			return nil, fmt.Errorf("attn: %w", err)
		}
		return &Data{Single: t}, nil
	}
	return nil, fmt.Errorf("%w: unknown task %q, want one of %v", ErrConfig, c.Task, Tasks)
}

// Vocab, Classes and MaxLen are the task's.
func (d *Data) Vocab() int {
	if d.Pairs != nil {
		return d.Pairs.Vocab
	}
	return d.Single.Vocab
}

// Classes is the number of classes.
func (d *Data) Classes() int {
	if d.Pairs != nil {
		return d.Pairs.Classes
	}
	return d.Single.Classes
}

// MaxLen is the longest sequence of the task.
func (d *Data) MaxLen() int {
	if d.Pairs != nil {
		return d.Pairs.MaxLen
	}
	return d.Single.MaxLen
}

// Len returns the number of examples of split s.
func (d *Data) Len(s lra.Split) int {
	if d.Pairs != nil {
		return len(d.Pairs.Split(s))
	}
	return len(d.Single.Split(s))
}

// batch is one step's input: the sequences back to back (for pairs, the
// first sides in ids/lens and the second in ids2/lens2) and the labels.
type batch struct {
	ids, ids2   []int32
	lens, lens2 []int
	labels      []int32
}

// gather sets b to examples idx of split s.
func (d *Data) gather(b *batch, s lra.Split, idx []int) {
	b.ids, b.ids2, b.lens, b.lens2, b.labels = b.ids[:0], b.ids2[:0], b.lens[:0], b.lens2[:0], b.labels[:0]
	if d.Pairs != nil {
		ps := d.Pairs.Split(s)
		for _, i := range idx {
			p := ps[i]
			b.ids, b.lens = append(b.ids, p.A...), append(b.lens, len(p.A))
			b.ids2, b.lens2 = append(b.ids2, p.B...), append(b.lens2, len(p.B))
			b.labels = append(b.labels, p.Label)
		}
		return
	}
	es := d.Single.Split(s)
	for _, i := range idx {
		e := es[i]
		b.ids, b.lens = append(b.ids, e.Tokens...), append(b.lens, len(e.Tokens))
		b.labels = append(b.labels, e.Label)
	}
}
