package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// predictedScores is the float64 value of every q̃_i·k̃_j with the
// quantized values and scales, the quantity PredictTopK ranks.
func predictedScores(q, k *Int8Rows) []float64 {
	s := make([]float64, q.Rows*k.Rows)
	for i := range q.Rows {
		for j := range k.Rows {
			var d int64
			for c := range q.Cols {
				d += int64(q.Q[i*q.Cols+c]) * int64(k.Q[j*k.Cols+c])
			}
			s[i*k.Rows+j] = float64(d) * float64(q.Scales[i]) * float64(k.Scales[j])
		}
	}
	return s
}

func TestPredictTopK(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	for _, c := range []struct{ n, l, cols, topk, block int }{
		{1, 1, 8, 1, 1}, {7, 7, 5, 3, 1}, {63, 130, 16, 13, 1}, {20, 130, 16, 5, 4},
		{33, 63, 19, 3, 8}, {5, 300, 64, 38, 8}, {9, 2000, 16, 100, 1}, {4, 50, 8, 0, 1},
	} {
		name := fmt.Sprintf("n%d_l%d_c%d_k%d_b%d", c.n, c.l, c.cols, c.topk, c.block)
		r := rand.New(rand.NewPCG(uint64(c.l), uint64(c.cols)))
		q := QuantizeRows(uniformFill(r, c.n*c.cols, 1), c.n, c.cols)
		k := QuantizeRows(uniformFill(r, c.l*c.cols, 3), c.l, c.cols)
		ref := predictedScores(q, k)
		pk := PackInt8(k)
		for _, pl := range []*Pool{nil, pool} {
			var sp SparseRows
			if pl == nil {
				sp = PredictTopK(q, pk, c.topk, c.block, nil)
			} else {
				sp = pl.PredictTopK(q, pk, c.topk, c.block, nil)
			}
			if err := sp.Validate(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if sp.Rows != c.n || sp.Cols != c.l || sp.K != c.topk || sp.Block != c.block {
				t.Fatalf("%s: pattern %+v", name, sp)
			}
			ng := (c.l + c.block - 1) / c.block
			for i := range c.n {
				// Group scores in float64; every kept group must score at
				// least every dropped one, up to float32 rounding.
				g := make([]float64, ng)
				for b := range g {
					g[b] = math.Inf(-1)
					for j := b * c.block; j < min((b+1)*c.block, c.l); j++ {
						g[b] = math.Max(g[b], ref[i*c.l+j])
					}
				}
				kept := make([]bool, ng)
				minKept := math.Inf(1)
				for _, s := range sp.Idx[i*c.topk : (i+1)*c.topk] {
					if int(s)%c.block != 0 {
						t.Fatalf("%s: row %d: start %d not aligned to %d", name, i, s, c.block)
					}
					kept[int(s)/c.block] = true
					minKept = math.Min(minKept, g[int(s)/c.block])
				}
				for b, v := range g {
					if !kept[b] && v > minKept+1e-6*math.Abs(minKept)+1e-30 {
						t.Fatalf("%s: row %d: dropped group %d scores %g above a kept one (%g)", name, i, b, v, minKept)
					}
				}
			}
		}
	}
}

func TestInt8RowsAppend(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	x := uniformFill(r, 5*6, 2)
	all := QuantizeRows(x, 5, 6)
	inc := QuantizeRows(x[:12], 2, 6)
	inc.Append(x[12:], 3)
	if inc.Rows != 5 || fmt.Sprint(inc.Q) != fmt.Sprint(all.Q) || fmt.Sprint(inc.Scales) != fmt.Sprint(all.Scales) {
		t.Errorf("appending rows gave %+v, quantizing at once %+v", inc, all)
	}
	packed := PackInt8(all)
	grown := NewPackedInt8(6)
	for i := range 5 {
		grown.Append(x[i*6:(i+1)*6], 1)
	}
	if fmt.Sprint(packed) != fmt.Sprint(grown) || packed.Rows != 5 || packed.groups != 1 {
		t.Errorf("PackedInt8 grown by rows %+v, packed at once %+v", grown, packed)
	}
	for i := range 5 {
		for c := range 6 {
			if d := math.Abs(float64(all.Scales[i])*float64(all.Q[i*6+c]) - float64(x[i*6+c])); d > float64(all.Scales[i])/2*1.0001 {
				t.Fatalf("row %d col %d: dequantized off by %g", i, c, d)
			}
		}
	}
}

func TestPredictTopKBadShapes(t *testing.T) {
	q := QuantizeRows(make([]float32, 8), 2, 4)
	k := PackInt8(QuantizeRows(make([]float32, 12), 3, 4))
	k5 := PackInt8(QuantizeRows(make([]float32, 15), 3, 5))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"topk above groups", func() { PredictTopK(q, k, 3, 2, nil) }},
		{"cols differ", func() { PredictTopK(q, k5, 1, 1, nil) }},
		{"block zero", func() { PredictTopK(q, k, 1, 0, nil) }},
		{"short idx", func() { PredictTopK(q, k, 2, 1, make([]int32, 3)) }},
		{"query -128", func() {
			bad := &Int8Rows{Rows: 1, Cols: 4, Q: []int8{1, -128, 0, 0}, Scales: []float32{1}}
			PredictTopK(bad, k, 1, 1, nil)
		}},
		{"key -128", func() { NewPackedInt8(2).AppendQuantized([]int8{-128, 3}, []float32{1}) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

// TestPredictKernels runs every predictor kernel, eight-query and
// one-query, against the float64 scores, on sizes that leave partial
// groups and quads.
func TestPredictKernels(t *testing.T) {
	for _, im := range predictImpls() {
		t.Run(im.name, func(t *testing.T) {
			if !im.ok {
				t.Skipf("CPU lacks %s", im.name)
			}
			for _, c := range []struct{ n, l, cols int }{{8, 16, 4}, {5, 37, 7}, {8, 100, 16}, {3, 1, 1}, {8, 250, 64}, {2, 20, 0}} {
				r := rand.New(rand.NewPCG(uint64(c.l), uint64(c.cols)))
				q := QuantizeRows(uniformFill(r, c.n*c.cols, 1), c.n, c.cols)
				km := QuantizeRows(uniformFill(r, c.l*c.cols, 2), c.l, c.cols)
				k := PackInt8(km)
				ref := predictedScores(q, km)
				ldy := k.groups*16 + 3
				y := make([]float32, 8*ldy)
				var qb predictQueries
				qb.q = make([]int8, k.c4*32)
				qb.load(q, 0, c.n)
				im.runGroups(k, 0, k.groups, &qb, y, ldy)
				for i := range c.n {
					// One-query kernel on the same row.
					y1 := make([]float32, k.groups*16)
					q1 := make([]int8, k.c4*4)
					copy(q1, q.Q[i*c.cols:(i+1)*c.cols])
					var corr int32
					for _, v := range q1 {
						corr -= 128 * int32(v)
					}
					im.run1(k.data, k.scales, k.groups, k.c4, q1, corr, q.Scales[i], y1)
					for j := range c.l {
						w := ref[i*c.l+j]
						tol := 1e-6*math.Abs(w) + 1e-30
						if d := math.Abs(float64(y[i*ldy+j]) - w); !(d <= tol) {
							t.Fatalf("%v: y[%d][%d] = %g, want %g", c, i, j, y[i*ldy+j], w)
						}
						if d := math.Abs(float64(y1[j]) - w); !(d <= tol) {
							t.Fatalf("%v one query: y[%d][%d] = %g, want %g", c, i, j, y1[j], w)
						}
					}
				}
			}
		})
	}
}

// TestRowSelectorIsTopK checks that the predictor's selection is exactly
// TopK's, on rows with ties, NaNs, sorted runs (where a strided sample
// misleads) and the fallback paths.
func TestRowSelectorIsTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{100, 250, 512, 513, 1024, 2000, 4099, 32768} {
		rs := newRowSelector(n)
		work := make([]int32, n)
		for trial := range 12 {
			y := uniformFill(r, n, 1)
			switch trial % 4 {
			case 1: // few distinct values: many ties at the threshold
				for i := range y {
					y[i] = float32(int(y[i] * 4))
				}
			case 2: // ascending: the largest all in the last stretch
				for i := range y {
					y[i] = float32(i)
				}
			case 3:
				for i := 0; i < n; i += 7 {
					y[i] = float32(math.NaN())
				}
			}
			for _, k := range []int{1, n / 100, n / 20, n / 10, n / 4} {
				if k < 1 {
					continue
				}
				got := make([]int32, k)
				rs.topK(got, y, k, work)
				want, _ := TopK(make([]int32, n), y, k, false)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("n=%d trial %d k=%d: selector %v…, TopK %v…", n, trial, k, got[:min(k, 8)], want[:min(k, 8)])
				}
			}
		}
	}
}

func TestFilterGE(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 15, 16, 17, 100, 1000} {
		y := uniformFill(r, n, 1)
		if n > 3 {
			y[3] = float32(math.NaN())
		}
		want := []int32{}
		for j, v := range y {
			if v >= 0.25 {
				want = append(want, int32(j))
			}
		}
		out := make([]int32, n+16)
		c := filterGE()(y, 0.25, out)
		if fmt.Sprint(out[:c]) != fmt.Sprint(want) {
			t.Errorf("n=%d: filter %v, want %v", n, out[:c], want)
		}
	}
}

func TestKthLargestKey(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{1, 2, 3, 10, 129, 1000} {
		for _, kind := range []string{"random", "equal", "ascending", "descending", "few"} {
			keys := make([]uint32, n)
			for i := range keys {
				switch kind {
				case "random":
					keys[i] = r.Uint32()
				case "equal":
					keys[i] = 7
				case "ascending":
					keys[i] = uint32(i)
				case "descending":
					keys[i] = uint32(n - i)
				case "few":
					keys[i] = uint32(r.IntN(3))
				}
			}
			sorted := slices.Clone(keys)
			slices.Sort(sorted)
			for _, k := range []int{1, (n + 1) / 2, n} {
				if got, want := kthLargestKey(slices.Clone(keys), k, make([]uint32, n)), sorted[n-k]; got != want {
					t.Fatalf("n=%d %s k=%d: %d, want %d", n, kind, k, got, want)
				}
			}
		}
	}
}
