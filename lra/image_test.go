package lra

import (
	"errors"
	"os"
	"testing"

	"github.com/elasticml/elastic/fmnist"
)

// writeFMNIST writes n training and m test images whose pixel j of image
// i is (i+j) mod 256 and whose labels are i mod 10.
func writeFMNIST(t *testing.T, dir string, n, m int) {
	t.Helper()
	for _, sp := range []struct {
		s fmnist.Split
		n int
	}{{fmnist.Train, n}, {fmnist.Test, m}} {
		img := &fmnist.Idx{Dims: []int{sp.n, fmnist.Rows, fmnist.Cols}, Data: make([]byte, sp.n*fmnist.Pixels)}
		lab := &fmnist.Idx{Dims: []int{sp.n}, Data: make([]byte, sp.n)}
		for i := range sp.n {
			for j := range fmnist.Pixels {
				img.Data[i*fmnist.Pixels+j] = byte(i + j)
			}
			lab.Data[i] = byte(i % 10)
		}
		ip, lp := fmnist.Paths(dir, sp.s)
		if err := img.WriteFile(ip); err != nil {
			t.Fatal(err)
		}
		if err := lab.WriteFile(lp); err != nil {
			t.Fatal(err)
		}
	}
}

func TestImageTask(t *testing.T) {
	dir := t.TempDir()
	writeFMNIST(t, dir, ImageValid+7, 3)
	task, err := Image(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Train) != 7 || len(task.Valid) != ImageValid || len(task.Test) != 3 {
		t.Fatalf("splits %d/%d/%d, want 7/%d/3", len(task.Train), len(task.Valid), len(task.Test), ImageValid)
	}
	check := func(name string, e Example, i int) {
		if len(e.Tokens) != 784 || e.Label != int32(i%10) {
			t.Fatalf("%s %d: %d tokens, label %d", name, i, len(e.Tokens), e.Label)
		}
		for j, v := range e.Tokens {
			if v != int32(byte(i+j)) {
				t.Fatalf("%s %d: pixel %d is %d, want %d", name, i, j, v, byte(i+j))
			}
		}
	}
	check("train", task.Train[5], 5)
	check("valid", task.Valid[0], 7) // the valid split is the tail of the training file
	check("test", task.Test[2], 2)
}

func TestImageErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Image(dir); !errors.Is(err, fmnist.ErrMissing) {
		t.Errorf("empty directory: got %v, want fmnist.ErrMissing", err)
	}
	writeFMNIST(t, dir, 10, 1)
	if _, err := Image(dir); err == nil {
		t.Error("10 training images (fewer than the validation split) accepted")
	}
	writeFMNIST(t, dir, ImageValid+1, 1)
	ip, _ := fmnist.Paths(dir, fmnist.Test)
	if err := os.WriteFile(ip, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Image(dir); !errors.Is(err, fmnist.ErrFormat) {
		t.Errorf("corrupt test images: got %v, want fmnist.ErrFormat", err)
	}
}

// TestRealImage checks the task built from the installed Fashion-MNIST
// against bytes of the files (fmnist's TestRealFiles pins them).
func TestRealImage(t *testing.T) {
	if _, err := os.Stat(fmnist.DefaultDir); err != nil {
		t.Skipf("Fashion-MNIST not installed (%v): install the Debian package %s (make data)", err, fmnist.Package)
	}
	task, err := Image("")
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Train) != 54000 || len(task.Valid) != 6000 || len(task.Test) != 10000 {
		t.Fatalf("splits %d/%d/%d, want 54000/6000/10000", len(task.Train), len(task.Valid), len(task.Test))
	}
	for i, want := range []int32{9, 0, 0, 3, 0} {
		if task.Train[i].Label != want {
			t.Errorf("train label %d is %d, want %d", i, task.Train[i].Label, want)
		}
	}
	for i, want := range []int32{9, 2, 1, 1, 6} {
		if task.Test[i].Label != want {
			t.Errorf("test label %d is %d, want %d", i, task.Test[i].Label, want)
		}
	}
	px := []int32{0x0c, 0xdb, 0xdc, 0xd4, 0xda, 0xc0, 0xa9, 0xe3, 0xd0, 0xda, 0xe0, 0xd4, 0xe2, 0xc5, 0xd1, 0x34}
	for j, v := range px {
		if task.Train[0].Tokens[320+j] != v {
			t.Fatalf("train image 0 pixel %d is %d, want %d", 320+j, task.Train[0].Tokens[320+j], v)
		}
	}
}
