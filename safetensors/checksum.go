package safetensors

import (
	"cmp"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"strings"
)

// ChecksumKey is the metadata key under which WriteFile stores the
// checksum of a file's tensor bytes, as "crc32c:" and eight hex digits:
// CRC-32C (Castagnoli) of every tensor's data in the order of their names.
// Read verifies it before the file is used; files written elsewhere (by
// PyTorch, say) have none and still load, their Checksum reported absent.
const ChecksumKey = "elastic.checksum"

const crcPrefix = "crc32c:"

// ChecksumStatus says whether a file's tensor bytes were verified.
type ChecksumStatus int

const (
	// ChecksumAbsent: the file carries no checksum (not written by elastic,
	// or by a version before checksums).
	ChecksumAbsent ChecksumStatus = iota
	// ChecksumVerified: the stored checksum matched the tensor bytes.
	ChecksumVerified
)

func (s ChecksumStatus) String() string {
	if s == ChecksumVerified {
		return "checksum verified"
	}
	return "checksum absent"
}

// Checksum returns the value WriteFile stores under ChecksumKey for
// tensors: the CRC-32C of their data taken in the order of their names, so
// it does not depend on the file's data layout.
func Checksum(tensors []Tensor) string {
	ts := slices.Clone(tensors)
	slices.SortFunc(ts, func(a, b Tensor) int { return cmp.Compare(a.Name, b.Name) })
	tab := crc32.MakeTable(crc32.Castagnoli)
	var sum uint32
	for _, t := range ts {
		sum = crc32.Update(sum, tab, t.Data)
	}
	return fmt.Sprintf("%s%08x", crcPrefix, sum)
}

// withChecksum returns meta with ChecksumKey set for tensors.
func withChecksum(tensors []Tensor, meta map[string]string) map[string]string {
	m := maps.Clone(meta)
	if m == nil {
		m = map[string]string{}
	}
	m[ChecksumKey] = Checksum(tensors)
	return m
}

// verify checks the stored checksum, if any, against the tensors.
func (f *File) verify() error {
	want, ok := f.meta[ChecksumKey]
	if !ok {
		return nil
	}
	if !strings.HasPrefix(want, crcPrefix) {
		return fmt.Errorf("%w: unknown checksum %q", ErrChecksum, want)
	}
	if got := Checksum(f.Tensors()); got != want {
		return fmt.Errorf("%w: tensor bytes hash to %s, the file says %s", ErrChecksum, got, want)
	}
	f.checksum = ChecksumVerified
	return nil
}

// Checksum reports whether the file's tensor bytes were verified on read.
func (f *File) Checksum() ChecksumStatus { return f.checksum }
