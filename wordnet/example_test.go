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
