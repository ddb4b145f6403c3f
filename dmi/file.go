package dmi

import (
	"fmt"
	"strconv"

	"github.com/elasticml/elastic/internal/modfile"
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
	f, err := Open(path, configOf(m))
	if err != nil {
		return nil, err
	}
	return f.For(m)
}

// kind is the little-module file format, for the shared reader.
var kind = modfile.Kind{Pkg: "dmi", Format: formatName, ErrFormat: ErrFormat, ErrMismatch: ErrMismatch}

// configOf returns m's architecture, nil for a nil m.
func configOf(m *lm.Model) *lm.Config {
	if m == nil {
		return nil
	}
	c := m.Config()
	return &c
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
	f, err := kind.Open(path, func(h *safetensors.Header) error { return CheckHeader(h, cfg) })
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

// For builds the little modules for model m (nil checks nothing more),
// as FromFileFor does.
func (f *File) For(m *lm.Model) (*Set, error) {
	s, err := FromFileFor(f.f, m)
	return s, kind.At(f.path, err)
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
	meta     modfile.Meta
	cell     nn.Cell
	layers   int
	bits     quant.Bits
	eps      float64
	seed     uint64
	sparsity float64
	k, d     [][2]int // per layer, for x and h
}

func parseHeader(h *safetensors.Header, cfg *lm.Config) (*header, error) {
	meta := kind.Meta(h)
	if cfg != nil && (meta.Get("cell") != cfg.Cell.String() || meta.Get("layers") != strconv.Itoa(cfg.Layers)) {
		return nil, kind.Mismatch("little modules are for %s %s layers, the model has %d %v layers",
			meta.Get("layers"), meta.Get("cell"), cfg.Layers, cfg.Cell)
	}
	if err := meta.CheckFormat(); err != nil {
		return nil, err
	}
	cell, err := nn.ParseCell(meta.Get("cell"))
	if err != nil {
		return nil, kind.Wrap(err)
	}
	hd := &header{meta: meta, cell: cell}
	if hd.layers, err = meta.Count("layers"); err != nil {
		return nil, err
	}
	bits, err := meta.Count("bits")
	if err != nil {
		return nil, err
	}
	hd.bits = quant.Bits(bits)
	if err := (Options{Eps: 0.5, Bits: hd.bits}).check(); err != nil {
		return nil, kind.Wrap(err)
	}
	if hd.eps, err = meta.Float("eps", 64); err != nil {
		return nil, err
	}
	if hd.seed, err = meta.Uint("seed"); err != nil {
		return nil, err
	}
	if hd.sparsity, err = meta.Float("sparsity", 64); err != nil {
		return nil, err
	}
	if hd.layers > h.Len() {
		return nil, kind.Malformed("metadata layers = %d for %d tensors", hd.layers, h.Len())
	}
	for l := range hd.layers {
		p := fmt.Sprintf("dmi.l%d.", l)
		n, err := kind.CheckVector(h, p+"b", -1)
		if err != nil {
			return nil, err
		}
		var ks, ds [2]int
		for i, which := range []string{"x", "h"} {
			if ks[i], err = meta.Count(fmt.Sprintf("l%d.k%s", l, which)); err != nil {
				return nil, err
			}
			if ds[i], err = meta.Count(fmt.Sprintf("l%d.d%s", l, which)); err != nil {
				return nil, err
			}
			if err := checkShape(h, p+"w"+which, l, which, ks[i], ds[i], n, cell, hd.bits, cfg); err != nil {
				return nil, err
			}
		}
		if _, err := kind.CheckVector(h, p+"delta", cell.Gates()); err != nil {
			return nil, err
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
	hd, err := parseHeader(&f.Header, configOf(m))
	if err != nil {
		return nil, err
	}
	var fp string
	if m != nil {
		fp = Fingerprint(m)
	}
	if err := kind.Verify(f, "model", fp); err != nil {
		return nil, err
	}
	meta := hd.meta
	s := &Set{Cell: hd.cell, Bits: hd.bits, Eps: hd.eps, Seed: hd.seed, Fingerprint: meta.Get("fingerprint"), Checksum: f.Checksum()}
	for l := range hd.layers {
		p := fmt.Sprintf("dmi.l%d.", l)
		b, err := kind.Vector(f, p+"b", -1)
		if err != nil {
			return nil, err
		}
		lt := &Little{}
		for i, which := range []string{"x", "h"} {
			proj, err := meta.Projection(fmt.Sprintf("l%d.p%s", l, which), fmt.Sprintf("layer %d: P_%s", l, which),
				hd.k[l][i], hd.d[l][i], hd.sparsity, projSeed(s.Seed, l, i))
			if err != nil {
				return nil, err
			}
			bias := b
			if which == "h" {
				bias = make([]float32, len(b))
			}
			sp, err := kind.Weights(f, p+"w"+which, proj, bias, s.Bits)
			if err != nil {
				return nil, err
			}
			if which == "x" {
				lt.X = sp
			} else {
				lt.H = sp
			}
		}
		delta, err := kind.Vector(f, p+"delta", hd.cell.Gates())
		if err != nil {
			return nil, err
		}
		for _, v := range delta {
			lt.Delta = append(lt.Delta, float64(v))
		}
		lt.MSE = meta.Info(fmt.Sprintf("l%d.mse", l))
		lt.ZeroMSE = meta.Info(fmt.Sprintf("l%d.zero_mse", l))
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
		return kind.Malformed("layer %d: k_%s = %d, d_%s = %d (want 1 ≤ k ≤ d ≤ %d)", l, which, k, which, d, kernels.MaxIntCols)
	case which == "h" && n != littleRows(cell, d):
		return kind.Malformed("layer %d: %d gate rows for a hidden width of %d", l, n, d)
	case which == "x" && d > n && cfg == nil:
		return kind.Malformed("layer %d: input width %d exceeds the %d gate rows", l, d, n)
	}
	if cfg != nil {
		want := cfg.LayerIn(l)
		if which == "h" {
			want = cfg.Hidden
		}
		if d != want {
			return kind.Mismatch("layer %d: d_%s = %d, the model's is %d", l, which, d, want)
		}
	}
	return kind.CheckWeights(h, name, n, k, bits)
}
