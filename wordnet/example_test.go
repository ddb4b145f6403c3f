package wordnet_test

import (
	"fmt"

	"github.com/elasticml/elastic/wordnet"
)

func ExampleParseLine() {
	s, err := wordnet.ParseLine(`00002724 29 v 01 choke 0 001 @ 00001740 v 0000 01 + 02 00 | breathe with great difficulty; "She choked with emotion"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Key(), s.Lemmas, s.Pointers[0].Symbol, s.Pointers[0].Offset)
	fmt.Printf("%q %q\n", s.Definition, s.Examples)
	// Output:
	// 00002724-v [choke] @ 1740
	// "breathe with great difficulty" ["She choked with emotion"]
}

func ExampleSampler() {
	s := wordnet.NewSampler(1000, 1)
	cand, logQ, pos := s.Candidates([]int32{7, 42, 7}, 4)
	fmt.Println(len(cand), cand[:2], pos)
	fmt.Printf("%.3f %.3f\n", logQ[0], logQ[2]) // targets are certain; draws have q = 4/998
	// Output:
	// 6 [7 42] [0 1 0]
	// 0.000 -5.519
}
