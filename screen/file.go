package screen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/elasticml/elastic/internal/modfile"
	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/quant"
	"github.com/elasticml/elastic/rproj"
	"github.com/elasticml/elastic/safetensors"
	"github.com/elasticml/elastic/spec"
)

// formatName marks files written by Save.
const formatName = "elastic-screen/1"

// Save writes the screener to a safetensors file: screen.w (W̃'s codes —
// I8 for INT8, packed U8 rows for INT4 and INT2, F32 for INT16 codes and
// FP32 weights), screen.w.scale (row scales), screen.b (b̃) and, with a
// bound, screen.mu, screen.alpha, screen.norm and screen.abs. P is not
// stored: the metadata holds the seed and shape that regenerate it and a
// hash that Load checks, next to the classifier's fingerprint.
func (s *Screener) Save(path string) error {
	meta := map[string]string{
		"format":      formatName,
		"l":           strconv.Itoa(s.L),
		"d":           strconv.Itoa(s.D),
		"k":           strconv.Itoa(s.K),
		"bits":        strconv.Itoa(int(s.Bits)),
		"seed":        strconv.FormatUint(s.Seed, 10),
		"sparsity":    strconv.FormatFloat(rproj.DefaultSparsity, 'g', -1, 64),
		"projection":  s.ternary().Hash(),
		"fingerprint": s.Fingerprint,
		"mse":         strconv.FormatFloat(s.MSE, 'g', -1, 64),
		"zero_mse":    strconv.FormatFloat(s.ZeroMSE, 'g', -1, 64),
	}
	if len(s.TailShifts) > 0 {
		meta["tail_shifts"] = formatTailShifts(s.TailShifts)
	}
	ts := spec.WeightTensors("screen.w", s.Spec)
	ts = append(ts, safetensors.FromFloat32("screen.b", []int{s.L}, s.Spec.B))
	if b := s.Bound; b != nil {
		nb := len(b.Blocks) - 1
		blocks := make([]string, len(b.Blocks))
		for i, v := range b.Blocks {
			blocks[i] = strconv.Itoa(v)
		}
		meta["bound_blocks"] = strings.Join(blocks, ",")
		meta["bound_leak"] = strconv.FormatFloat(float64(b.Leak), 'g', -1, 32)
		ts = append(ts,
			safetensors.FromFloat32("screen.mu", []int{s.D}, b.Mu),
			safetensors.FromFloat32("screen.basis", []int{s.D, s.D}, b.Basis),
			safetensors.FromFloat32("screen.alpha", []int{s.L}, b.Alpha),
			safetensors.FromFloat32("screen.norm", []int{s.L, nb}, b.Norm),
			safetensors.FromFloat32("screen.full", []int{s.L}, b.Full))
		if b.Abs != nil {
			ts = append(ts, safetensors.FromFloat32("screen.abs", []int{s.L}, b.Abs))
		}
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("screen: save %s: %w", path, err)
	}
	return nil
}

// Load reads a screener written by Save. It returns an error wrapping
// ErrFormat for a file Save did not write or whose tensors disagree with
// its metadata, safetensors.ErrNonFinite for a NaN or infinite value, and
// ErrMismatch if the regenerated projection differs from the saved one.
// Pairing it with its classifier (NewClassifier) checks the fingerprint.
func Load(path string) (*Screener, error) { return LoadFor(path, nil) }

// LoadFor is Load for a screener of classifier c: it checks the file's
// fingerprint and shape against c before it scans the values or
// regenerates the projection, so a file for another classifier costs only
// its header. A nil c checks nothing beyond Load.
func LoadFor(path string, c *spec.Linear) (*Screener, error) {
	f, err := Open(path, shapeOf(c))
	if err != nil {
		return nil, err
	}
	return f.For(c)
}

// kind is the screener file format, for the shared reader.
var kind = modfile.Kind{Pkg: "screen", Format: formatName, ErrFormat: ErrFormat, ErrMismatch: ErrMismatch}

// Shape is a classifier's shape, N classes of dimension D, which can be
// read from its file's header before the classifier is loaded.
type Shape struct{ N, D int }

// shapeOf returns c's shape, nil for a nil c.
func shapeOf(c *spec.Linear) *Shape {
	if c == nil {
		return nil
	}
	return &Shape{N: c.N, D: c.D}
}

// File is a screener file read and checked against a classifier's shape,
// waiting for the classifier itself.
type File struct {
	path string
	f    *safetensors.File
}

// Open reads the screener file at path for a classifier of shape c: it
// checks the file's header against c (CheckHeader) before it reads the
// tensor bytes and verifies their checksum, so that a command can refuse
// a bad file before it loads the classifier. A nil c checks the header
// alone.
func Open(path string, c *Shape) (*File, error) {
	f, err := kind.Open(path, func(h *safetensors.Header) error { return CheckHeader(h, c) })
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

// For builds the screener for classifier c (nil checks nothing more), as
// FromFileFor does.
func (f *File) For(c *spec.Linear) (*Screener, error) {
	s, err := FromFileFor(f.f, c)
	return s, kind.At(f.path, err)
}

// FromFile is Load for a parsed file.
func FromFile(f *safetensors.File) (*Screener, error) { return FromFileFor(f, nil) }

// CheckHeader checks, from a screener file's header alone, what
// FromFileFor checks before it reads a value: the format, the classifier
// shape c (when not nil), k ≤ d ≤ 65536 and the shapes of W̃ and b̃. What
// it leaves is the classifier's fingerprint, which needs its weights, and
// the values.
func CheckHeader(h *safetensors.Header, c *Shape) error {
	_, err := parseHeader(h, c)
	return err
}

// header is what a screener file's header says.
type header struct {
	meta     modfile.Meta
	l, d, k  int
	bits     quant.Bits
	seed     uint64
	sparsity float64
}

func parseHeader(h *safetensors.Header, c *Shape) (*header, error) {
	meta := kind.Meta(h)
	if err := meta.CheckFormat(); err != nil {
		return nil, err
	}
	if c != nil && (meta.Get("l") != strconv.Itoa(c.N) || meta.Get("d") != strconv.Itoa(c.D)) {
		return nil, kind.Mismatch("screener for a %s×%s classifier, got %d×%d", meta.Get("l"), meta.Get("d"), c.N, c.D)
	}
	hd := &header{meta: meta}
	var err error
	if hd.l, err = meta.Count("l"); err != nil {
		return nil, err
	}
	if hd.d, err = meta.Count("d"); err != nil {
		return nil, err
	}
	if hd.k, err = meta.Count("k"); err != nil {
		return nil, err
	}
	bits, err := meta.Count("bits")
	if err != nil {
		return nil, err
	}
	hd.bits = quant.Bits(bits)
	if err := checkBits(hd.bits); err != nil {
		return nil, kind.Wrap(err)
	}
	if hd.seed, err = meta.Uint("seed"); err != nil {
		return nil, err
	}
	if hd.sparsity, err = meta.Float("sparsity", 64); err != nil {
		return nil, err
	}
	// The sizes are checked against the tensors before P is generated, so
	// a corrupt header cannot ask for a huge projection.
	if hd.k > hd.d || hd.d > kernels.MaxIntCols {
		return nil, kind.Malformed("k = %d, d = %d (want k ≤ d ≤ %d)", hd.k, hd.d, kernels.MaxIntCols)
	}
	if _, err := kind.CheckVector(h, "screen.b", hd.l); err != nil {
		return nil, err
	}
	if err := kind.CheckWeights(h, "screen.w", hd.l, hd.k, hd.bits); err != nil {
		return nil, err
	}
	return hd, nil
}

// FromFileFor is LoadFor for a parsed file.
func FromFileFor(f *safetensors.File, c *spec.Linear) (*Screener, error) {
	hd, err := parseHeader(&f.Header, shapeOf(c))
	if err != nil {
		return nil, err
	}
	var fp string
	if c != nil {
		fp = Fingerprint(c)
	}
	if err := kind.Verify(f, "classifier", fp); err != nil {
		return nil, err
	}
	meta := hd.meta
	s := &Screener{Fingerprint: meta.Get("fingerprint"), L: hd.l, D: hd.d, K: hd.k, Bits: hd.bits, Seed: hd.seed}
	b, err := kind.Vector(f, "screen.b", s.L)
	if err != nil {
		return nil, err
	}
	p, err := meta.Projection("projection", "P", s.K, s.D, hd.sparsity, s.Seed)
	if err != nil {
		return nil, err
	}
	if s.Spec, err = kind.Weights(f, "screen.w", p, b, s.Bits); err != nil {
		return nil, err
	}
	if s.TailShifts, err = parseTailShifts(meta.Get("tail_shifts"), s.L); err != nil {
		return nil, err
	}
	s.MSE = meta.Info("mse")
	s.ZeroMSE = meta.Info("zero_mse")
	if _, err := f.Tensor("screen.mu"); err != nil {
		return s, nil // fitted without a bound
	}
	bd := &Bound{}
	for _, f := range strings.Split(meta.Get("bound_blocks"), ",") {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, kind.Malformed("metadata bound_blocks = %q", meta.Get("bound_blocks"))
		}
		bd.Blocks = append(bd.Blocks, v)
	}
	leak, err := meta.Float("bound_leak", 32)
	if err != nil {
		return nil, err
	}
	bd.Leak = float32(leak)
	if bd.Mu, err = kind.Vector(f, "screen.mu", s.D); err != nil {
		return nil, err
	}
	if bd.Basis, err = kind.Matrix(f, "screen.basis", s.D, s.D); err != nil {
		return nil, err
	}
	if bd.Alpha, err = kind.Vector(f, "screen.alpha", s.L); err != nil {
		return nil, err
	}
	if bd.Norm, err = kind.Matrix(f, "screen.norm", s.L, len(bd.Blocks)-1); err != nil {
		return nil, err
	}
	if bd.Full, err = kind.Vector(f, "screen.full", s.L); err != nil {
		return nil, err
	}
	if s.intKernel() {
		if bd.Abs, err = kind.Vector(f, "screen.abs", s.L); err != nil {
			return nil, err
		}
	}
	if err := bd.check(s.L, s.D); err != nil {
		return nil, err
	}
	bd.setMax()
	s.Bound = bd
	return s, nil
}
