package dsg

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/safetensors"
)

// ErrMismatch reports a checkpoint that is not a dsg model, holds another
// model than the one asked for, or whose tensors do not fit it.
var ErrMismatch = errors.New("checkpoint mismatch")

const formatName = "elastic-dsg/1"

// State is the training progress a checkpoint carries.
type State struct {
	Epoch int // the epoch in progress, from 1
	Step  int // the next batch of that epoch
	// Recipe of the run, which a resumed run keeps.
	Seed      uint64
	Batch     int
	Optimizer string
	AdamSteps int // updates Adam has taken (its bias correction needs them)
}

// optimizerPrefix marks optimizer state tensors in a checkpoint.
const optimizerPrefix = "optimizer."

// Save writes the model, the optimizer's state (nil for none) and st to
// path atomically.
func (m *Net) Save(path string, opt nn.Optimizer, st State) error {
	ts := nn.Tensors(append(m.Params(), m.Buffers()...))
	if opt != nil {
		for _, t := range nn.Tensors(opt.State()) {
			t.Name = optimizerPrefix + t.Name
			ts = append(ts, t)
		}
	}
	meta := map[string]string{
		"format":     formatName,
		"arch":       string(m.arch),
		"epoch":      strconv.Itoa(st.Epoch),
		"step":       strconv.Itoa(st.Step),
		"seed":       strconv.FormatUint(st.Seed, 10),
		"batch":      strconv.Itoa(st.Batch),
		"optimizer":  st.Optimizer,
		"adam_steps": strconv.Itoa(st.AdamSteps),
		"bn":         m.bnMeta(),
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("dsg: save %s: %w", path, err)
	}
	return nil
}

// Load reads a model written by Save and its training state. want, if
// not empty, is the model the caller expects; a checkpoint of another
// gives an error wrapping ErrMismatch, as do a file without this
// package's metadata and a missing or misshapen tensor. A NaN or infinite
// value gives an error wrapping safetensors.ErrNonFinite.
func Load(path string, want Arch) (*Net, State, *safetensors.File, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, State{}, nil, fmt.Errorf("dsg: %w", err)
	}
	m, st, err := fromFile(f, want)
	if err != nil {
		return nil, State{}, nil, fmt.Errorf("dsg: %s: %w", path, err)
	}
	return m, st, f, nil
}

func fromFile(f *safetensors.File, want Arch) (*Net, State, error) {
	meta := f.Metadata()
	if meta["format"] != formatName {
		return nil, State{}, fmt.Errorf("%w: not a dsg checkpoint (format %q, want %q)", ErrMismatch, meta["format"], formatName)
	}
	arch, err := ParseArch(meta["arch"])
	if err != nil {
		return nil, State{}, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if want != "" && arch != want {
		return nil, State{}, fmt.Errorf("%w: the checkpoint holds a %s model, not %s", ErrMismatch, arch, want)
	}
	if err := f.CheckFinite(); err != nil {
		return nil, State{}, err
	}
	var st State
	ints := []struct {
		key string
		dst *int
	}{{"epoch", &st.Epoch}, {"step", &st.Step}, {"batch", &st.Batch}, {"adam_steps", &st.AdamSteps}}
	for _, kv := range ints {
		v, err := strconv.Atoi(meta[kv.key])
		if err != nil || v < 0 {
			return nil, State{}, fmt.Errorf("%w: metadata %s=%q is not a count", ErrMismatch, kv.key, meta[kv.key])
		}
		*kv.dst = v
	}
	if st.Seed, err = strconv.ParseUint(meta["seed"], 10, 64); err != nil {
		return nil, State{}, fmt.Errorf("%w: metadata seed=%q: %w", ErrMismatch, meta["seed"], err)
	}
	st.Optimizer = meta["optimizer"]
	m, err := build(arch, 0, meta["bn"] != BNNone)
	if err != nil {
		return nil, State{}, err
	}
	if err := nn.LoadParams(f, append(m.Params(), m.Buffers()...)); err != nil {
		return nil, State{}, fmt.Errorf("%w: %s model: %w", ErrMismatch, arch, err)
	}
	return m, st, nil
}

// loadOptimizer fills opt's state from the checkpoint f.
func loadOptimizer(f *safetensors.File, opt nn.Optimizer) error {
	ps := opt.State()
	named := make([]*nn.Param, len(ps))
	for i, p := range ps {
		q := *p
		q.Name = optimizerPrefix + p.Name
		named[i] = &q
	}
	if err := nn.LoadParams(f, named); err != nil {
		return fmt.Errorf("%w: optimizer state: %w", ErrMismatch, err)
	}
	return nil
}
