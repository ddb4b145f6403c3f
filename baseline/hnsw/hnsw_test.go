package hnsw

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/elasticml/elastic/clsmetrics"
	"github.com/elasticml/elastic/kernels"
)

// classifier returns rows random rows of dimension cols with log-normally
// skewed norms and a small bias, the hard case for inner-product search.
func classifier(rows, cols int, seed uint64) (w, b []float32) {
	rng := rand.New(rand.NewPCG(seed, 1))
	w = make([]float32, rows*cols)
	b = make([]float32, rows)
	for r := range rows {
		scale := math.Exp(0.3 * rng.NormFloat64())
		for j := range cols {
			w[r*cols+j] = float32(scale * rng.NormFloat64())
		}
		b[r] = float32(0.1 * rng.NormFloat64())
	}
	return w, b
}

func normals(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// exactLogits returns W·h + b in float64.
func exactLogits(w, b []float32, cols int, h []float32) []float64 {
	z := make([]float64, len(w)/cols)
	for r := range z {
		s := float64(b[r])
		for j, x := range h {
			s += float64(w[r*cols+j]) * float64(x)
		}
		z[r] = s
	}
	return z
}

func TestRecallAgainstBruteForce(t *testing.T) {
	const rows, cols, nq = 20_000, 32, 200
	w, b := classifier(rows, cols, 1)
	p := kernels.NewPool(2)
	defer p.Close()
	t0 := time.Now()
	x, err := Build(p, w, b, rows, cols, Config{M: 12, EfConstruction: 48, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d×%d in %v, %d links", rows, cols, time.Since(t0), x.Links())
	s := x.Searcher()
	recall := map[int]float64{}
	for _, ef := range []int{10, 100} {
		hits := 0
		for q := range nq {
			h := normals(cols, uint64(1000+q))
			ref := exactLogits(w, b, cols, h)
			best := int32(0)
			for i, v := range ref {
				if v > ref[best] {
					best = int32(i)
				}
			}
			ids, logits, err := s.Search(h, 5, ef)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 5 {
				t.Fatalf("ef=%d: %d results, want 5", ef, len(ids))
			}
			for k, id := range ids {
				if math.Abs(float64(logits[k])-ref[id]) > 1e-4*(1+math.Abs(ref[id])) {
					t.Fatalf("class %d: logit %v, exact %v", id, logits[k], ref[id])
				}
				if k > 0 && logits[k] > logits[k-1] {
					t.Fatalf("results not in descending order: %v", logits)
				}
			}
			if ids[0] == best {
				hits++
			}
		}
		recall[ef] = float64(hits) / nq
	}
	t.Logf("recall@1: %v", recall)
	if recall[100] < 0.95 {
		t.Errorf("recall@1 at efSearch=100 is %.3f, want ≥ 0.95", recall[100])
	}
	if recall[10] > recall[100] {
		t.Errorf("recall@1 falls from %.3f to %.3f as efSearch grows", recall[10], recall[100])
	}
}

func save(t testing.TB, x *Index) []byte {
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	const rows, cols = 3000, 16
	w, b := classifier(rows, cols, 2)
	p := kernels.NewPool(2)
	defer p.Close()
	build := func(p *kernels.Pool, seed uint64) []byte {
		x, err := Build(p, w, b, rows, cols, Config{M: 8, EfConstruction: 40, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return save(t, x)
	}
	one, two := build(nil, 7), build(p, 7)
	if !bytes.Equal(one, two) {
		t.Error("graph built on one worker differs from the graph built on two")
	}
	if !bytes.Equal(two, build(p, 7)) {
		t.Error("two builds with the same seed differ")
	}
	if bytes.Equal(one, build(nil, 8)) {
		t.Error("builds with different seeds are identical")
	}
}

func TestSaveLoad(t *testing.T) {
	const rows, cols = 2000, 12
	w, b := classifier(rows, cols, 3)
	for _, ippt := range []bool{false, true} {
		x, err := Build(nil, w, b, rows, cols, Config{M: 6, EfConstruction: 30, Seed: 3, IPPT: ippt})
		if err != nil {
			t.Fatal(err)
		}
		data := save(t, x)
		y, err := Load(bytes.NewReader(data), w, b, rows, cols)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, save(t, y)) {
			t.Errorf("IPPT=%v: saving a loaded index gives different bytes", ippt)
		}
		if y.Config() != x.Config() || y.Links() != x.Links() || y.Config().IPPT != ippt {
			t.Errorf("loaded %+v with %d links, saved %+v with %d", y.Config(), y.Links(), x.Config(), x.Links())
		}
		sx, sy := x.Searcher(), y.Searcher()
		for q := range 20 {
			h := normals(cols, uint64(q))
			a, la, _ := sx.Search(h, 3, 20)
			a = slices.Clone(a)
			c, _, _ := sy.Search(h, 3, 20)
			if !slices.Equal(a, c) {
				t.Fatalf("IPPT=%v input %d: loaded index finds %v, original %v", ippt, q, c, a)
			}
			// With or without IPPT, queries score by the exact logit.
			ref := exactLogits(w, b, cols, h)
			for k, id := range a {
				if math.Abs(float64(la[k])-ref[id]) > 1e-4*(1+math.Abs(ref[id])) {
					t.Fatalf("IPPT=%v class %d: logit %v, exact %v", ippt, id, la[k], ref[id])
				}
			}
		}
	}
}

// headerSize is the byte length of magic plus header.
const headerSize = 8 + 6*4 + 2*8 + 2*4

// fixCRC recomputes the trailing checksum of a (modified) file.
func fixCRC(data []byte) []byte {
	out := slices.Clone(data)
	if len(out) >= 4 {
		var c crcReader
		c.crc = newCRC()
		c.crc.Write(out[:len(out)-4])
		putU32(out[len(out)-4:], c.crc.Sum32())
	}
	return out
}

// blockOffset returns the file offset of node i's layer-lc link count.
func blockOffset(x *Index, i int32, lc int) int {
	off := headerSize + x.rows
	for j := range int32(x.rows) {
		for l := 0; l <= int(x.level[j]); l++ {
			if j == i && l == lc {
				return off
			}
			off += 4 * (1 + int(x.block(j, l)[0]))
		}
	}
	panic("no such block")
}

func TestLoadErrors(t *testing.T) {
	const rows, cols = 400, 6
	w, b := classifier(rows, cols, 4)
	x, err := Build(nil, w, b, rows, cols, Config{M: 3, EfConstruction: 20, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if x.top < 1 {
		t.Fatal("test needs a graph with an upper layer")
	}
	data := save(t, x)
	var low, high int32 = -1, -1 // a node on layer 0 only, one on layer 1
	for i, l := range x.level {
		if l == 0 && low < 0 {
			low = int32(i)
		}
		if l >= 1 && high < 0 && int32(i) != x.entry && len(x.neighbors(int32(i), 1)) > 0 {
			high = int32(i)
		}
	}
	if high < 0 {
		t.Fatal("no linked node on layer 1")
	}
	patch := func(off int, v uint32) []byte {
		d := slices.Clone(data)
		putU32(d[off:], v)
		return fixCRC(d)
	}
	o0 := blockOffset(x, 0, 0)
	o1 := blockOffset(x, high, 1)
	wrongW := slices.Clone(w)
	wrongW[5] += 1
	for _, tc := range []struct {
		name string
		data []byte
		w    []float32
		rows int
		want error
	}{
		{"empty", nil, w, rows, ErrFormat},
		{"bad magic", append([]byte("ELHNSW\x1a\n"), data[8:]...), w, rows, ErrFormat},
		{"truncated header", data[:20], w, rows, ErrFormat},
		{"truncated links", data[:len(data)/2], w, rows, ErrFormat},
		{"no checksum", data[:len(data)-4], w, rows, ErrFormat},
		{"flipped bit", func() []byte { d := slices.Clone(data); d[len(d)/2] ^= 4; return d }(), w, rows, ErrFormat},
		{"version", patch(8, 2), w, rows, ErrFormat},
		{"M too small", patch(20, 1), w, rows, ErrFormat},
		{"unknown flag", patch(28, 2), w, rows, ErrFormat},
		{"top level too high", patch(52, maxLevel+1), w, rows, ErrFormat},
		{"entry out of range", patch(48, rows), w, rows, ErrFormat},
		{"entry not on top", patch(48, uint32(low)), w, rows, ErrFormat},
		{"too many links", patch(o0, uint32(x.m0+1)), w, rows, ErrFormat},
		{"link out of range", patch(o0+4, rows), w, rows, ErrFormat},
		{"negative link", patch(o0+4, 1<<31), w, rows, ErrFormat},
		{"self link", patch(o0+4, 0), w, rows, ErrFormat},
		{"link below its layer", patch(o1+4, uint32(low)), w, rows, ErrFormat},
		{"other classifier", data, wrongW, rows, ErrMismatch},
		{"other shape", data, w[:(rows-1)*cols], rows - 1, ErrMismatch},
	} {
		_, err := Load(bytes.NewReader(tc.data), tc.w, b[:tc.rows], tc.rows, cols)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	const rows, cols = 60, 3
	w, b := classifier(rows, cols, 5)
	x, err := Build(nil, w, b, rows, cols, Config{M: 2, EfConstruction: 8, Seed: 5})
	if err != nil {
		f.Fatal(err)
	}
	data := save(f, x)
	f.Add(data)
	f.Add(data[:len(data)-7])
	f.Add(data[:headerSize+rows])
	f.Fuzz(func(t *testing.T, in []byte) {
		// The raw input exercises the checksum; with the checksum
		// repaired the fuzzer reaches the consistency checks.
		for _, d := range [][]byte{in, fixCRC(in)} {
			y, err := Load(bytes.NewReader(d), w, b, rows, cols)
			if err != nil {
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrMismatch) {
					t.Fatalf("error %v is neither ErrFormat nor ErrMismatch", err)
				}
				continue
			}
			ids, _, err := y.Searcher().Search(normals(cols, 1), 3, 10)
			if err != nil || len(ids) == 0 {
				t.Fatalf("search on a loaded index: %v, %v", ids, err)
			}
		}
	})
}

func TestBadInput(t *testing.T) {
	w, b := classifier(50, 4, 6)
	bad := slices.Clone(w)
	bad[9] = float32(math.NaN())
	if _, err := Build(nil, bad, b, 50, 4, Config{}); !errors.Is(err, clsmetrics.ErrNaN) {
		t.Errorf("NaN in W: err = %v, want ErrNaN", err)
	}
	x, err := Build(nil, w, b, 50, 4, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.Searcher().Search([]float32{1, float32(math.Inf(-1)), 0, 0}, 1, 10); !errors.Is(err, clsmetrics.ErrNaN) {
		t.Errorf("Inf in h: err = %v, want ErrNaN", err)
	}
	for name, f := range map[string]func(){
		"short w": func() { Build(nil, w[:7], b, 50, 4, Config{}) },
		"M = 1":   func() { Build(nil, w, b, 50, 4, Config{M: 1}) },
		"short h": func() { x.Searcher().Search(make([]float32, 3), 1, 10) },
		"k = 0":   func() { x.Searcher().Search(make([]float32, 4), 0, 10) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestSmallGraphs(t *testing.T) {
	// Every node is found when ef covers the whole graph.
	for _, rows := range []int{1, 2, 7} {
		w, b := classifier(rows, 3, uint64(rows))
		x, err := Build(nil, w, b, rows, 3, Config{M: 2})
		if err != nil {
			t.Fatal(err)
		}
		ids, _, err := x.Searcher().Search(normals(3, 9), rows+5, rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != rows {
			t.Errorf("%d rows: found %d", rows, len(ids))
		}
	}
}

func TestSweep(t *testing.T) {
	const rows, cols, nq = 3000, 16, 40
	w, b := classifier(rows, cols, 7)
	task, err := clsmetrics.NewTask(nil, w, b, rows, cols, normals(nq*cols, 8))
	if err != nil {
		t.Fatal(err)
	}
	x, err := Build(nil, w, b, rows, cols, Config{M: 8, EfConstruction: 40, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Sweep(task, x, nil, []int{1, 0, rows}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2 (ef=0 is skipped)", len(got))
	}
	for _, r := range got {
		if r.Method != MethodName || r.MsPerQuery <= 0 || r.Speedup <= 0 {
			t.Errorf("bad row %+v", r)
		}
	}
	if got[1].Top1 < 0.97 || got[1].Top5Recall < 0.97 || got[0].Top1 >= got[1].Top1 {
		t.Errorf("ef=1 %+v, ef=rows %+v: want agreement rising to ≈ 1", got[0], got[1])
	}
}
