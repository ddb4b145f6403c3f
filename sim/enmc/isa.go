package enmc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Op is an ENMC operation (thesis Table 6.1).
type Op uint8

// The operations of Table 6.1, plus TRANSLATE (Fig. 6.8's Screener step
// that hands candidate indices to the instruction generator). INIT and
// QUERY share opcode 9 and differ in the read/write bit (Fig. 6.7b).
const (
	NOP Op = iota + 1
	MulAddFP32
	MulAddINT4
	AddINT4
	MulINT4
	AddFP32
	MulFP32
	Init
	Query
	Filter
	Sigmoid
	Softmax
	LDR
	STR
	Move
	Barrier
	Return
	Clr
	Translate
	numOps
)

// form is how an operation's 8 operand bits are used.
type form uint8

const (
	formNone form = iota // all 8 bits zero
	formOne              // buffer in bits 7–4, bits 3–0 zero
	formTwo              // buffers in bits 7–4 and 3–0 (Fig. 6.7a)
	formReg              // R/W bit 7, register in bits 6–2, bits 1–0 zero (Fig. 6.7b)
)

type opInfo struct {
	name   string
	opcode uint16
	form   form
	data   bool // a 64-bit DQ burst follows the command
}

// opTable lists each operation's opcode. Opcodes 2 (MUL_ADD_FP32) and 9
// (INIT/QUERY) are the ones Fig. 6.7 prints; the thesis gives no others,
// so the rest are ours. Opcodes 0 and 4 are never used: a PRECHARGE whose
// A0–A12 are all low, or only A10 (the all-bank flag) high, is an ordinary
// PRE or PREA, so no instruction may encode to 0x000 or 0x400.
func opTable() [numOps]opInfo {
	return [numOps]opInfo{
		NOP:        {"NOP", 1, formNone, false},
		MulAddFP32: {"MUL_ADD_FP32", 2, formTwo, false},
		MulAddINT4: {"MUL_ADD_INT4", 3, formTwo, false},
		AddINT4:    {"ADD_INT4", 5, formTwo, false},
		MulINT4:    {"MUL_INT4", 6, formTwo, false},
		AddFP32:    {"ADD_FP32", 7, formTwo, false},
		MulFP32:    {"MUL_FP32", 8, formTwo, false},
		Init:       {"INIT", 9, formReg, true},
		Query:      {"QUERY", 9, formReg, false},
		Filter:     {"FILTER", 10, formOne, false},
		Sigmoid:    {"SIGMOID", 11, formOne, false},
		Softmax:    {"SOFTMAX", 12, formOne, false},
		LDR:        {"LDR", 13, formOne, true},
		STR:        {"STR", 14, formOne, true},
		Move:       {"MOVE", 15, formTwo, false},
		Barrier:    {"BARRIER", 16, formNone, false},
		Return:     {"RETURN", 17, formNone, false},
		Clr:        {"CLR", 18, formNone, false},
		Translate:  {"TRANSLATE", 19, formOne, false},
	}
}

func (o Op) String() string {
	if o >= 1 && o < numOps {
		return opTable()[o].name
	}
	return fmt.Sprintf("Op(%d)", o)
}

// Buffer names an on-DIMM buffer (4-bit IDs; the numbering is ours).
type Buffer uint8

// The buffers of Fig. 6.6.
const (
	FeatINT4   Buffer = iota // Screener feature buffer
	WeightINT4               // Screener weight buffer
	PsumINT4                 // Screener partial sums
	FeatFP32                 // Executor feature buffer
	WeightFP32               // Executor weight buffer
	PsumFP32                 // Executor partial sums
	IndexBuf                 // candidate indices from the threshold filter
	OutputBuf                // output buffer returned to the host
	NumBuffers
)

// NumRegs is the number of status registers a 5-bit index names.
const NumRegs = 32

// Inst is one ENMC instruction.
type Inst struct {
	Op   Op
	A, B Buffer // operands of one- and two-buffer forms
	Reg  uint8  // register of INIT and QUERY
	Data uint64 // INIT value or LDR/STR DRAM address, sent on DQ
	// Next marks an LDR or STR at the buffer's stream pointer (the
	// address after the buffer's previous transfer, kept by the DIMM-side
	// address generator) instead of an address on DQ: our extension,
	// encoded in bit A0, which one-buffer forms leave zero.
	Next bool
}

// HasData reports whether inst's command is followed by a DQ data burst.
func (inst Inst) HasData() bool { return inst.Op.HasData() && !inst.Next }

// streams reports whether op may take the Next flag.
func (o Op) streams() bool { return o == LDR || o == STR }

// CABits is the width of an ENMC command on A0–A12.
const CABits = 13

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("enmc: malformed instruction")

// HasData reports whether op's command is followed by a DQ data burst.
func (o Op) HasData() bool { return o >= 1 && o < numOps && opTable()[o].data }

// Encode returns inst's 13-bit command word (bit i drives address pin
// Ai; the opcode is A12–A8). It rejects operands the form does not have.
func Encode(inst Inst) (uint16, error) {
	if inst.Op < 1 || inst.Op >= numOps {
		return 0, fmt.Errorf("enmc: encode: unknown operation %d", inst.Op)
	}
	info := opTable()[inst.Op]
	w := info.opcode << 8
	if inst.Next && !inst.Op.streams() {
		return 0, fmt.Errorf("enmc: encode: %s has no stream form", info.name)
	}
	if inst.Data != 0 && !inst.HasData() {
		return 0, fmt.Errorf("enmc: encode: %s carries no data", inst)
	}
	switch info.form {
	case formNone:
		if inst.A != 0 || inst.B != 0 || inst.Reg != 0 {
			return 0, fmt.Errorf("enmc: encode: %s takes no operands", info.name)
		}
	case formOne, formTwo:
		if inst.A >= NumBuffers || inst.B >= NumBuffers || inst.Reg != 0 {
			return 0, fmt.Errorf("enmc: encode: %s: buffers %d, %d (of %d), register %d", info.name, inst.A, inst.B, NumBuffers, inst.Reg)
		}
		if info.form == formOne && inst.B != 0 {
			return 0, fmt.Errorf("enmc: encode: %s takes one buffer", info.name)
		}
		w |= uint16(inst.A)<<4 | uint16(inst.B)
		if inst.Next {
			w |= 1
		}
	case formReg:
		if inst.Reg >= NumRegs || inst.A != 0 || inst.B != 0 {
			return 0, fmt.Errorf("enmc: encode: %s: register %d (of %d)", info.name, inst.Reg, NumRegs)
		}
		if inst.Op == Init {
			w |= 1 << 7
		}
		w |= uint16(inst.Reg) << 2
	}
	return w, nil
}

// Decode returns the instruction of command word w; data is the DQ burst
// that follows when the opcode carries one (ignored otherwise).
func Decode(w uint16, data uint64) (Inst, error) {
	if w>>CABits != 0 {
		return Inst{}, fmt.Errorf("%w: %#x has bits above A12", ErrMalformed, w)
	}
	opcode := w >> 8
	var op Op
	t := opTable()
	for o := Op(1); o < numOps; o++ {
		if t[o].opcode == opcode {
			op = o
			break
		}
	}
	if op == 0 {
		return Inst{}, fmt.Errorf("%w: %#x: opcode %d is not an ENMC instruction", ErrMalformed, w, opcode)
	}
	inst := Inst{Op: op}
	low := w & 0xff
	switch t[op].form {
	case formNone:
		if low != 0 {
			return Inst{}, fmt.Errorf("%w: %#x: %s with operand bits %#x", ErrMalformed, w, t[op].name, low)
		}
	case formOne, formTwo:
		inst.A, inst.B = Buffer(low>>4), Buffer(low&0xf)
		if inst.A >= NumBuffers || inst.B >= NumBuffers {
			return Inst{}, fmt.Errorf("%w: %#x: %s of buffers %d, %d (of %d)", ErrMalformed, w, t[op].name, inst.A, inst.B, NumBuffers)
		}
		if t[op].form == formOne && op.streams() && inst.B == 1 {
			inst.B, inst.Next = 0, true
		}
		if t[op].form == formOne && inst.B != 0 {
			return Inst{}, fmt.Errorf("%w: %#x: %s with a second buffer", ErrMalformed, w, t[op].name)
		}
	case formReg:
		if low&3 != 0 {
			return Inst{}, fmt.Errorf("%w: %#x: reserved bits A1–A0 set", ErrMalformed, w)
		}
		if low>>7 == 0 {
			inst.Op = Query
		} else {
			inst.Op = Init
		}
		inst.Reg = uint8(low>>2) & 0x1f
	}
	if inst.HasData() {
		inst.Data = data
	}
	return inst, nil
}

// AppendStream appends insts in the stream format: each command as two
// little-endian bytes (A0–A12, top three bits zero), followed by eight
// little-endian bytes of DQ data when the operation carries data.
func AppendStream(b []byte, insts []Inst) ([]byte, error) {
	for i, in := range insts {
		w, err := Encode(in)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", i, err)
		}
		b = binary.LittleEndian.AppendUint16(b, w)
		if in.HasData() {
			b = binary.LittleEndian.AppendUint64(b, in.Data)
		}
	}
	return b, nil
}

// MaxStream bounds the instructions ParseStream returns.
const MaxStream = 1 << 26

// ParseStream decodes a stream written by AppendStream.
func ParseStream(b []byte) ([]Inst, error) {
	var out []Inst
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return nil, fmt.Errorf("%w: stream ends inside the command at byte %d", ErrMalformed, off)
		}
		w := binary.LittleEndian.Uint16(b[off:])
		in, err := Decode(w, 0)
		if err != nil {
			return nil, fmt.Errorf("byte %d: %w", off, err)
		}
		off += 2
		if in.HasData() {
			if len(b)-off < 8 {
				return nil, fmt.Errorf("%w: %s at byte %d lacks its 8 data bytes", ErrMalformed, in.Op, off-2)
			}
			in.Data = binary.LittleEndian.Uint64(b[off:])
			off += 8
		}
		if len(out) == MaxStream {
			return nil, fmt.Errorf("%w: more than %d instructions", ErrMalformed, MaxStream)
		}
		out = append(out, in)
	}
	return out, nil
}

// String disassembles inst, e.g. "MUL_ADD_FP32 buf3, buf4", "INIT r7, 0x2a".
func (inst Inst) String() string {
	if inst.Op < 1 || inst.Op >= numOps {
		return inst.Op.String()
	}
	switch opTable()[inst.Op].form {
	case formOne:
		if inst.Next {
			return fmt.Sprintf("%s buf%d, next", inst.Op, inst.A)
		}
		if inst.Op.HasData() {
			return fmt.Sprintf("%s buf%d, %#x", inst.Op, inst.A, inst.Data)
		}
		return fmt.Sprintf("%s buf%d", inst.Op, inst.A)
	case formTwo:
		return fmt.Sprintf("%s buf%d, buf%d", inst.Op, inst.A, inst.B)
	case formReg:
		if inst.Op == Init {
			return fmt.Sprintf("INIT r%d, %#x", inst.Reg, inst.Data)
		}
		return fmt.Sprintf("QUERY r%d", inst.Reg)
	}
	return inst.Op.String()
}
