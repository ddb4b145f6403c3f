package lra

import (
	"fmt"

	"github.com/elasticml/elastic/fmnist"
)

// ImageValid is the number of Fashion-MNIST training images the Image
// task holds out for validation: the last 6000 of the 60000, so that
// train, valid and test are 54000, 6000 and the 10000 test images.
const ImageValid = 6000

// Image builds the Image task, LRA's grey-scale image classification with
// Fashion-MNIST for CIFAR-10: each 28×28 image is a sequence of 784 pixel
// intensities in row-major order, one token per 8-bit value (vocabulary
// 256), labelled with its class. dir is the data directory
// (fmnist.DefaultDir if empty). There is no random choice: the split is
// by position in the files.
func Image(dir string) (*Task, error) {
	tr, err := fmnist.Load(dir, fmnist.Train)
	if err != nil {
		return nil, fmt.Errorf("lra: image task: %w", err)
	}
	te, err := fmnist.Load(dir, fmnist.Test)
	if err != nil {
		return nil, fmt.Errorf("lra: image task: %w", err)
	}
	if tr.N <= ImageValid {
		return nil, fmt.Errorf("lra: image task: %d training images, want more than the %d held out", tr.N, ImageValid)
	}
	t := &Task{Name: "image", Vocab: 256, Classes: fmnist.Classes, MaxLen: fmnist.Pixels,
		ClassNames: append([]string(nil), fmnist.ClassNames[:]...)}
	t.Train = imageExamples(tr, 0, tr.N-ImageValid)
	t.Valid = imageExamples(tr, tr.N-ImageValid, tr.N)
	t.Test = imageExamples(te, 0, te.N)
	return t, nil
}

func imageExamples(s *fmnist.Set, lo, hi int) []Example {
	out := make([]Example, 0, hi-lo)
	for i := lo; i < hi; i++ {
		px := s.Image(i)
		tok := make([]int32, len(px))
		for j, v := range px {
			tok[j] = int32(v)
		}
		out = append(out, Example{Tokens: tok, Label: int32(s.Labels[i])})
	}
	return out
}
