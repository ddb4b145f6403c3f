package hnsw

import (
	"encoding/binary"
	"hash"
	"hash/crc32"
)

func newCRC() hash.Hash32 { return crc32.NewIEEE() }

func putU32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
