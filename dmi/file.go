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
	var cfg *lm.Config
	if m != nil {
		c := m.Config()
		cfg = &c
	}
	f, err := Open(path, cfg)
	if err != nil {
		return nil, err
	}
	return f.For(m)
}

// File is a little-module file read and checked against a model
// architecture, waiting for the model itself.
type File struct {
	path string
	f    *safetensors.File
}

// Open reads the little-module file at path for a model of architecture
// cfg (lm.ReadConfig reads it from the model's header): it checks the
// file's header against cfg (CheckHeader) before it reads the tensor
// bytes and verifies their checksum, so that a command can refuse a bad
// file before it loads the model. A nil cfg checks the header alone.
func Open(path string, cfg *lm.Config) (*File, error) {
	h, err := safetensors.ReadHeaderFile(path)
	if err != nil {
		return nil, fmt.Errorf("dmi: %w", err)
	}
	if err := CheckHeader(h, cfg); err != nil {
		return nil, fmt.Errorf("dmi: %s: %w", path, err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dmi: %w", err)
	}
	return &File{path: path, f: f}, nil
}

// For builds the little modules for model m (nil checks nothing more),
// as FromFileFor does.
func (f *File) For(m *lm.Model) (*Set, error) {
	s, err := FromFileFor(f.f, m)
	if err != nil {
		return nil, fmt.Errorf("dmi: %s: %w", f.path, err)
	}
	return s, nil
}

// CheckHeader checks, from a little-module file's header alone, what
// FromFileFor checks before it reads a value: the format, the cell, layer
// count and widths of the model architecture cfg (when not nil), 1 ≤ k ≤
// d ≤ 65536 and the tensor shapes. What it leaves is the model's
// fingerprint, which needs the model's weights, and the values.
func CheckHeader(h *safetensors.Header, cfg *lm.Config) error {
	_, err := parseHeader(h, cfg)
	return err
}

// header is what a little-module file's header says.
type header struct {
	cell     nn.Cell
	layers   int
	bits     quant.Bits
	eps      float64
	seed     uint64
	sparsity float64
	k, d     [][2]int // per layer, for x and h
}

func parseHeader(h *safetensors.Header, cfg *lm.Config) (*header, error) {
	meta := h.Metadata()
	if cfg != nil && (meta["cell"] != cfg.Cell.String() || meta["layers"] != strconv.Itoa(cfg.Layers)) {
		return nil, fmt.Errorf("%w: little modules are for %s %s layers, the model has %d %v layers",
			ErrMismatch, meta["layers"], meta["cell"], cfg.Layers, cfg.Cell)
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
	hd := &header{cell: cell}
	if hd.layers, err = num("layers"); err != nil {
		return nil, err
	}
	bits, err := num("bits")
	if err != nil {
		return nil, err
	}
	hd.bits = quant.Bits(bits)
	if err := (Options{Eps: 0.5, Bits: hd.bits}).check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if hd.eps, err = strconv.ParseFloat(meta["eps"], 64); err != nil {
		return nil, fmt.Errorf("%w: metadata eps = %q", ErrFormat, meta["eps"])
	}
	if hd.seed, err = strconv.ParseUint(meta["seed"], 10, 64); err != nil {
		return nil, fmt.Errorf("%w: metadata seed = %q", ErrFormat, meta["seed"])
	}
	if hd.sparsity, err = strconv.ParseFloat(meta["sparsity"], 64); err != nil {
		return nil, fmt.Errorf("%w: metadata sparsity = %q", ErrFormat, meta["sparsity"])
	}
	if hd.layers > h.Len() {
		return nil, fmt.Errorf("%w: metadata layers = %d for %d tensors", ErrFormat, hd.layers, h.Len())
	}
	for l := range hd.layers {
		p := fmt.Sprintf("dmi.l%d.", l)
		n, err := spec.CheckVector(h, p+"b", -1)
		if err != nil {
			return nil, readErr(err)
		}
		var ks, ds [2]int
		for i, which := range []string{"x", "h"} {
			if ks[i], err = num(fmt.Sprintf("l%d.k%s", l, which)); err != nil {
				return nil, err
			}
			if ds[i], err = num(fmt.Sprintf("l%d.d%s", l, which)); err != nil {
				return nil, err
			}
			if err := checkShape(h, p+"w"+which, l, which, ks[i], ds[i], n, cell, hd.bits, cfg); err != nil {
				return nil, err
			}
		}
		if _, err := spec.CheckVector(h, p+"delta", cell.Gates()); err != nil {
			return nil, readErr(err)
		}
		hd.k, hd.d = append(hd.k, ks), append(hd.d, ds)
	}
	return hd, nil
}

// FromFile is Load for a parsed file.
func FromFile(f *safetensors.File) (*Set, error) { return FromFileFor(f, nil) }

// FromFileFor is LoadFor for a parsed file.
func FromFileFor(f *safetensors.File, m *lm.Model) (*Set, error) {
	// Cheap checks first: the model the file claims and the tensor shapes
	// its header gives, before the values are scanned or any projection,
	// whose cost the metadata sets, is regenerated.
	var cfg *lm.Config
	if m != nil {
		c := m.Config()
		cfg = &c
	}
	hd, err := parseHeader(&f.Header, cfg)
	if err != nil {
		return nil, err
	}
	meta := f.Metadata()
	if m != nil {
		if fp := meta["fingerprint"]; fp != Fingerprint(m) {
			return nil, fmt.Errorf("%w: little modules were fitted to model %s, this model is %s", ErrMismatch, fp, Fingerprint(m))
		}
	}
	if err := f.CheckFinite(); err != nil {
		return nil, err
	}
	s := &Set{Cell: hd.cell, Bits: hd.bits, Eps: hd.eps, Seed: hd.seed, Fingerprint: meta["fingerprint"], Checksum: f.Checksum()}
	for l := range hd.layers {
		p := fmt.Sprintf("dmi.l%d.", l)
		b, err := readVector(f, p+"b", -1)
		if err != nil {
			return nil, err
		}
		lt := &Little{}
		for i, which := range []string{"x", "h"} {
			proj, err := rproj.New(hd.k[l][i], hd.d[l][i], hd.sparsity, projSeed(s.Seed, l, i))
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
		delta, err := readVector(f, p+"delta", hd.cell.Gates())
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
func checkShape(h *safetensors.Header, name string, l int, which string, k, d, n int, cell nn.Cell, bits quant.Bits, cfg *lm.Config) error {
	switch {
	case k < 1 || k > d || d > kernels.MaxIntCols:
		return fmt.Errorf("%w: layer %d: k_%s = %d, d_%s = %d (want 1 ≤ k ≤ d ≤ %d)", ErrFormat, l, which, k, which, d, kernels.MaxIntCols)
	case which == "h" && n != littleRows(cell, d):
		return fmt.Errorf("%w: layer %d: %d gate rows for a hidden width of %d", ErrFormat, l, n, d)
	case which == "x" && d > n && cfg == nil:
		return fmt.Errorf("%w: layer %d: input width %d exceeds the %d gate rows", ErrFormat, l, d, n)
	}
	if cfg != nil {
		want := cfg.LayerIn(l)
		if which == "h" {
			want = cfg.Hidden
		}
		if d != want {
			return fmt.Errorf("%w: layer %d: d_%s = %d, the model's is %d", ErrMismatch, l, which, d, want)
		}
	}
	return readErr(spec.CheckWeights(h, name, n, k, bits))
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
