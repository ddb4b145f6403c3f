package corpus

import "fmt"

// Batches lays a token stream out for truncated backpropagation through
// time, as PyTorch's word_language_model example does: the stream is cut
// into Batch equal columns, the tail that does not fill a column is
// dropped, and Data holds the result row-major, Steps rows of Batch
// tokens, so that Data[t*Batch+j] = stream[j*Steps+t]. Column j is one
// contiguous run of text read top to bottom, and a BPTT window of rows is
// a contiguous sub-slice of Data.
type Batches struct {
	Data  []int32
	Steps int
	Batch int
}

// Batchify returns stream laid out in batch columns. It panics if batch is
// not positive; a stream shorter than batch gives zero Steps.
func Batchify(stream []int32, batch int) *Batches {
	if batch <= 0 {
		panic(fmt.Sprintf("corpus: Batchify batch %d <= 0", batch))
	}
	steps := len(stream) / batch
	data := make([]int32, steps*batch)
	for j := range batch {
		col := stream[j*steps : (j+1)*steps]
		for t, id := range col {
			data[t*batch+j] = id
		}
	}
	return &Batches{Data: data, Steps: steps, Batch: batch}
}

// Window returns the BPTT window starting at row i, like get_batch in the
// PyTorch example: n = min(bptt, Steps-1-i) rows of input and the same rows
// shifted down by one as targets, both row-major n×Batch views into Data
// (not copies). Windows start at i = 0, bptt, 2*bptt, ... while
// i < Steps-1. It panics if bptt is not positive or i is outside
// [0, Steps-1).
func (b *Batches) Window(i, bptt int) (input, target []int32, n int) {
	if bptt <= 0 {
		panic(fmt.Sprintf("corpus: Window bptt %d <= 0", bptt))
	}
	if i < 0 || i >= b.Steps-1 {
		panic(fmt.Sprintf("corpus: Window row %d outside [0, %d)", i, b.Steps-1))
	}
	n = min(bptt, b.Steps-1-i)
	input = b.Data[i*b.Batch : (i+n)*b.Batch]
	target = b.Data[(i+1)*b.Batch : (i+1+n)*b.Batch]
	return input, target, n
}

// NumWindows returns how many windows of bptt rows cover the batches, the
// last possibly short.
func (b *Batches) NumWindows(bptt int) int {
	if bptt <= 0 {
		panic(fmt.Sprintf("corpus: NumWindows bptt %d <= 0", bptt))
	}
	if b.Steps < 2 {
		return 0
	}
	return (b.Steps - 1 + bptt - 1) / bptt
}
