package safetensors_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/elasticml/elastic/safetensors"
)

func Example() {
	w := safetensors.FromFloat16("layer0.weight", []int{2, 2}, []float32{1, -0.5, 65504, 1e-8})
	b := safetensors.FromFloat32("layer0.bias", []int{2}, []float32{0.25, 3})

	var buf bytes.Buffer
	if err := safetensors.Write(&buf, []safetensors.Tensor{w, b}, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}

	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		log.Fatal(err)
	}
	if err := f.CheckFinite(); err != nil {
		log.Fatal(err)
	}
	for _, name := range f.Names() {
		t, _ := f.Tensor(name)
		v, _ := t.Float32s()
		fmt.Println(name, t.DType, t.Shape, v)
	}
	fmt.Println(f.Metadata())
	// Output:
	// layer0.bias F32 [2] [0.25 3]
	// layer0.weight F16 [2 2] [1 -0.5 65504 0]
	// map[format:pt]
}
