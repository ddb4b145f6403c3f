package enmc

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

func smallTask(t *testing.T, batch, m int) *Task {
	t.Helper()
	task, err := SyntheticTask(64*300, 128, 64, batch, m, 3)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func TestCompile(t *testing.T) {
	task := smallTask(t, 2, 40)
	cfg := Table63Config()
	plans, err := Compile(task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 64 {
		t.Fatalf("%d plans for 64 ranks", len(plans))
	}
	rows, cand := 0, 0
	for _, p := range plans {
		if p.Layout.First != p.Rank || p.Layout.Stride != 64 || p.Layout.Rows != 300 {
			t.Fatalf("rank %d holds classes %d + 64i for %d rows, want %d + 64i, 300 rows", p.Rank, p.Layout.First, p.Layout.Rows, p.Rank)
		}
		rows += p.Layout.Rows
		// 300 rows of 32 bytes (k=64 INT4); a group is 64/2 = 32 rows
		// = 1024 bytes = 4 weight loads of 256 bytes.
		var loads, macs, filters, screenBytes int
		next := p.Layout.Screener
		for i, in := range p.Program {
			switch {
			case in.Op == LDR && in.A == WeightINT4:
				loads++
				screenBytes += p.Sizes[i]
				if in.Data != next {
					t.Fatalf("rank %d: weight load at %#x, want the next address %#x", p.Rank, in.Data, next)
				}
				next += uint64(p.Sizes[i])
			case in.Op == MulAddINT4:
				macs++
			case in.Op == Filter:
				filters++
			}
			if _, err := Encode(in); err != nil {
				t.Fatalf("rank %d instruction %d: %v", p.Rank, i, err)
			}
		}
		if screenBytes != p.Layout.Rows*32 || loads != macs || filters != (p.Layout.Rows+31)/32 {
			t.Errorf("rank %d: %d bytes in %d loads, %d MACs, %d filters", p.Rank, screenBytes, loads, macs, filters)
		}
		for g := range p.Groups {
			insts, sizes := p.Expand(g, task, cfg.BufferBytes)
			if len(insts) != len(sizes) {
				t.Fatal("sizes do not match instructions")
			}
			for _, c := range p.Groups[g] {
				cand += len(c)
			}
		}
	}
	if rows != task.Classes || cand != task.NumCandidates() {
		t.Errorf("ranks cover %d classes and %d candidates, want %d and %d", rows, cand, task.Classes, task.NumCandidates())
	}
	for name, bad := range map[string]func() (*Task, Config){
		"batch above PSUM": func() (*Task, Config) { return smallTask(t, 65, 1), cfg },
		"clock":            func() (*Task, Config) { c := cfg; c.ClockHz = 350_000_000; return task, c },
		"preset":           func() (*Task, Config) { c := cfg; c.Preset = "DDR9"; return task, c },
		"odd buffer":       func() (*Task, Config) { c := cfg; c.BufferBytes = 100; return task, c },
		"candidate range": func() (*Task, Config) {
			bt := *task
			bt.Candidates = [][]int32{{1, int32(task.Classes)}, {}}
			return &bt, cfg
		},
	} {
		tk, c := bad()
		if _, err := Compile(tk, c); err == nil {
			t.Errorf("%s: compiled", name)
		}
	}
}

func TestRunInvariants(t *testing.T) {
	for _, batch := range []int{1, 4} {
		task := smallTask(t, batch, 50)
		r, err := Run(task, Table63Config())
		if err != nil {
			t.Fatal(err)
		}
		if r.Cycles < r.BandwidthBound || r.Cycles < r.ComputeBound {
			t.Errorf("batch %d: %d cycles beat a bound (bandwidth %d, compute %d)", batch, r.Cycles, r.BandwidthBound, r.ComputeBound)
		}
		// Executed MACs = dense × (1 − skipped), and = candidates × dim.
		if r.FP32MACs != int64(r.Candidates*task.Dim) ||
			math.Abs(float64(r.FP32MACs)-float64(r.DenseFP32MACs)*(1-r.Skipped)) > 0.5 {
			t.Errorf("batch %d: %d FP32 MACs, %d candidates × %d, dense %d skipped %v", batch, r.FP32MACs, r.Candidates, task.Dim, r.DenseFP32MACs, r.Skipped)
		}
		if r.INT4MACs != int64(task.Classes*task.K*batch) {
			t.Errorf("batch %d: %d INT4 MACs, want %d", batch, r.INT4MACs, task.Classes*task.K*batch)
		}
		if r.ScreenerUtil > 1 || r.ExecutorUtil > 1 || r.ScreenerUtil <= 0 {
			t.Errorf("utilisation %v %v", r.ScreenerUtil, r.ExecutorUtil)
		}
		// Every candidate row read in full (128 floats), once per
		// candidate; every screener byte at least once.
		if r.ExecBytes < int64(r.Candidates*task.Dim*4) || r.ScreenBytes < int64(task.Classes*task.K/2) {
			t.Errorf("read %d executor and %d screener bytes", r.ExecBytes, r.ScreenBytes)
		}
		if r.EnergyUJ <= 0 || r.EnergyPartsUJ["logic"] <= 0 || r.EnergyPartsUJ["dram_static"] <= 0 {
			t.Errorf("energy %+v", r.EnergyPartsUJ)
		}
		again, err := Run(task, Table63Config())
		if err != nil || !reflect.DeepEqual(r, again) {
			t.Errorf("batch %d: two runs of the same task differ (%v)", batch, err)
		}
	}
}

// A 256-byte weight buffer holds four bursts, less than DDR4's
// bandwidth-delay product (19.2 GB/s × ≈17 ns), so a larger buffer must
// screen faster at batch 1.
func TestBufferBoundsBandwidth(t *testing.T) {
	task := smallTask(t, 1, 0)
	cycles := map[int]int64{}
	for _, b := range []int{256, 2048} {
		cfg := Table63Config()
		cfg.BufferBytes = b
		r, err := Run(task, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cycles[b] = r.Cycles
	}
	if cycles[2048] >= cycles[256] {
		t.Errorf("2 KB buffers %d cycles, 256 B %d: no bandwidth-delay effect", cycles[2048], cycles[256])
	}
}

func TestMoreCandidatesCostMore(t *testing.T) {
	few, err := Run(smallTask(t, 1, 5), Table63Config())
	if err != nil {
		t.Fatal(err)
	}
	many, err := Run(smallTask(t, 1, 2000), Table63Config())
	if err != nil {
		t.Fatal(err)
	}
	if many.ExecBytes <= few.ExecBytes || many.Cycles <= few.Cycles || many.GeneratedInstrs <= few.GeneratedInstrs {
		t.Errorf("2000 candidates: %d bytes %d cycles; 5: %d bytes %d cycles", many.ExecBytes, many.Cycles, few.ExecBytes, few.Cycles)
	}
}

func TestUnsupportedInstruction(t *testing.T) {
	task := smallTask(t, 1, 0)
	plans, err := Compile(task, Table63Config())
	if err != nil {
		t.Fatal(err)
	}
	p := plans[0]
	p.Program = append([]Inst{{Op: STR, A: OutputBuf, Data: 0}}, p.Program...)
	p.Sizes = append([]int{64}, p.Sizes...)
	if _, err := simulateRank(Table63Config(), task, p); err == nil || !strings.Contains(err.Error(), "not modelled") {
		t.Errorf("STR: %v", err)
	}
	p = plans[1]
	p.Program = []Inst{{Op: MulAddINT4, A: FeatINT4, B: WeightINT4}, {Op: Return}}
	p.Sizes = []int{0, 0}
	if _, err := simulateRank(Table63Config(), task, p); err == nil {
		t.Error("MUL_ADD before any load accepted")
	}
	for name, prog := range map[string][]Inst{
		"ended without RETURN": {{Op: Barrier}},
		"without a FILTER":     {{Op: Translate, A: IndexBuf}, {Op: Return}},
	} {
		p = plans[2]
		p.Program, p.Sizes, p.Groups = prog, make([]int, len(prog)), nil
		if _, err := simulateRank(Table63Config(), task, p); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTraceRoundTrip(t *testing.T) {
	task := smallTask(t, 3, 7)
	var b bytes.Buffer
	if err := WriteTrace(&b, task); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTrace(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, task) {
		t.Errorf("round trip:\n%+v\n%+v", got, task)
	}
	head := traceMagic + "\ntask classes=10 dim=8 k=4 batch=2\n"
	for name, bad := range map[string]string{
		"no header":        "task classes=10 dim=8 k=4 batch=1\nitem 0 0\n",
		"no task":          traceMagic + "\n",
		"missing field":    traceMagic + "\ntask classes=10 dim=8 k=4\n",
		"duplicate field":  traceMagic + "\ntask classes=10 classes=10 dim=8 k=4 batch=1\n",
		"k above dim":      traceMagic + "\ntask classes=10 dim=8 k=9 batch=1\nitem 0 0\n",
		"other classifier": head + "item 0 1 3\nitem 1 1 10\n",
		"count mismatch":   head + "item 0 2 3\nitem 1 0\n",
		"item order":       head + "item 1 0\nitem 0 0\n",
		"too few items":    head + "item 0 0\n",
		"unsorted":         head + "item 0 2 5 3\nitem 1 0\n",
		"duplicate":        head + "item 0 2 3 3\nitem 1 0\n",
		"not a number":     head + "item 0 1 x\nitem 1 0\n",
		"unknown record":   head + "weights 0\n",
		"second task":      head + "task classes=10 dim=8 k=4 batch=2\n",
	} {
		if _, err := ReadTrace(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzReadTrace(f *testing.F) {
	var b bytes.Buffer
	task, _ := SyntheticTask(100, 16, 8, 2, 3, 1)
	_ = WriteTrace(&b, task)
	f.Add(b.Bytes())
	f.Add([]byte(traceMagic + "\ntask classes=5 dim=4 k=2 batch=1\nitem 0 1 4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		task, err := ReadTrace(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteTrace(&out, task); err != nil {
			t.Fatalf("a parsed trace does not write: %v", err)
		}
		again, err := ReadTrace(&out)
		if err != nil || !reflect.DeepEqual(task, again) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestSyntheticTask(t *testing.T) {
	a, err := SyntheticTask(1000, 16, 8, 3, 10, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SyntheticTask(1000, 16, 8, 3, 10, 9)
	if !reflect.DeepEqual(a, b) || a.NumCandidates() != 30 {
		t.Error("same seed, different candidates, or wrong count")
	}
	if _, err := SyntheticTask(10, 16, 8, 1, 11, 1); err == nil {
		t.Error("more candidates than classes accepted")
	}
	if _, err := SyntheticTask(10, 16, 8, 0, 1, 1); err == nil {
		t.Error("batch 0 accepted")
	}
	if all, err := SyntheticTask(50, 16, 8, 1, 50, 1); err != nil || len(all.Candidates[0]) != 50 {
		t.Errorf("every class a candidate: %v", err)
	}
}

// Every class and candidate lands on exactly one rank under both
// partitions, and candidates clustered at low class indices (as Zipf-like
// vocabularies have them) are spread by interleaving, not by ranges.
func TestPartitions(t *testing.T) {
	task := smallTask(t, 2, 0)
	for b := range task.Candidates {
		task.Candidates[b] = nil
		for j := int32(b); j < 600; j += 2 { // 300 candidates among the first 600 classes
			task.Candidates[b] = append(task.Candidates[b], j)
		}
	}
	cycles := map[Partition]int64{}
	for _, part := range []Partition{Interleaved, Contiguous} {
		cfg := Table63Config()
		cfg.Partition = part
		plans, err := Compile(task, cfg)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]int, task.Classes)
		cand := 0
		for _, p := range plans {
			for i := range p.Layout.Rows {
				seen[p.Layout.First+i*p.Layout.Stride]++
			}
			for _, g := range p.Groups {
				for b, rows := range g {
					for _, r := range rows {
						j := int32(p.Layout.First + int(r)*p.Layout.Stride)
						if k := lowerBound(task.Candidates[b], j); k == len(task.Candidates[b]) || task.Candidates[b][k] != j {
							t.Fatalf("%v: rank %d row %d is class %d, not a candidate of item %d", part, p.Rank, r, j, b)
						}
						cand++
					}
				}
			}
		}
		for j, n := range seen {
			if n != 1 {
				t.Fatalf("%v: class %d on %d ranks", part, j, n)
			}
		}
		if cand != task.NumCandidates() {
			t.Errorf("%v: %d candidates placed, want %d", part, cand, task.NumCandidates())
		}
		r, err := Run(task, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cycles[part] = r.Cycles
	}
	if cycles[Interleaved] >= cycles[Contiguous] {
		t.Errorf("clustered candidates: interleaved %d cycles, contiguous %d", cycles[Interleaved], cycles[Contiguous])
	}
	if _, err := ParsePartition("striped"); err == nil {
		t.Error("unknown partition accepted")
	}
}

// Streaming loads change what the host sends, not what the rank reads.
func TestStreamLoads(t *testing.T) {
	task := smallTask(t, 1, 20)
	plain, err := Run(task, Table63Config())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Table63Config()
	cfg.StreamLoads = true
	plans, err := Compile(task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AppendStream(nil, plans[0].Program); err != nil {
		t.Fatalf("streamed program does not encode: %v", err)
	}
	st, err := Run(task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.RankCycles != plain.RankCycles || st.DRAMBytes != plain.DRAMBytes {
		t.Errorf("streamed: %d rank cycles, %d bytes; explicit: %d, %d", st.RankCycles, st.DRAMBytes, plain.RankCycles, plain.DRAMBytes)
	}
	if st.HostIssueCycles >= plain.HostIssueCycles {
		t.Errorf("host issue %d cycles streamed, %d explicit", st.HostIssueCycles, plain.HostIssueCycles)
	}
}

func TestCPUModel(t *testing.T) {
	cpu, err := Xeon8280()
	if err != nil {
		t.Fatal(err)
	}
	// Never above the 6 × 21.33 GB/s data buses; within 5 % of them less
	// the refresh share (467/10400). (A short stream may beat the refresh
	// share a little: a rank the stream is not reading refreshes for free.)
	if peak := 6 * 21.328; cpu.GBps > peak || cpu.GBps < 0.95*peak*(1-467.0/10400) {
		t.Errorf("Xeon model stream %.2f GB/s, peak %.2f", cpu.GBps, peak)
	}
	task := &Task{Classes: 1000, Dim: 64, K: 16, Batch: 2, Candidates: [][]int32{{1, 2, 3}, {2, 3, 4}}}
	if got, want := CPUFullBytes(task), int64(1000*(64*4+4)); got != want {
		t.Errorf("full bytes %d, want %d", got, want)
	}
	// Screener 1000 × (8 + 4) bytes, then the union {1,2,3,4} of rows.
	if got, want := CPUScreenBytes(task), int64(1000*12+4*64*4); got != want {
		t.Errorf("screen bytes %d, want %d", got, want)
	}
	rep := &Report{TimeUS: 2}
	if err := rep.Compare(task, rep.TimeUS, cpu, nil); err != nil {
		t.Fatal(err)
	}
	if math.Abs(rep.SpeedupVsCPUModel*2-rep.CPUFullUS) > 1e-9 || !rep.CPUCacheResident {
		t.Errorf("speed-up %v for %v µs, cache resident %v", rep.SpeedupVsCPUModel, rep.CPUFullUS, rep.CPUCacheResident)
	}
}

// Odd shapes: rows of k/2 bytes that are not whole bursts, k above the
// feature buffer (chunked), fewer classes than ranks.
func TestOddShapes(t *testing.T) {
	for _, tc := range []struct{ classes, dim, k, batch, m int }{
		{5000, 100, 33, 3, 3},
		{5000, 512, 512, 8, 3},
		{10, 64, 16, 1, 2},
	} {
		task, err := SyntheticTask(tc.classes, tc.dim, tc.k, tc.batch, tc.m, 1)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(task, Table63Config())
		if err != nil {
			t.Errorf("%+v: %v", tc, err)
			continue
		}
		if r.INT4MACs != int64(tc.classes*tc.k*tc.batch) && tc.k%2 == 0 {
			t.Errorf("%+v: %d INT4 MACs", tc, r.INT4MACs)
		}
		if r.FP32MACs != int64(tc.batch*tc.m*tc.dim) {
			t.Errorf("%+v: %d FP32 MACs", tc, r.FP32MACs)
		}
	}
}

// Any decodable program — however wrong — ends in a result or an error:
// no panic, no endless run.
func FuzzRankProgram(f *testing.F) {
	good, _ := AppendStream(nil, []Inst{{Op: LDR, A: FeatINT4, Data: 0}, {Op: LDR, A: WeightINT4, Data: 64},
		{Op: MulAddINT4, A: FeatINT4, B: WeightINT4}, {Op: Filter, A: PsumINT4}, {Op: Translate, A: IndexBuf}, {Op: Return}})
	f.Add(good)
	f.Add([]byte{0x00, 0x10}) // BARRIER only
	task := &Task{Classes: 64 * 4, Dim: 16, K: 8, Batch: 1, Candidates: [][]int32{{0, 64}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		prog, err := ParseStream(b)
		if err != nil || len(prog) > 64 {
			return
		}
		p := &Plan{Program: prog, Sizes: make([]int, len(prog)), Layout: Layout{Stride: 64, Rows: 4, RowBytes: 64},
			Groups: [][][]int32{{{0}}}}
		for i, in := range prog {
			if in.Op == LDR || in.Op == STR {
				p.Sizes[i] = 64
			}
			p.Program[i].Data %= 1 << 20 // inside the rank
		}
		_, _ = simulateRank(Table63Config(), task, p)
	})
}

// Table 6.5's rows sum to its printed totals, 0.442 mm² and 285.4 mW.
func TestTable65(t *testing.T) {
	a, p := Table65Total()
	if math.Abs(a-0.442) > 1e-9 || math.Abs(p-285.4) > 1e-9 || len(Table65()) != 6 {
		t.Errorf("Table 6.5 sums to %v mm², %v mW", a, p)
	}
}
