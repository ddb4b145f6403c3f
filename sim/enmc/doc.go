// Package enmc models ENMC, the near-memory extreme classifier of thesis
// chapter 6 (§6.4): rank-level Screener and Executor logic on a DDR4 DIMM,
// driven by instructions the host hides in PRECHARGE commands.
//
// So far it holds the instruction set of Table 6.1 in the 13-bit format of
// Fig. 6.7: Encode and Decode map an Inst to and from the command word on
// A0–A12 (opcode in A12–A8; two 4-bit buffer IDs, or a read/write bit and
// a 5-bit register), with a 64-bit DQ data burst for INIT, LDR and STR.
// AppendStream and ParseStream are the byte format of instruction streams.
// The rank model, compiler and host model are not written yet.
package enmc
