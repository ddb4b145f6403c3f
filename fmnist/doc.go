// Package fmnist reads Fashion-MNIST, the 28×28 grey clothing images of
// the thesis's sparse-training chapter (its "FASHION" data set), from the
// idx files that the Debian package dataset-fashion-mnist installs under
// /usr/share/datasets/fashion-mnist (make data installs it).
//
// # Overview
//
// Load returns one split, images and labels, as uint8 pixels and class
// indices. ReadIdx parses any unsigned-byte idx stream: a big-endian
// header (two zero bytes, the element type 0x08, the number of
// dimensions, then each dimension as a uint32) followed by the elements
// in row-major order. Everything is checked before memory is committed:
// the header's element count against a caller bound and against the
// length the file declares (its size for a plain file, the uncompressed
// size in the gzip trailer for a .gz), and after reading that exactly that
// many bytes arrived with nothing after them. Labels must lie in [0, 10)
// and an images file must match its labels file in count.
//
// A missing file gives an error wrapping ErrMissing, which names the
// package; a malformed one an error wrapping ErrFormat, which names the
// file. Nothing is cached and there is no package-level state.
package fmnist
