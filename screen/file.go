package screen

import (
	"fmt"
	"strconv"
	"strings"

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
	var sh *Shape
	if c != nil {
		sh = &Shape{N: c.N, D: c.D}
	}
	f, err := Open(path, sh)
	if err != nil {
		return nil, err
	}
	return f.For(c)
}

// Shape is a classifier's shape, N classes of dimension D, which can be
// read from its file's header before the classifier is loaded.
type Shape struct{ N, D int }

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
	h, err := safetensors.ReadHeaderFile(path)
	if err != nil {
		return nil, fmt.Errorf("screen: %w", err)
	}
	if err := CheckHeader(h, c); err != nil {
		return nil, fmt.Errorf("screen: %s: %w", path, err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("screen: %w", err)
	}
	return &File{path: path, f: f}, nil
}

// For builds the screener for classifier c (nil checks nothing more), as
// FromFileFor does.
func (f *File) For(c *spec.Linear) (*Screener, error) {
	s, err := FromFileFor(f.f, c)
	if err != nil {
		return nil, fmt.Errorf("screen: %s: %w", f.path, err)
	}
	return s, nil
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
	l, d, k  int
	bits     quant.Bits
	seed     uint64
	sparsity float64
}

func parseHeader(h *safetensors.Header, c *Shape) (*header, error) {
	meta := h.Metadata()
	if meta["format"] != formatName {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrFormat, meta["format"], formatName)
	}
	if c != nil && (meta["l"] != strconv.Itoa(c.N) || meta["d"] != strconv.Itoa(c.D)) {
		return nil, fmt.Errorf("%w: screener for a %s×%s classifier, got %d×%d", ErrMismatch, meta["l"], meta["d"], c.N, c.D)
	}
	num := func(key string) (int, error) {
		v, err := strconv.Atoi(meta[key])
		if err != nil || v < 1 {
			return 0, fmt.Errorf("%w: metadata %s = %q", ErrFormat, key, meta[key])
		}
		return v, nil
	}
	hd := &header{}
	var err error
	if hd.l, err = num("l"); err != nil {
		return nil, err
	}
	if hd.d, err = num("d"); err != nil {
		return nil, err
	}
	if hd.k, err = num("k"); err != nil {
		return nil, err
	}
	bits, err := num("bits")
	if err != nil {
		return nil, err
	}
	hd.bits = quant.Bits(bits)
	if err := checkBits(hd.bits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if hd.seed, err = strconv.ParseUint(meta["seed"], 10, 64); err != nil {
		return nil, fmt.Errorf("%w: metadata seed = %q", ErrFormat, meta["seed"])
	}
	if hd.sparsity, err = strconv.ParseFloat(meta["sparsity"], 64); err != nil {
		return nil, fmt.Errorf("%w: metadata sparsity = %q", ErrFormat, meta["sparsity"])
	}
	// The sizes are checked against the tensors before P is generated, so
	// a corrupt header cannot ask for a huge projection.
	if hd.k > hd.d || hd.d > kernels.MaxIntCols {
		return nil, fmt.Errorf("%w: k = %d, d = %d (want k ≤ d ≤ %d)", ErrFormat, hd.k, hd.d, kernels.MaxIntCols)
	}
	if _, err := spec.CheckVector(h, "screen.b", hd.l); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if err := spec.CheckWeights(h, "screen.w", hd.l, hd.k, hd.bits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return hd, nil
}

// FromFileFor is LoadFor for a parsed file.
func FromFileFor(f *safetensors.File, c *spec.Linear) (*Screener, error) {
	var sh *Shape
	if c != nil {
		sh = &Shape{N: c.N, D: c.D}
	}
	hd, err := parseHeader(&f.Header, sh)
	if err != nil {
		return nil, err
	}
	meta := f.Metadata()
	if c != nil {
		if fp := Fingerprint(c); meta["fingerprint"] != fp {
			return nil, fmt.Errorf("%w: screener fitted to classifier %s, got %s", ErrMismatch, meta["fingerprint"], fp)
		}
	}
	if err := f.CheckFinite(); err != nil {
		return nil, err
	}
	s := &Screener{Fingerprint: meta["fingerprint"], L: hd.l, D: hd.d, K: hd.k, Bits: hd.bits, Seed: hd.seed}
	b, err := readVector(f, "screen.b", s.L)
	if err != nil {
		return nil, err
	}
	p, err := rproj.New(s.K, s.D, hd.sparsity, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if got, want := p.Ternary().Hash(), meta["projection"]; got != want {
		return nil, fmt.Errorf("%w: regenerated P hashes to %s, the file says %s", ErrMismatch, got, want)
	}
	if s.Spec, err = readWeights(f, "screen.w", p, b, s.Bits); err != nil {
		return nil, err
	}
	if s.TailShifts, err = parseTailShifts(meta["tail_shifts"], s.L); err != nil {
		return nil, err
	}
	s.MSE, _ = strconv.ParseFloat(meta["mse"], 64)
	s.ZeroMSE, _ = strconv.ParseFloat(meta["zero_mse"], 64)
	if _, err := f.Tensor("screen.mu"); err != nil {
		return s, nil // fitted without a bound
	}
	bd := &Bound{}
	for _, f := range strings.Split(meta["bound_blocks"], ",") {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%w: metadata bound_blocks = %q", ErrFormat, meta["bound_blocks"])
		}
		bd.Blocks = append(bd.Blocks, v)
	}
	leak, err := strconv.ParseFloat(meta["bound_leak"], 32)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata bound_leak = %q", ErrFormat, meta["bound_leak"])
	}
	bd.Leak = float32(leak)
	if bd.Mu, err = readVector(f, "screen.mu", s.D); err != nil {
		return nil, err
	}
	if bd.Basis, err = matrix(f, "screen.basis", s.D, s.D); err != nil {
		return nil, err
	}
	if bd.Alpha, err = readVector(f, "screen.alpha", s.L); err != nil {
		return nil, err
	}
	if bd.Norm, err = matrix(f, "screen.norm", s.L, len(bd.Blocks)-1); err != nil {
		return nil, err
	}
	if bd.Full, err = readVector(f, "screen.full", s.L); err != nil {
		return nil, err
	}
	if s.intKernel() {
		if bd.Abs, err = readVector(f, "screen.abs", s.L); err != nil {
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

// matrix reads a float32 r×c matrix.
func matrix(f *safetensors.File, name string, r, c int) ([]float32, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if len(t.Shape) != 2 || t.Shape[0] != r || t.Shape[1] != c {
		return nil, fmt.Errorf("%w: %s has shape %v, want [%d %d]", ErrFormat, name, t.Shape, r, c)
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, name, err)
	}
	return v, nil
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
