package dmi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/nn"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/spec"
)

// formatName marks files written by Save.
const formatName = "elastic-dmi/1"

// Save writes the little modules to a safetensors file. Per layer l it
// stores dmi.l<l>.wx and dmi.l<l>.wh (the codes of W̃_x and W̃_h: I8 for
// INT8, packed U8 rows for INT4 and INT2, F32 for INT16 codes and for
// FP32 weights), their row scales dmi.l<l>.wx.scale and dmi.l<l>.wh.scale,
// the bias dmi.l<l>.b and the adaptive filter's |δ| dmi.l<l>.delta. The
// projections are not stored: the metadata holds the seed and shapes that
// regenerate them, and a hash of each that Load checks.
func (s *Set) Save(path string) error {
	meta := map[string]string{
		"format":      formatName,
		"cell":        s.Cell.String(),
		"layers":      strconv.Itoa(len(s.Layers)),
		"bits":        strconv.Itoa(int(s.Bits)),
		"eps":         strconv.FormatFloat(s.Eps, 'g', -1, 64),
		"seed":        strconv.FormatUint(s.Seed, 10),
		"fingerprint": s.Fingerprint,
		"sparsity":    strconv.FormatFloat(rproj.DefaultSparsity, 'g', -1, 64),
	}
	var ts []safetensors.Tensor
	for l, lt := range s.Layers {
		p := fmt.Sprintf("dmi.l%d.", l)
		for _, h := range []struct {
			name string
			s    *spec.Speculator
		}{{"x", lt.X}, {"h", lt.H}} {
			meta[fmt.Sprintf("l%d.k%s", l, h.name)] = strconv.Itoa(h.s.K)
			meta[fmt.Sprintf("l%d.d%s", l, h.name)] = strconv.Itoa(h.s.P.D())
			meta[fmt.Sprintf("l%d.p%s", l, h.name)] = ternaryHash(ternaryOf(h.s))
			ts = append(ts, weightTensors(p+"w"+h.name, h.s)...)
		}
		meta[fmt.Sprintf("l%d.mse", l)] = strconv.FormatFloat(lt.MSE, 'g', -1, 64)
		meta[fmt.Sprintf("l%d.zero_mse", l)] = strconv.FormatFloat(lt.ZeroMSE, 'g', -1, 64)
		delta := make([]float32, len(lt.Delta))
		for i, v := range lt.Delta {
			delta[i] = float32(v)
		}
		ts = append(ts,
			safetensors.FromFloat32(p+"b", []int{lt.X.N}, lt.X.B),
			safetensors.FromFloat32(p+"delta", []int{len(delta)}, delta))
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("dmi: save %s: %w", path, err)
	}
	return nil
}

func weightTensors(name string, s *spec.Speculator) []safetensors.Tensor {
	q := s.Q
	if q == nil {
		return []safetensors.Tensor{safetensors.FromFloat32(name, []int{s.N, s.K}, s.W)}
	}
	var codes safetensors.Tensor
	switch q.Bits {
	case quant.Int8:
		codes = safetensors.FromInt8(name, []int{q.Rows, q.Cols}, q.I8)
	case quant.Int16:
		f := make([]float32, len(q.I16))
		for i, v := range q.I16 {
			f[i] = float32(v)
		}
		codes = safetensors.FromFloat32(name, []int{q.Rows, q.Cols}, f)
	default:
		codes = safetensors.FromUint8(name, []int{q.Rows, q.Stride()}, q.Packed)
	}
	return []safetensors.Tensor{codes, safetensors.FromFloat32(name+".scale", []int{q.Rows}, q.RowScales())}
}

// ternaryHash identifies a projection, so a file is never paired with a
// projection generated differently (another rproj version, say).
func ternaryHash(t *kernels.Ternary) string {
	h := sha256.New()
	var b [4]byte
	for _, part := range [][]int32{t.PlusPtr, t.Plus, t.MinusPtr, t.Minus} {
		for _, v := range part {
			binary.LittleEndian.PutUint32(b[:], uint32(v))
			h.Write(b[:])
		}
	}
	binary.LittleEndian.PutUint32(b[:], uint32(t.Rows))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Load reads little modules written by Save. It returns an error wrapping
// ErrFormat for a file Save did not write or whose tensors disagree with
// its metadata, safetensors.ErrNonFinite for a NaN or infinite weight, and
// ErrMismatch if a regenerated projection differs from the saved one.
func Load(path string) (*Set, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dmi: %w", err)
	}
	s, err := FromFile(f)
	if err != nil {
		return nil, fmt.Errorf("dmi: %s: %w", path, err)
	}
	return s, nil
}

// FromFile is Load for a parsed file.
func FromFile(f *safetensors.File) (*Set, error) {
	if err := f.CheckFinite(); err != nil {
		return nil, err
	}
	meta := f.Metadata()
	if meta["format"] != formatName {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrFormat, meta["format"], formatName)
	}
	cell, err := nn.ParseCell(meta["cell"])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	num := func(key string) (int, error) {
		v, err := strconv.Atoi(meta[key])
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%w: metadata %s = %q", ErrFormat, key, meta[key])
		}
		return v, nil
	}
	layers, err := num("layers")
	if err != nil {
		return nil, err
	}
	bits, err := num("bits")
	if err != nil {
		return nil, err
	}
	s := &Set{Cell: cell, Bits: quant.Bits(bits), Fingerprint: meta["fingerprint"]}
	if err := (Options{Eps: 0.5, Bits: s.Bits}).check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if s.Eps, err = strconv.ParseFloat(meta["eps"], 64); err != nil {
		return nil, fmt.Errorf("%w: metadata eps = %q", ErrFormat, meta["eps"])
	}
	if s.Seed, err = strconv.ParseUint(meta["seed"], 10, 64); err != nil {
		return nil, fmt.Errorf("%w: metadata seed = %q", ErrFormat, meta["seed"])
	}
	sparsity, err := strconv.ParseFloat(meta["sparsity"], 64)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata sparsity = %q", ErrFormat, meta["sparsity"])
	}
	for l := range layers {
		p := fmt.Sprintf("dmi.l%d.", l)
		b, err := floats(f, p+"b", -1)
		if err != nil {
			return nil, err
		}
		lt := &Little{}
		for i, which := range []string{"x", "h"} {
			k, err := num(fmt.Sprintf("l%d.k%s", l, which))
			if err != nil {
				return nil, err
			}
			d, err := num(fmt.Sprintf("l%d.d%s", l, which))
			if err != nil {
				return nil, err
			}
			proj, err := rproj.New(k, d, sparsity, projSeed(s.Seed, l, i))
			if err != nil {
				return nil, fmt.Errorf("%w: layer %d: %w", ErrFormat, l, err)
			}
			if got, want := ternaryHash(proj.Ternary()), meta[fmt.Sprintf("l%d.p%s", l, which)]; got != want {
				return nil, fmt.Errorf("%w: layer %d: regenerated P_%s hashes to %s, the file says %s", ErrMismatch, l, which, got, want)
			}
			bias := b
			if which == "h" {
				bias = make([]float32, len(b))
			}
			sp, err := readSpec(f, p+"w"+which, proj, bias, s.Bits)
			if err != nil {
				return nil, err
			}
			if which == "x" {
				lt.X = sp
			} else {
				lt.H = sp
			}
		}
		delta, err := floats(f, p+"delta", cell.Gates())
		if err != nil {
			return nil, err
		}
		for _, v := range delta {
			lt.Delta = append(lt.Delta, float64(v))
		}
		lt.MSE, _ = strconv.ParseFloat(meta[fmt.Sprintf("l%d.mse", l)], 64)
		lt.ZeroMSE, _ = strconv.ParseFloat(meta[fmt.Sprintf("l%d.zero_mse", l)], 64)
		s.Layers = append(s.Layers, lt)
	}
	return s, nil
}

// floats reads a float32 vector, of length n unless n < 0.
func floats(f *safetensors.File, name string, n int) ([]float32, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
	}
	if len(t.Shape) != 1 || (n >= 0 && len(v) != n) {
		return nil, fmt.Errorf("%w: %s has shape %v, want [%d]", ErrFormat, name, t.Shape, n)
	}
	return v, nil
}

// readSpec rebuilds one half of a little module from its tensors.
func readSpec(f *safetensors.File, name string, p *rproj.Projection, b []float32, bits quant.Bits) (*spec.Speculator, error) {
	n, k := len(b), p.K()
	t, err := f.Tensor(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	q := &quant.Matrix{Bits: bits, Rows: n, Cols: k}
	wantCols := k
	if bits == quant.Int4 || bits == quant.Int2 {
		wantCols = q.Stride()
	}
	if len(t.Shape) != 2 || t.Shape[0] != n || t.Shape[1] != wantCols {
		return nil, fmt.Errorf("%w: %s has shape %v, want [%d %d]", ErrFormat, name, t.Shape, n, wantCols)
	}
	switch bits {
	case FP32:
		w, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
		}
		return spec.NewSpeculator(p, w, b), nil
	case quant.Int8:
		q.I8, err = t.Int8s()
	case quant.Int16:
		var w []float32
		if w, err = t.Float32s(); err == nil {
			q.I16 = make([]int16, len(w))
			for i, v := range w {
				if v != float32(int16(v)) || int(v) > bits.Max() || int(v) < -bits.Max() {
					return nil, fmt.Errorf("%w: %s holds %v, not an INT16 code", ErrFormat, name, v)
				}
				q.I16[i] = int16(v)
			}
		}
	default:
		q.Packed, err = t.Uint8s()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
	}
	if q.Scales, err = floats(f, name+".scale", n); err != nil {
		return nil, err
	}
	sp := spec.NewSpeculator(p, q.Dequantize(), b)
	sp.Q = q
	return sp, nil
}
