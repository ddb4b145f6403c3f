// Package safetensors reads and writes tensors in the safetensors format.
//
// # Overview
//
// A safetensors file is an 8-byte little-endian unsigned length N, then N
// bytes of UTF-8 JSON describing every tensor (dtype, shape and the
// [begin, end) byte range of its data) plus an optional "__metadata__"
// object of string pairs, then the data buffer itself. Offsets are relative
// to the start of the buffer, and tensor data is little-endian and
// row-major.
//
// Read and ReadFile validate a file completely before returning it: the
// header length is checked against the file size and MaxHeaderSize before
// anything is allocated, every dtype and shape is checked, every tensor's
// byte length must equal its element count times the dtype size, and the
// tensors must cover the data buffer exactly, without overlaps or holes, as
// the format requires. Each failure wraps one of the sentinel errors below
// (test with errors.Is) together with the name of the offending tensor.
// CheckFinite reports the first NaN or infinity by tensor name and index,
// so corrupted weights are caught at load time rather than as a wrong
// answer later.
//
// ReadHeader and ReadHeaderFile validate the header alone, as Read does,
// without reading the tensor bytes, so a caller can check the shapes and
// metadata of several files against each other before it loads any; Read
// is ReadHeader followed by the data.
//
// Write and WriteFile produce deterministic bytes: header keys in sorted
// order, the header padded with spaces so the data buffer starts on an
// 8-byte boundary (as the reference implementation does), and tensor data
// ordered by decreasing element size so that every tensor is naturally
// aligned. WriteFile replaces its target atomically.
//
// The format is small, so the package implements it directly instead of
// depending on a third-party library: every malformed-input path is then
// ours to define and to test, including by fuzzing.
//
// Supported dtypes are F16, BF16, F32, F64, I8, U8, I32 and I64. Float32s
// converts any floating-point tensor to float32; Float32ToFloat16 and
// Float32ToBFloat16 round to nearest even for compact storage.
package safetensors
