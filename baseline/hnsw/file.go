package hnsw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// Errors returned by Load; test with errors.Is.
var (
	// ErrFormat reports a file that is not an index, is truncated, is of an
	// unsupported version, or fails its checksum or consistency checks.
	ErrFormat = errors.New("hnsw: malformed index file")
	// ErrMismatch reports an index built for a different classifier.
	ErrMismatch = errors.New("hnsw: index does not match the classifier")
)

// The file format, all integers little-endian:
//
//	magic       8 bytes "elhnsw\x1a\n"
//	version     uint32 (1)
//	rows, cols  uint32
//	M, efC      uint32
//	flags       uint32  bit 0: the graph was built with IPPT
//	seed        uint64
//	fingerprint uint64  FNV-1a of the indexed rows (w_i, b_i) as float32 bits
//	entry, top  uint32  entry node and its level, the graph's highest
//	levels      rows bytes
//	links       per node i, per layer 0..levels[i]: count uint32, count ids uint32
//	crc         uint32  CRC-32 (IEEE) of everything before it
//
// The vectors are not stored: Load takes the classifier again and checks it
// against the fingerprint.
const (
	magic   = "elhnsw\x1a\n"
	version = 1
)

// Header flags.
const flagIPPT = 1

type header struct {
	Version, Rows, Cols, M, EfC, Flags uint32
	Seed, Fingerprint                  uint64
	Entry, Top                         uint32
}

// fingerprint hashes the indexed rows and their shape.
func (x *Index) fingerprint() uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for _, v := range [...]uint32{uint32(x.rows), uint32(x.cols)} {
		h = (h ^ uint64(v)) * prime
	}
	for _, v := range x.x {
		h = (h ^ uint64(math.Float32bits(v))) * prime
	}
	return h
}

// Save writes the graph (not the classifier) to w.
func (x *Index) Save(w io.Writer) error {
	bw := bufio.NewWriter(w)
	crc := crc32.NewIEEE()
	mw := io.MultiWriter(bw, crc)
	var flags uint32
	if x.s != nil {
		flags |= flagIPPT
	}
	hd := header{version, uint32(x.rows), uint32(x.cols), uint32(x.m), uint32(x.efc), flags,
		x.seed, x.fingerprint(), uint32(x.entry), uint32(x.top)}
	if _, err := io.WriteString(mw, magic); err != nil {
		return fmt.Errorf("hnsw: Save: %w", err)
	}
	if err := binary.Write(mw, binary.LittleEndian, &hd); err != nil {
		return fmt.Errorf("hnsw: Save: %w", err)
	}
	if _, err := mw.Write(x.level); err != nil {
		return fmt.Errorf("hnsw: Save: %w", err)
	}
	for i := range x.rows {
		for lc := 0; lc <= int(x.level[i]); lc++ {
			bl := x.block(int32(i), lc)
			if err := binary.Write(mw, binary.LittleEndian, bl[:1+bl[0]]); err != nil {
				return fmt.Errorf("hnsw: Save: %w", err)
			}
		}
	}
	if err := binary.Write(bw, binary.LittleEndian, crc.Sum32()); err != nil {
		return fmt.Errorf("hnsw: Save: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("hnsw: Save: %w", err)
	}
	return nil
}

// crcReader checksums what it reads.
type crcReader struct {
	r   io.Reader
	crc hash.Hash32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

// Load reads a graph written by Save for the classifier W (rows×cols) with
// bias b (nil for none). It returns an error wrapping ErrFormat if the data
// is truncated, corrupt or inconsistent, ErrMismatch if it was built for
// another classifier, and clsmetrics.ErrNaN if W or b is not finite. It
// never trusts sizes from the file: allocations are bounded by the size of
// the classifier given. It panics if the shapes of w and b disagree.
func Load(r io.Reader, w, b []float32, rows, cols int) (*Index, error) {
	cr := &crcReader{bufio.NewReader(r), crc32.NewIEEE()}
	var mg [len(magic)]byte
	if _, err := io.ReadFull(cr, mg[:]); err != nil {
		return nil, formatErr("magic", err)
	}
	if string(mg[:]) != magic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrFormat, mg[:])
	}
	var hd header
	if err := binary.Read(cr, binary.LittleEndian, &hd); err != nil {
		return nil, formatErr("header", err)
	}
	if hd.Version != version {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrFormat, hd.Version)
	}
	if int64(hd.Rows) != int64(rows) || int64(hd.Cols) != int64(cols) {
		return nil, fmt.Errorf("%w: file indexes %d×%d, classifier is %d×%d", ErrMismatch, hd.Rows, hd.Cols, rows, cols)
	}
	if hd.M < 2 || hd.M > maxM || hd.EfC < 1 || hd.Flags&^flagIPPT != 0 || hd.Top > maxLevel || hd.Entry >= hd.Rows {
		return nil, fmt.Errorf("%w: header out of range: %+v", ErrFormat, hd)
	}
	x, err := newIndex(w, b, rows, cols, Config{M: int(hd.M), EfConstruction: int(hd.EfC),
		Seed: hd.Seed, IPPT: hd.Flags&flagIPPT != 0})
	if err != nil {
		return nil, err
	}
	if fp := x.fingerprint(); fp != hd.Fingerprint {
		return nil, fmt.Errorf("%w: fingerprint %#x, classifier %#x", ErrMismatch, hd.Fingerprint, fp)
	}
	x.entry, x.top = int32(hd.Entry), int(hd.Top)
	if _, err := io.ReadFull(cr, x.level); err != nil {
		return nil, formatErr("levels", err)
	}
	top, sum := uint8(0), 0
	for _, l := range x.level {
		top = max(top, l)
		sum += int(l)
	}
	// Levels are geometric with mean 1/(M−1) ≤ 1; a sum far above that is
	// corruption, and would size the upper-layer links from the file.
	if sum > 2*rows+2*maxLevel {
		return nil, fmt.Errorf("%w: levels sum to %d for %d nodes", ErrFormat, sum, rows)
	}
	if int(top) != x.top || int(x.level[x.entry]) != x.top {
		return nil, fmt.Errorf("%w: entry %d at level %d, top level %d, highest node level %d",
			ErrFormat, x.entry, x.level[x.entry], x.top, top)
	}
	x.allocLinks()
	for i := range int32(rows) {
		for lc := 0; lc <= int(x.level[i]); lc++ {
			if err := x.readBlock(cr, i, lc); err != nil {
				return nil, err
			}
		}
	}
	want := cr.crc.Sum32()
	var got uint32
	if err := binary.Read(cr, binary.LittleEndian, &got); err != nil {
		return nil, formatErr("checksum", err)
	}
	if got != want {
		return nil, fmt.Errorf("%w: checksum %#x, computed %#x", ErrFormat, got, want)
	}
	return x, nil
}

// readBlock reads and checks node i's links on layer lc.
func (x *Index) readBlock(r io.Reader, i int32, lc int) error {
	bl := x.block(i, lc)
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return formatErr("links", err)
	}
	if int64(n) > int64(len(bl)-1) {
		return fmt.Errorf("%w: node %d layer %d has %d links, at most %d", ErrFormat, i, lc, n, len(bl)-1)
	}
	bl[0] = int32(n)
	ids := bl[1 : 1+n]
	if err := binary.Read(r, binary.LittleEndian, ids); err != nil {
		return formatErr("links", err)
	}
	for _, e := range ids {
		// A link to a node absent from the layer would index past its blocks.
		if e < 0 || int(e) >= x.rows || e == i || int(x.level[e]) < lc {
			return fmt.Errorf("%w: node %d layer %d links to %d", ErrFormat, i, lc, e)
		}
	}
	return nil
}

func formatErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated %s", ErrFormat, what)
	}
	return fmt.Errorf("hnsw: reading %s: %w", what, err)
}
