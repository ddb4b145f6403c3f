package corpus

import (
	"fmt"
	"slices"
	"testing"
)

func iota32(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}

func TestBatchify(t *testing.T) {
	cases := []struct{ n, batch int }{{26, 4}, {24, 4}, {3, 4}, {7, 1}, {1000, 20}}
	for _, c := range cases {
		b := Batchify(iota32(c.n), c.batch)
		steps := c.n / c.batch
		if b.Steps != steps || b.Batch != c.batch || len(b.Data) != steps*c.batch {
			t.Fatalf("Batchify(%d, %d): Steps %d Batch %d len %d", c.n, c.batch, b.Steps, b.Batch, len(b.Data))
		}
		// PyTorch: data.narrow(0, 0, steps*batch).view(batch, -1).t(),
		// so row t, column j holds stream[j*steps+t].
		for tt := range steps {
			for j := range c.batch {
				if got := b.Data[tt*c.batch+j]; got != int32(j*steps+tt) {
					t.Fatalf("Batchify(%d, %d): [%d][%d] = %d, want %d", c.n, c.batch, tt, j, got, j*steps+tt)
				}
			}
		}
	}
}

func TestWindow(t *testing.T) {
	b := Batchify(iota32(26), 4) // 6 rows; windows start at 0 and 4
	if got := b.NumWindows(4); got != 2 {
		t.Fatalf("NumWindows(4) = %d, want 2", got)
	}
	cases := []struct {
		i, bptt, n int
	}{{0, 4, 4}, {4, 4, 1}, {0, 35, 5}, {2, 1, 1}}
	for _, c := range cases {
		in, tg, n := b.Window(c.i, c.bptt)
		if n != c.n || len(in) != n*4 || len(tg) != n*4 {
			t.Fatalf("Window(%d, %d): n %d, %d inputs, %d targets; want n %d", c.i, c.bptt, n, len(in), len(tg), c.n)
		}
		for k := range in {
			// The target is the next token of the same column.
			if tg[k] != in[k]+1 || in[k] != b.Data[c.i*4+k] {
				t.Fatalf("Window(%d, %d)[%d]: input %d target %d", c.i, c.bptt, k, in[k], tg[k])
			}
		}
	}
	// Walking all windows sees every row but the last as input once.
	var seen []int32
	for w := range b.NumWindows(4) {
		in, _, _ := b.Window(w*4, 4)
		seen = append(seen, in...)
	}
	if !slices.Equal(seen, b.Data[:len(b.Data)-4]) {
		t.Errorf("windows cover %v", seen)
	}
	if got := Batchify(iota32(5), 4).NumWindows(35); got != 0 {
		t.Errorf("one-row batches have %d windows, want 0", got)
	}
}

func TestBatchPanics(t *testing.T) {
	b := Batchify(iota32(26), 4)
	cases := map[string]func(){
		"batch 0":      func() { Batchify(iota32(5), 0) },
		"bptt 0":       func() { b.Window(0, 0) },
		"row -1":       func() { b.Window(-1, 4) },
		"last row":     func() { b.Window(5, 4) },
		"windows of 0": func() { b.NumWindows(0) },
		"word id":      func() { newVocab(nil, 1).Word(2) },
		"sample -1":    func() { (&Corpus{}).Sample(-1) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func BenchmarkBatchify(b *testing.B) {
	stream := iota32(741153)
	b.SetBytes(int64(4 * len(stream)))
	for b.Loop() {
		Batchify(stream, 20)
	}
}

func ExampleBatchify() {
	// Ten tokens in three columns: the tail token 9 is dropped.
	b := Batchify([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 3)
	for t := range b.Steps {
		fmt.Println(b.Data[t*b.Batch : (t+1)*b.Batch])
	}
	in, target, n := b.Window(0, 35)
	fmt.Println(n, in, target)
	// Output:
	// [0 3 6]
	// [1 4 7]
	// [2 5 8]
	// 2 [0 3 6 1 4 7] [1 4 7 2 5 8]
}
