package sparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/elasticml/elastic/safetensors"
)

// MaskFormat is the format tag of a mask file.
const MaskFormat = "elastic-masks/1"

// ErrMaskFile reports a mask file that is not one or does not hold what
// its header says.
var ErrMaskFile = errors.New("sparse: bad mask file")

// Masks is a set of named patterns recorded from a run — an attention
// model's predicted masks, one per example, layer and head — for the
// simulators to replay, with free-form metadata (the model, task, mode).
type Masks struct {
	Meta     map[string]string
	Names    []string
	Patterns []*Pattern
	// Checksum says whether ReadMasks verified the tensor bytes (a file
	// rewritten by other tools may carry none).
	Checksum safetensors.ChecksumStatus
}

// maskEntry is one pattern's line of the file's "patterns" metadata.
type maskEntry struct {
	Name  string `json:"name"`
	Rows  int    `json:"rows"`
	Cols  int    `json:"cols"`
	Block int    `json:"block"`
}

// The file is safetensors: pattern i's Ptr and Idx are the I32 tensors
// "i.ptr" (Rows+1) and "i.idx" (len(Idx)); the metadata holds "format"
// (MaskFormat), "patterns" (a JSON list of name, rows, cols, block, in
// order) and the caller's keys prefixed "meta.", and the checksum every
// file elastic writes carries.

// encode returns the tensors and metadata of m; it fails on an invalid
// pattern or names that do not match the patterns.
func (m *Masks) encode() ([]safetensors.Tensor, map[string]string, error) {
	if len(m.Names) != len(m.Patterns) {
		return nil, nil, fmt.Errorf("%w: %d names for %d patterns", ErrMaskFile, len(m.Names), len(m.Patterns))
	}
	entries := make([]maskEntry, len(m.Patterns))
	var ts []safetensors.Tensor
	for i, p := range m.Patterns {
		if err := p.Validate(); err != nil {
			return nil, nil, fmt.Errorf("pattern %q: %w", m.Names[i], err)
		}
		entries[i] = maskEntry{m.Names[i], p.Rows, p.Cols, p.Block}
		ts = append(ts,
			safetensors.FromInt32(fmt.Sprintf("%d.ptr", i), []int{len(p.Ptr)}, p.Ptr),
			safetensors.FromInt32(fmt.Sprintf("%d.idx", i), []int{len(p.Idx)}, p.Idx))
	}
	list, err := json.Marshal(entries)
	if err != nil {
		return nil, nil, err
	}
	meta := map[string]string{"format": MaskFormat, "patterns": string(list)}
	for k, v := range m.Meta {
		meta["meta."+k] = v
	}
	return ts, meta, nil
}

// WriteFile writes m to path.
func (m *Masks) WriteFile(path string) error {
	ts, meta, err := m.encode()
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, ts, meta)
}

// ReadMasks reads a mask file written by WriteFile: a wrong checksum is
// refused (by safetensors), every pattern is validated, and a file without
// a checksum loads with Checksum saying so.
func ReadMasks(path string) (*Masks, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := decodeMasks(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// decodeMasks rebuilds the patterns of a parsed mask file.
func decodeMasks(f *safetensors.File) (*Masks, error) {
	meta := f.Metadata()
	if meta["format"] != MaskFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrMaskFile, meta["format"], MaskFormat)
	}
	var entries []maskEntry
	dec := json.NewDecoder(bytes.NewReader([]byte(meta["patterns"])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%w: patterns list: %v", ErrMaskFile, err)
	}
	if 2*len(entries) != f.Len() {
		return nil, fmt.Errorf("%w: %d patterns listed, %d tensors", ErrMaskFile, len(entries), f.Len())
	}
	m := &Masks{Meta: map[string]string{}, Checksum: f.Checksum()}
	for k, v := range meta {
		if len(k) > 5 && k[:5] == "meta." {
			m.Meta[k[5:]] = v
		}
	}
	for i, e := range entries {
		ptr, err := int32Tensor(f, fmt.Sprintf("%d.ptr", i))
		if err != nil {
			return nil, err
		}
		idx, err := int32Tensor(f, fmt.Sprintf("%d.idx", i))
		if err != nil {
			return nil, err
		}
		p := &Pattern{Rows: e.Rows, Cols: e.Cols, Block: e.Block, Ptr: ptr, Idx: idx}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("pattern %q: %w", e.Name, err)
		}
		m.Names = append(m.Names, e.Name)
		m.Patterns = append(m.Patterns, p)
	}
	return m, nil
}

func int32Tensor(f *safetensors.File, name string) ([]int32, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMaskFile, err)
	}
	if len(t.Shape) != 1 {
		return nil, fmt.Errorf("%w: tensor %q has shape %v, want one dimension", ErrMaskFile, name, t.Shape)
	}
	v, err := t.Int32s()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMaskFile, err)
	}
	return v, nil
}
