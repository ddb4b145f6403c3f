package enmc

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// Every 13-bit word either decodes to an instruction that encodes back to
// the same word, or is refused; ordinary PRE (0) and PREA (A10) words are
// refused, and no word above 13 bits decodes.
func TestDecodeEncodeExhaustive(t *testing.T) {
	valid := 0
	for w := 0; w < 1<<16; w++ {
		in, err := Decode(uint16(w), 0xdeadbeef)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%#x: error %v does not wrap ErrMalformed", w, err)
			}
			continue
		}
		if w >= 1<<CABits || w == 0 || w == 1<<10 {
			t.Fatalf("%#x decoded to %v", w, in)
		}
		got, err := Encode(in)
		if err != nil || got != uint16(w) {
			t.Fatalf("%#x → %v → %#x, %v", w, in, got, err)
		}
		if in.HasData() != (in.Data == 0xdeadbeef) {
			t.Fatalf("%#x: %v data %#x", w, in, in.Data)
		}
		valid++
	}
	// NOP BARRIER RETURN CLR; FILTER SIGMOID SOFTMAX LDR STR TRANSLATE
	// × 8 buffers, LDR and STR again with Next; seven two-buffer ops × 64;
	// INIT and QUERY × 32 registers.
	if want := 4 + 6*8 + 2*8 + 7*64 + 2*32; valid != want {
		t.Errorf("%d valid words, want %d", valid, want)
	}
}

func TestFigure67(t *testing.T) {
	// Fig. 6.7(a): MUL_ADD_FP32 buffer_0, buffer_1 = opcode 2, IDs 0 and 1.
	// Fig. 6.7(b): QUERY reg_7 and INIT reg_7, v = opcode 9, RD/WT, reg 7.
	for _, tc := range []struct {
		in   Inst
		want uint16
	}{
		{Inst{Op: MulAddFP32, A: 0, B: 1}, 2<<8 | 0<<4 | 1},
		{Inst{Op: Query, Reg: 7}, 9<<8 | 0<<7 | 7<<2},
		{Inst{Op: Init, Reg: 7, Data: 42}, 9<<8 | 1<<7 | 7<<2},
	} {
		got, err := Encode(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Encode(%v) = %#x, %v; want %#x", tc.in, got, err, tc.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, in := range []Inst{
		{Op: 0}, {Op: numOps}, {Op: 200},
		{Op: NOP, A: 1}, {Op: Barrier, Reg: 1},
		{Op: MulAddINT4, A: NumBuffers}, {Op: MulAddINT4, B: 15},
		{Op: Filter, B: 1}, {Op: LDR, Reg: 2},
		{Op: Init, Reg: NumRegs}, {Op: Query, A: 1},
		{Op: Softmax, A: PsumFP32, Data: 1}, {Op: Query, Data: 5},
		{Op: Filter, A: 1, Next: true}, {Op: LDR, A: 1, Next: true, Data: 8},
	} {
		if w, err := Encode(in); err == nil {
			t.Errorf("Encode(%+v) = %#x, want an error", in, w)
		}
	}
}

func sampleProgram() []Inst {
	return []Inst{
		{Op: Init, Reg: 0, Data: 0x4cea4fe2},
		{Op: LDR, A: FeatINT4, Data: 0x4fe3},
		{Op: LDR, A: WeightINT4, Data: 0x4a62},
		{Op: MulAddINT4, A: FeatINT4, B: WeightINT4},
		{Op: LDR, A: WeightINT4, Next: true},
		{Op: MulAddINT4, A: FeatINT4, B: WeightINT4},
		{Op: Filter, A: PsumINT4},
		{Op: Translate, A: IndexBuf},
		{Op: Barrier},
		{Op: LDR, A: WeightFP32, Data: 0x41eb},
		{Op: MulAddFP32, A: FeatFP32, B: WeightFP32},
		{Op: Softmax, A: PsumFP32},
		{Op: Move, A: PsumFP32, B: OutputBuf},
		{Op: Query, Reg: 31},
		{Op: Return},
		{Op: Clr},
	}
}

func TestStreamRoundTrip(t *testing.T) {
	prog := sampleProgram()
	b, err := AppendStream(nil, prog)
	if err != nil {
		t.Fatal(err)
	}
	// 16 commands × 2 bytes + 4 data bursts (INIT, 3 LDR; not the
	// streaming LDR) × 8 bytes.
	if len(b) != 16*2+4*8 {
		t.Errorf("stream of %d bytes, want %d", len(b), 16*2+4*8)
	}
	got, err := ParseStream(b)
	if err != nil || !reflect.DeepEqual(got, prog) {
		t.Fatalf("round trip: %v\n%v\n%v", err, got, prog)
	}
	for _, bad := range [][]byte{
		b[:1],                 // half a command
		b[:5],                 // INIT without all its data
		{0x00, 0x00},          // an ordinary PRECHARGE
		{0x00, 0x04},          // PREA (A10)
		{0x00, 0x20},          // bit 13 set
		{0x01, 0x01},          // NOP with operand bits
		{0x81, 0x02},          // MUL_ADD_FP32 of buffer 8
		{0x1f, 0x0a},          // FILTER with a second buffer
		{0x1d, 0x09, 1, 2, 3}, // INIT with reserved bits, truncated
		{0x00, 0x1f},          // opcode 31
	} {
		if _, err := ParseStream(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("stream % x: %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := AppendStream(nil, []Inst{{Op: NOP, A: 3}}); err == nil {
		t.Error("bad instruction streamed")
	}
}

func FuzzParseStream(f *testing.F) {
	good, _ := AppendStream(nil, sampleProgram())
	f.Add(good)
	f.Add([]byte{0x00, 0x00})
	f.Add([]byte{0x84, 0x09, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		insts, err := ParseStream(b)
		if err != nil {
			return
		}
		again, err := AppendStream(nil, insts)
		if err != nil {
			t.Fatalf("decoded stream does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded % x, input % x", again, b)
		}
	})
}

func ExampleEncode() {
	w, _ := Encode(Inst{Op: MulAddFP32, A: 0, B: 1})
	in, _ := Decode(w, 0)
	fmt.Printf("%013b %v\n", w, in)
	w, _ = Encode(Inst{Op: Init, Reg: 7, Data: 0x2a})
	fmt.Printf("%013b %v\n", w, Inst{Op: Init, Reg: 7, Data: 0x2a})
	// Output:
	// 0001000000001 MUL_ADD_FP32 buf0, buf1
	// 0100110011100 INIT r7, 0x2a
}
