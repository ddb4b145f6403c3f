package dmi

import (
	"fmt"
	"strconv"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/lm"
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
			meta[fmt.Sprintf("l%d.p%s", l, h.name)] = ternaryOf(h.s).Hash()
			ts = append(ts, spec.WeightTensors(p+"w"+h.name, h.s)...)
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

// Load reads little modules written by Save. It returns an error wrapping
// ErrFormat for a file Save did not write or whose tensors disagree with
// its metadata, safetensors.ErrNonFinite for a NaN or infinite weight, and
// ErrMismatch if a regenerated projection differs from the saved one.
func Load(path string) (*Set, error) { return LoadFor(path, nil) }

// LoadFor is Load for the little modules of model m: it checks, before it
// regenerates any projection, that the file's fingerprint, cell, layer
// count and widths are m's, so a file for another model costs only its
// header. A nil m checks nothing beyond Load.
func LoadFor(path string, m *lm.Model) (*Set, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dmi: %w", err)
	}
	s, err := FromFileFor(f, m)
	if err != nil {
		return nil, fmt.Errorf("dmi: %s: %w", path, err)
	}
	return s, nil
}

// FromFile is Load for a parsed file.
func FromFile(f *safetensors.File) (*Set, error) { return FromFileFor(f, nil) }

// FromFileFor is LoadFor for a parsed file.
func FromFileFor(f *safetensors.File, m *lm.Model) (*Set, error) {
	meta := f.Metadata()
	// Cheap checks first: the model the file claims and the tensor shapes
	// its header gives, before the values are scanned or any projection,
	// whose cost the metadata sets, is regenerated.
	if m != nil {
		cfg := m.Config()
		switch fp := meta["fingerprint"]; {
		case fp != Fingerprint(m):
			return nil, fmt.Errorf("%w: little modules were fitted to model %s, this model is %s", ErrMismatch, fp, Fingerprint(m))
		case meta["cell"] != cfg.Cell.String() || meta["layers"] != strconv.Itoa(cfg.Layers):
			return nil, fmt.Errorf("%w: little modules are for %s %s layers, the model has %d %v layers",
				ErrMismatch, meta["layers"], meta["cell"], cfg.Layers, cfg.Cell)
		}
	}
	if err := f.CheckFinite(); err != nil {
		return nil, err
	}
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
	s := &Set{Cell: cell, Bits: quant.Bits(bits), Fingerprint: meta["fingerprint"], Checksum: f.Checksum()}
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
	if layers > len(f.Names()) {
		return nil, fmt.Errorf("%w: metadata layers = %d for %d tensors", ErrFormat, layers, len(f.Names()))
	}
	var widths []nn.LayerWeights
	if m != nil {
		widths = m.Layers()
	}
	for l := range layers {
		p := fmt.Sprintf("dmi.l%d.", l)
		b, err := readVector(f, p+"b", -1)
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
			if err := checkShape(f, p+"w"+which, l, which, k, d, len(b), cell, s.Bits, widths); err != nil {
				return nil, err
			}
			proj, err := rproj.New(k, d, sparsity, projSeed(s.Seed, l, i))
			if err != nil {
				return nil, fmt.Errorf("%w: layer %d: %w", ErrFormat, l, err)
			}
			if got, want := proj.Ternary().Hash(), meta[fmt.Sprintf("l%d.p%s", l, which)]; got != want {
				return nil, fmt.Errorf("%w: layer %d: regenerated P_%s hashes to %s, the file says %s", ErrMismatch, l, which, got, want)
			}
			bias := b
			if which == "h" {
				bias = make([]float32, len(b))
			}
			sp, err := readWeights(f, p+"w"+which, proj, bias, s.Bits)
			if err != nil {
				return nil, err
			}
			if which == "x" {
				lt.X = sp
			} else {
				lt.H = sp
			}
		}
		delta, err := readVector(f, p+"delta", cell.Gates())
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

// checkShape validates one little module's sizes from the header: k ≤ d,
// n = littleRows(d) for the recurrent input, d within the integer kernels' width,
// d the model's width when known, and W̃'s tensors n×k. Together they bound
// the projection's k·d entries by W̃'s n·k codes, which the file holds.
func checkShape(f *safetensors.File, name string, l int, which string, k, d, n int, cell nn.Cell, bits quant.Bits, widths []nn.LayerWeights) error {
	switch {
	case k < 1 || k > d || d > kernels.MaxIntCols:
		return fmt.Errorf("%w: layer %d: k_%s = %d, d_%s = %d (want 1 ≤ k ≤ d ≤ %d)", ErrFormat, l, which, k, which, d, kernels.MaxIntCols)
	case which == "h" && n != littleRows(cell, d):
		return fmt.Errorf("%w: layer %d: %d gate rows for a hidden width of %d", ErrFormat, l, n, d)
	case which == "x" && d > n && widths == nil:
		return fmt.Errorf("%w: layer %d: input width %d exceeds the %d gate rows", ErrFormat, l, d, n)
	}
	if widths != nil {
		w := widths[l]
		want := w.In
		if which == "h" {
			want = w.Hidden
		}
		if d != want {
			return fmt.Errorf("%w: layer %d: d_%s = %d, the model's is %d", ErrMismatch, l, which, d, want)
		}
	}
	return readErr(spec.CheckWeights(f, name, n, k, bits))
}

func readErr(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return nil
}

// readVector and readWeights wrap spec's readers so their errors also match
// this package's ErrFormat.
func readVector(f *safetensors.File, name string, n int) ([]float32, error) {
	v, err := spec.ReadVector(f, name, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return v, nil
}

func readWeights(f *safetensors.File, name string, p *rproj.Projection, b []float32, bits quant.Bits) (*spec.Speculator, error) {
	sp, err := spec.ReadWeights(f, name, p, b, bits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return sp, nil
}
