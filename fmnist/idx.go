package fmnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Package is the Debian package that installs the data set.
const Package = "dataset-fashion-mnist"

// DefaultDir is where Package installs the idx files.
const DefaultDir = "/usr/share/datasets/fashion-mnist"

// Image geometry and number of classes of Fashion-MNIST.
const (
	Rows    = 28
	Cols    = 28
	Pixels  = Rows * Cols
	Classes = 10
)

var (
	// ErrMissing reports that a data file does not exist; the message
	// names the Debian package that provides it.
	ErrMissing = errors.New("install the Debian package " + Package + " (make data)")

	// ErrFormat reports an idx file that does not parse or does not
	// hold what its name promises.
	ErrFormat = errors.New("malformed idx file")
)

// ClassNames are the Fashion-MNIST labels in class-index order.
var ClassNames = [Classes]string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// MaxElements bounds the elements ReadIdx accepts unless told otherwise:
// four times the 47 million bytes of the training images.
const MaxElements = 1 << 28

// Idx is a parsed unsigned-byte idx tensor.
type Idx struct {
	Dims []int  // dimensions, outermost first
	Data []byte // the elements in row-major order
}

// ReadIdx parses an idx stream of unsigned bytes. size is the stream's
// total length in bytes when known (the header included), or negative; a
// header whose element count disagrees with it, or exceeds maxElements
// (MaxElements if not positive), is rejected before the data are
// allocated. Errors wrap ErrFormat.
func ReadIdx(r io.Reader, size int64, maxElements int) (*Idx, error) {
	if maxElements <= 0 {
		maxElements = MaxElements
	}
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("%w: reading the magic number: %w", ErrFormat, eofAsTruncated(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%w: magic number %#x does not start with two zero bytes", ErrFormat, magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("%w: element type %#02x, want 0x08 (unsigned byte)", ErrFormat, magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, fmt.Errorf("%w: zero dimensions", ErrFormat)
	}
	hdr := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("%w: reading %d dimensions: %w", ErrFormat, nd, eofAsTruncated(err))
	}
	dims := make([]int, nd)
	n := 1
	for i := range dims {
		d := binary.BigEndian.Uint32(hdr[4*i:])
		dims[i] = int(d)
		if d == 0 {
			n = 0
			continue
		}
		if n > 0 && uint64(n)*uint64(d) > uint64(maxElements) {
			return nil, fmt.Errorf("%w: dimensions %v exceed the bound of %d elements", ErrFormat, dimsSoFar(hdr, nd), maxElements)
		}
		n *= int(d)
	}
	if want := int64(4+4*nd) + int64(n); size >= 0 && size != want {
		return nil, fmt.Errorf("%w: dimensions %v need %d bytes but the file holds %d", ErrFormat, dims, want, size)
	}
	data := make([]byte, n)
	if got, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("%w: dimensions %v need %d data bytes, got %d: %w", ErrFormat, dims, n, got, eofAsTruncated(err))
	}
	var one [1]byte
	switch k, err := r.Read(one[:]); {
	case k > 0:
		return nil, fmt.Errorf("%w: data continue after the %d bytes of dimensions %v", ErrFormat, n, dims)
	case err != nil && err != io.EOF:
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	case err == nil:
		// A reader may return 0, nil; one more try settles it.
		if k, _ := io.ReadFull(r, one[:]); k > 0 {
			return nil, fmt.Errorf("%w: data continue after the %d bytes of dimensions %v", ErrFormat, n, dims)
		}
	}
	return &Idx{Dims: dims, Data: data}, nil
}

func dimsSoFar(hdr []byte, nd int) []uint32 {
	d := make([]uint32, nd)
	for i := range d {
		d[i] = binary.BigEndian.Uint32(hdr[4*i:])
	}
	return d
}

func eofAsTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file truncated")
	}
	return err
}

// ReadIdxFile reads an idx file, gzip-compressed when its name ends in
// .gz. The length checked against the header is the file size, or for a
// .gz file the uncompressed size its gzip trailer records (a single gzip
// member is read, so the trailer describes all of it). Errors name the
// file; a missing file wraps ErrMissing.
func ReadIdxFile(path string, maxElements int) (*Idx, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("fmnist: %s not found: %w", path, ErrMissing)
		}
		return nil, fmt.Errorf("fmnist: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("fmnist: %w", err)
	}
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	size := st.Size()
	if strings.HasSuffix(path, ".gz") {
		if size, err = gzipSize(f, size); err != nil {
			return nil, fmt.Errorf("fmnist: %s: %w", path, err)
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("fmnist: %s: %w: %w", path, ErrFormat, err)
		}
		zr.Multistream(false)
		r = zr
	}
	x, err := ReadIdx(r, size, maxElements)
	if err != nil {
		return nil, fmt.Errorf("fmnist: %s: %w", path, err)
	}
	return x, nil
}

// gzipSize returns the uncompressed size in the trailer of the gzip file
// f of the given length, leaving f at its start.
func gzipSize(f *os.File, n int64) (int64, error) {
	if n < 18 { // a 10-byte header and the 8-byte trailer
		return 0, fmt.Errorf("%w: %d bytes are too few for a gzip file", ErrFormat, n)
	}
	var tr [4]byte
	if _, err := f.ReadAt(tr[:], n-4); err != nil {
		return 0, fmt.Errorf("%w: reading the gzip trailer: %w", ErrFormat, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint32(tr[:])), nil
}

// Split names one half of the data set.
type Split int

const (
	Train Split = iota // the 60000 training images
	Test               // the 10000 test images
)

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// prefix is the file-name prefix of a split.
func (s Split) prefix() string {
	if s == Test {
		return "t10k"
	}
	return "train"
}

// Set is one split: N images of Rows×Cols pixels, row-major, image after
// image, and their labels.
type Set struct {
	N      int
	Images []uint8 // N·Pixels bytes
	Labels []uint8 // N classes in [0, Classes)
}

// Image returns the pixels of image i.
func (s *Set) Image(i int) []uint8 { return s.Images[i*Pixels : (i+1)*Pixels] }

// Paths returns the images and labels files of split s under dir.
func Paths(dir string, s Split) (images, labels string) {
	p := s.prefix()
	return filepath.Join(dir, p+"-images-idx3-ubyte.gz"), filepath.Join(dir, p+"-labels-idx1-ubyte.gz")
}

// Load reads split s from dir (DefaultDir if empty).
func Load(dir string, s Split) (*Set, error) {
	if s != Train && s != Test {
		return nil, fmt.Errorf("fmnist: unknown split %v", s)
	}
	if dir == "" {
		dir = DefaultDir
	}
	ip, lp := Paths(dir, s)
	lab, err := ReadIdxFile(lp, 0)
	if err != nil {
		return nil, err
	}
	if len(lab.Dims) != 1 {
		return nil, fmt.Errorf("fmnist: %s: %w: dimensions %v, want one (a labels file)", lp, ErrFormat, lab.Dims)
	}
	for i, l := range lab.Data {
		if l >= Classes {
			return nil, fmt.Errorf("fmnist: %s: %w: label %d of item %d outside [0, %d)", lp, ErrFormat, l, i, Classes)
		}
	}
	img, err := ReadIdxFile(ip, 0)
	if err != nil {
		return nil, err
	}
	if len(img.Dims) != 3 || img.Dims[1] != Rows || img.Dims[2] != Cols {
		return nil, fmt.Errorf("fmnist: %s: %w: dimensions %v, want [n %d %d]", ip, ErrFormat, img.Dims, Rows, Cols)
	}
	if img.Dims[0] != lab.Dims[0] {
		return nil, fmt.Errorf("fmnist: %w: %s holds %d images but %s %d labels", ErrFormat, ip, img.Dims[0], lp, lab.Dims[0])
	}
	return &Set{N: lab.Dims[0], Images: img.Data, Labels: lab.Data}, nil
}

// WriteFile writes x to path in the idx format, gzip-compressed when the
// name ends in .gz, so that ReadIdxFile reads it back; tests use it to
// build small data sets.
func (x *Idx) WriteFile(path string) error {
	data := x.Encode()
	if strings.HasSuffix(path, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(data); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("fmnist: %w", err)
	}
	return nil
}

// Encode returns the idx encoding of x, the inverse of ReadIdx.
func (x *Idx) Encode() []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(x.Dims))})
	for _, d := range x.Dims {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(d)))
	}
	b.Write(x.Data)
	return b.Bytes()
}
