package safetensors

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Write writes tensors and optional metadata to w in safetensors format.
//
// The output is deterministic: the header lists "__metadata__" first and
// then tensors by name; tensor data is laid out by decreasing element size,
// then by name, so each tensor is aligned to its element size; and the
// header is padded with spaces to a multiple of 8 bytes so the data buffer
// is 8-byte aligned. Invalid tensors or duplicate names return an error
// (wrapping the matching sentinel) before anything is written.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	order := make([]int, len(tensors))
	for i, t := range tensors {
		if err := t.validate(); err != nil {
			return err
		}
		if t.Name == metadataKey || !utf8.ValidString(t.Name) {
			return fmt.Errorf("tensor %q: %w", t.Name, ErrName)
		}
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(tensors[a].Name, tensors[b].Name) })
	for i := 1; i < len(order); i++ {
		if tensors[order[i]].Name == tensors[order[i-1]].Name {
			return fmt.Errorf("tensor %q: %w", tensors[order[i]].Name, ErrDuplicate)
		}
	}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: metadata %q is not valid UTF-8", ErrHeader, k)
		}
	}

	// Data layout: larger elements first, so alignment holds without padding.
	layout := slices.Clone(order)
	slices.SortStableFunc(layout, func(a, b int) int {
		return cmp.Compare(tensors[b].DType.Size(), tensors[a].DType.Size())
	})
	begin := make([]int, len(tensors))
	off := 0
	for _, i := range layout {
		begin[i] = off
		off += len(tensors[i].Data)
	}

	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		appendString(&h, metadataKey)
		h.WriteString(":{")
		for j, k := range slices.Sorted(maps.Keys(meta)) {
			if j > 0 {
				h.WriteByte(',')
			}
			appendString(&h, k)
			h.WriteByte(':')
			appendString(&h, meta[k])
		}
		h.WriteByte('}')
	}
	for j, i := range order {
		t := tensors[i]
		if j > 0 || len(meta) > 0 {
			h.WriteByte(',')
		}
		appendString(&h, t.Name)
		h.WriteString(`:{"dtype":"`)
		h.WriteString(t.DType.String())
		h.WriteString(`","shape":[`)
		for d, s := range t.Shape {
			if d > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(s))
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, begin[i], begin[i]+len(t.Data))
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}

	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(h.Len()))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	for _, i := range layout {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes tensors to path atomically: the data goes to a temporary
// file in the same directory, which is synced and then renamed over path,
// so readers see either the old file or the complete new one. The metadata
// written is meta plus the tensors' Checksum under ChecksumKey, replacing
// any value meta has there, which Read verifies.
func WriteFile(path string, tensors []Tensor, meta map[string]string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = Write(bw, tensors, withChecksum(tensors, meta)); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// appendString writes s as a JSON string. It escapes only what JSON
// requires, so names containing <, > or & stay readable.
func appendString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
